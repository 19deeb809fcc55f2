/**
 * The web dashboard: static pages under /app, each loading the same small vanilla-JS client
 * (static/app.js and its modules), which calls the REST API with the Bearer token it keeps in
 * sessionStorage. No inline script, handler or style anywhere, so the pages work under
 * `Content-Security-Policy: default-src 'self'`.
 *
 * The files are read once at start-up into memory and served by name only: a request can reach
 * nothing but the files of static/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Hono } from 'hono';
import { WEBHOOK_EVENTS } from '../../services/webhooks/events.ts';
import type { GatewayEnv } from '../env.ts';

const STATIC_DIR = join(import.meta.dirname, 'static');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface StaticFile {
  body: string;
  contentType: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** Every page's <head> lines but its title: the same stylesheet and client everywhere. */
const HEAD = [
  '<meta charset="utf-8">',
  '<meta name="viewport" content="width=device-width, initial-scale=1">',
  '<link rel="icon" href="/app/favicon.svg" type="image/svg+xml">',
  '<link rel="stylesheet" href="/app/app.css">',
  '<script type="module" src="/app/app.js"></script>',
].join('\n  ');

/** The webhook form's event checkboxes come from the server's own list, not a copy in the client. */
const eventCheckboxes = WEBHOOK_EVENTS.map(
  (e) =>
    `<label class="check"><input type="checkbox" name="events" value="${escapeHtml(e)}"> ${escapeHtml(e)}</label>`,
).join('\n');

function loadFiles(): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const name of readdirSync(STATIC_DIR)) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (!contentType) continue;
    const body = readFileSync(join(STATIC_DIR, name), 'utf8')
      .replace('<!-- head -->', HEAD)
      .replace('<!-- webhook-events -->', eventCheckboxes);
    files.set(name, { body, contentType });
  }
  return files;
}

const FILES = loadFiles();

/** `/app/` is the sign-in page, `/app/<page>` static/<page>.html, `/app/<file>.<ext>` that file. */
function serve(name: string): StaticFile | undefined {
  return FILES.get(extname(name) ? name : `${name || 'index'}.html`);
}

export const webRoutes = new Hono<GatewayEnv>();

webRoutes.get('/', (c) => c.redirect('/app/', 302));
webRoutes.get('/app', (c) => c.redirect('/app/', 301));
webRoutes.get('/app/:name{[a-z0-9-]*(?:\\.[a-z]+)?}', (c, next) => {
  const file = serve(c.req.param('name') ?? '');
  if (!file) return next();
  // Always revalidated: a deploy must reach open dashboards on their next page load.
  return c.body(file.body, 200, { 'content-type': file.contentType, 'cache-control': 'no-cache' });
});
