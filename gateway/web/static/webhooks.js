// Webhook endpoints: create (the signing secret is shown this once and kept nowhere), list, delete,
// send a test event, and each endpoint's delivery log.
import { api } from './api.js';
import { badge, byId, copyText, el, fill, fmtTime, say, sayError, table } from './dom.js';

/** The log is written within about a second of an attempt: a few looks find a test event's. */
const LOG_POLL_MS = 2_000;
const LOG_POLL_TRIES = 12;

let selected = null;
let logTimer;

async function showDeliveries(endpoint, waitForEventId) {
  clearTimeout(logTimer);
  selected = endpoint;
  byId('deliveries-section').hidden = false;
  fill(byId('deliveries-title'), 'Delivery log of ', el('code', {}, endpoint.url));
  const state = byId('deliveries-state');
  let tries = 0;
  const look = async () => {
    try {
      const rows = await api('GET', `/webhooks/${encodeURIComponent(endpoint.id)}/deliveries?limit=50`);
      fill(
        byId('deliveries'),
        table(
          [
            ['Time', (d) => fmtTime(d.timestamp)],
            ['Event', (d) => d.event],
            ['Event id', (d) => el('code', {}, d.event_id)],
            ['Attempt', (d) => d.attempt],
            ['HTTP status', (d) => (d.status_code === 0 ? 'no answer' : d.status_code)],
            ['Result', (d) => badge(d.success ? 'delivered' : 'failed')],
            ['Latency', (d) => `${d.latency_ms} ms`],
            ['Error', (d) => d.error],
          ],
          rows,
          'No delivery attempts yet.',
        ),
      );
      const found = !waitForEventId || rows.some((d) => d.event_id === waitForEventId);
      if (!found && ++tries < LOG_POLL_TRIES) {
        say(state, 'Waiting for the test event’s delivery…');
        logTimer = setTimeout(look, LOG_POLL_MS);
      } else {
        say(
          state,
          found
            ? `${rows.length} attempts shown, newest first.`
            : 'The test event has not been attempted yet: refresh later.',
        );
      }
    } catch (err) {
      sayError(state, err);
    }
  };
  await look();
}

async function sendTest(endpoint, button) {
  const message = byId('webhooks-message');
  button.disabled = true;
  try {
    const queued = await api('POST', `/webhooks/${encodeURIComponent(endpoint.id)}/test`);
    say(message, `Test event ${queued.event_id} queued for ${endpoint.url}.`, 'ok');
    await showDeliveries(endpoint, queued.event_id);
  } catch (err) {
    sayError(message, err);
  } finally {
    button.disabled = false;
  }
}

async function remove(endpoint) {
  const message = byId('webhooks-message');
  if (!confirm(`Delete the endpoint ${endpoint.url}? Pending deliveries to it are dropped.`)) return;
  try {
    await api('DELETE', `/webhooks/${encodeURIComponent(endpoint.id)}`);
    say(message, `Deleted ${endpoint.url}.`, 'ok');
    if (selected?.id === endpoint.id) {
      clearTimeout(logTimer);
      byId('deliveries-section').hidden = true;
    }
    await refresh();
  } catch (err) {
    sayError(message, err);
  }
}

function actions(endpoint) {
  const button = (label, cls, fn) => {
    const b = el(
      'button',
      { type: 'button', class: cls, 'data-action': label.toLowerCase().replaceAll(' ', '-') },
      label,
    );
    b.addEventListener('click', () => fn(b));
    return b;
  };
  return el(
    'span',
    { class: 'actions', 'data-endpoint-id': endpoint.id },
    button('Send test event', 'secondary', (b) => sendTest(endpoint, b)),
    button('Delivery log', 'secondary', () => showDeliveries(endpoint)),
    button('Delete', 'danger', () => remove(endpoint)),
  );
}

async function refresh() {
  try {
    const endpoints = await api('GET', '/webhooks');
    fill(
      byId('webhooks'),
      table(
        [
          ['URL', (e) => el('code', {}, e.url)],
          ['Events', (e) => e.events.join(', ')],
          ['Created', (e) => fmtTime(e.created_at)],
          ['', actions],
        ],
        endpoints,
        'No endpoints yet.',
      ),
    );
  } catch (err) {
    sayError(byId('webhooks-message'), err);
  }
}

function createForm() {
  const form = byId('webhook-form');
  const message = byId('webhook-form-message');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    say(message, '');
    try {
      const created = await api('POST', '/webhooks', {
        url: String(data.get('url')),
        events: data.getAll('events'),
      });
      byId('secret-value').textContent = created.secret;
      fill(byId('secret-endpoint'), el('code', {}, created.url));
      byId('secret-panel').hidden = false;
      form.reset();
      await refresh();
    } catch (err) {
      sayError(message, err);
    } finally {
      button.disabled = false;
    }
  });
  byId('secret-copy').addEventListener('click', (e) =>
    copyText(e.currentTarget, byId('secret-value').textContent ?? ''),
  );
  byId('secret-dismiss').addEventListener('click', () => {
    byId('secret-value').textContent = '';
    byId('secret-panel').hidden = true;
  });
  byId('deliveries-refresh').addEventListener('click', () => selected && showDeliveries(selected));
}

export function webhooksPage() {
  createForm();
  refresh();
}
