// One batch: its figures (GET /api/batches/{id}, polled until it finishes) and, once completed, its
// leads as a table (the JSON download) with CSV and JSON downloads.
import { api, download } from './api.js';
import { badge, byId, el, facts, fill, fmtNumber, fmtTime, say, sayError, table } from './dom.js';

const POLL_MS = 5_000;
/** Rows drawn in the page; the downloads always carry every row. */
const MAX_TABLE_ROWS = 500;
const FINISHED = new Set(['completed', 'failed']);

const batchId = () => new URLSearchParams(location.search).get('id') ?? '';
const includeAll = () => byId('include-all').checked;
const downloadPath = (format) =>
  `/batches/${encodeURIComponent(batchId())}/download?format=${format}${includeAll() ? '&include=all' : ''}`;

const percent = (x) => (typeof x === 'number' ? `${(x * 100).toFixed(1)} %` : '');

function summary(b) {
  const m = b.phase3_metrics ?? {};
  return facts([
    ['Status', badge(b.status)],
    ['File', b.filename],
    ['Rows', fmtNumber(b.rows_total)],
    ['Processed', fmtNumber(b.leads_processed)],
    ['Qualified', fmtNumber(b.rows_qualified)],
    ['Failed', fmtNumber(b.rows_failed)],
    ['Duplicates', fmtNumber(b.rows_duplicate)],
    ['Quality yield', typeof b.quality_yield === 'number' ? `${b.quality_yield.toFixed(1)} %` : ''],
    ['Created', fmtTime(b.created_at)],
    ['Completed', fmtTime(b.completed_at)],
    ['Error', b.error_reason],
    ['Enrichment cache hit rate', percent(m.cache_hit_rate)],
    ['Average confidence', percent(m.avg_confidence)],
  ]);
}

const LEAD_COLUMNS = [
  ['Status', (l) => badge(l.status)],
  ['Score', (l) => (typeof l.score === 'number' ? l.score.toFixed(1) : '')],
  ['Name', (l) => l.contact?.full_name],
  ['Title', (l) => l.contact?.title_normalized],
  ['Email', (l) => l.contact?.email],
  ['Email status', (l) => l.contact?.email_status],
  ['Phone', (l) => l.contact?.phone],
  ['Phone status', (l) => l.contact?.phone_status],
  ['Company', (l) => l.account?.name],
  ['Domain', (l) => l.account?.domain],
  ['Dedup confidence', (l) => (typeof l.dedup_confidence === 'number' ? l.dedup_confidence.toFixed(2) : '')],
];

async function showResults() {
  const state = byId('results-state');
  say(state, 'Loading results…');
  try {
    const leads = await api('GET', downloadPath('json'));
    fill(byId('results'), table(LEAD_COLUMNS, leads.slice(0, MAX_TABLE_ROWS), 'No leads to show.'));
    say(
      state,
      leads.length > MAX_TABLE_ROWS
        ? `${fmtNumber(leads.length)} leads; the first ${MAX_TABLE_ROWS} are shown, the downloads hold all.`
        : `${fmtNumber(leads.length)} leads.`,
    );
    state.dataset.count = String(leads.length);
  } catch (err) {
    sayError(state, err);
  }
}

function downloads() {
  const message = byId('download-message');
  for (const format of ['csv', 'json']) {
    const button = byId(`download-${format}`);
    button.addEventListener('click', async () => {
      button.disabled = true;
      say(message, '');
      try {
        await download(downloadPath(format), `${batchId()}.${format}`);
      } catch (err) {
        sayError(message, err);
      } finally {
        button.disabled = false;
      }
    });
  }
  byId('include-all').addEventListener('change', showResults);
}

async function load() {
  const message = byId('batch-message');
  try {
    const b = await api('GET', `/batches/${encodeURIComponent(batchId())}`);
    fill(byId('batch-summary'), summary(b));
    if (!FINISHED.has(b.status)) {
      say(
        message,
        `The results are ready once the batch is completed; this page updates every ${POLL_MS / 1000} s.`,
      );
      setTimeout(load, POLL_MS);
      return;
    }
    say(message, '');
    if (b.status === 'completed') {
      byId('results-section').hidden = false;
      await showResults();
    }
  } catch (err) {
    sayError(message, err);
  }
}

export function batchPage() {
  fill(byId('batch-title'), 'Batch ', el('code', {}, batchId()));
  downloads();
  load();
}
