// Upload a lead file with progress, start its batch, and the batch list, polled while batches run.
import { api, upload } from './api.js';
import { badge, byId, el, fill, fmtBytes, fmtNumber, fmtTime, say, sayError, table } from './dom.js';

const PAGE_SIZE = 20;
/** Well inside the payg plan's 30 requests a minute, with room for everything else the user does. */
const POLL_MS = 5_000;
/** Paused batches wait for credits, which take minutes at least. */
const PAUSED_POLL_MS = 30_000;
const RUNNING = new Set(['queued', 'processing']);

let offset = 0;
let timer;

export const batchLink = (id) => el('a', { href: `/app/batch?id=${encodeURIComponent(id)}` }, id);

const COLUMNS = [
  ['Batch', (b) => batchLink(b.batch_id)],
  ['File', (b) => b.filename],
  ['Status', (b) => badge(b.status)],
  ['Rows', (b) => fmtNumber(b.rows_total)],
  ['Qualified', (b) => fmtNumber(b.rows_qualified)],
  ['Failed', (b) => fmtNumber(b.rows_failed)],
  [
    'Yield %',
    (b) => (b.quality_yield === null || b.quality_yield === undefined ? '' : b.quality_yield.toFixed(1)),
  ],
  ['Created', (b) => fmtTime(b.created_at)],
  ['Completed', (b) => fmtTime(b.completed_at)],
];

async function refresh() {
  clearTimeout(timer);
  const state = byId('batches-state');
  try {
    const page = await api('GET', `/batches?limit=${PAGE_SIZE}&offset=${offset}`);
    fill(byId('batches'), table(COLUMNS, page.items, 'No batches yet: upload a file above.'));
    byId('batches-prev').disabled = offset === 0;
    byId('batches-next').disabled = !page.has_more;
    const shown = page.items.length ? `${offset + 1}–${offset + page.items.length} of ${page.total}` : '';
    const running = page.items.some((b) => RUNNING.has(b.status));
    const paused = page.items.some((b) => b.status === 'paused');
    const next = running ? POLL_MS : paused ? PAUSED_POLL_MS : 0;
    say(state, [shown, next ? `updating every ${next / 1000} s` : 'up to date'].filter(Boolean).join(' · '));
    state.dataset.polling = String(next > 0);
    if (next) timer = setTimeout(refresh, next);
  } catch (err) {
    sayError(state, err);
    timer = setTimeout(refresh, POLL_MS * 2);
  }
}

function uploadForm() {
  const form = byId('upload-form');
  const progress = byId('upload-progress');
  const message = byId('upload-message');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const file = form.elements.file.files[0];
    if (!file) return say(message, 'Choose a CSV or JSON file first.', 'error');
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    try {
      const stored = await upload(file, (loaded, total) => {
        progress.value = Math.round((loaded / total) * 100);
        say(
          message,
          `Uploading ${file.name}: ${progress.value}% (${fmtBytes(loaded)} of ${fmtBytes(total)})`,
        );
      });
      say(
        message,
        `Uploaded ${stored.filename} (${fmtNumber(stored.rows_detected)} rows): starting the batch…`,
      );
      const batch = await api('POST', '/process', { file_path: stored.file_path });
      fill(
        message,
        'Batch ',
        batchLink(batch.batch_id),
        ` ${batch.status}: ${fmtNumber(batch.rows_total)} rows.`,
      );
      message.dataset.kind = 'ok';
      form.reset();
      offset = 0;
      await refresh();
    } catch (err) {
      sayError(message, err);
    } finally {
      button.disabled = false;
    }
  });
}

export function batchesPage() {
  uploadForm();
  byId('batches-prev').addEventListener('click', () => {
    offset = Math.max(0, offset - PAGE_SIZE);
    refresh();
  });
  byId('batches-next').addEventListener('click', () => {
    offset += PAGE_SIZE;
    refresh();
  });
  refresh();
}
