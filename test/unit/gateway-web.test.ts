import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { webRoutes } from '../../gateway/web/router.ts';
import { WEBHOOK_EVENTS } from '../../services/webhooks/events.ts';

const PAGES = ['/app/', '/app/batches', '/app/batch', '/app/webhooks', '/app/account'];

describe('the web dashboard routes', () => {
  it('serves every page as HTML with the shared head, always revalidated', async () => {
    for (const path of PAGES) {
      const res = await webRoutes.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const page = await res.text();
      expect(page).toContain('<script type="module" src="/app/app.js"></script>');
      expect(page).toMatch(/<body data-page="[a-z]+">/);
      expect(page).not.toContain('<!-- head -->');
    }
  });

  it('has no inline script, event handler or style attribute (they would break under the CSP)', async () => {
    for (const path of PAGES) {
      const page = await (await webRoutes.request(path)).text();
      expect(page, path).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
      expect(page, path).not.toMatch(/\son[a-z]+\s*=/i);
      expect(page, path).not.toMatch(/\sstyle\s*=/i);
      expect(page, path).not.toMatch(/<style/i);
    }
  });

  it('builds the page from data as text only: the client never parses strings as HTML', () => {
    const dir = join(import.meta.dirname, '../../gateway/web/static');
    const scripts = readdirSync(dir).filter((f) => f.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(3);
    for (const file of scripts) {
      const code = readFileSync(join(dir, file), 'utf8');
      expect(code, file).not.toMatch(
        /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/,
      );
    }
  });

  it("renders the webhook form's events from the server's list", async () => {
    const page = await (await webRoutes.request('/app/webhooks')).text();
    const values = [...page.matchAll(/name="events" value="([^"]+)"/g)].map((m) => m[1]);
    expect(values).toEqual([...WEBHOOK_EVENTS]);
  });

  it('serves the client files with their types, and nothing outside static/', async () => {
    const types = {
      '/app/app.js': 'text/javascript',
      '/app/app.css': 'text/css',
      '/app/favicon.svg': 'image/svg+xml',
    };
    for (const [path, type] of Object.entries(types)) {
      const res = await webRoutes.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
    }
    for (const path of [
      '/app/router.ts',
      '/app/..%2frouter.ts',
      '/app/missing',
      '/app/static/app.js',
      '/app/x.exe',
    ]) {
      expect((await webRoutes.request(path)).status, path).toBe(404);
    }
  });

  it('sends / and /app to the sign-in page', async () => {
    for (const path of ['/', '/app']) {
      const res = await webRoutes.request(path);
      expect(res.status).toBeGreaterThanOrEqual(301);
      expect(res.headers.get('location')).toBe('/app/');
    }
  });
});
