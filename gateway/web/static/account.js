// The account: who is signed in, the access token (its expiry, copy it for scripts) and the plan with
// its credit balance (GET /api/billing/subscription, API.md "Billing").
import { api, session } from './api.js';
import { badge, byId, copyText, el, facts, fill, fmtNumber, sayError } from './dom.js';

function minutesLeft() {
  const ms = session.expiresAt() - Date.now();
  if (ms <= 0) return 'expired';
  const min = Math.floor(ms / 60_000);
  return min >= 1 ? `in ${min} min` : 'in less than a minute';
}

function tokenCard() {
  const expiry = byId('token-expiry');
  const show = () => {
    expiry.textContent = `${new Date(session.expiresAt()).toLocaleString()} (${minutesLeft()})`;
  };
  show();
  setInterval(show, 30_000);
  const value = byId('token-value');
  value.value = session.token() ?? '';
  byId('token-show').addEventListener('click', (e) => {
    const hidden = value.type === 'password';
    value.type = hidden ? 'text' : 'password';
    e.currentTarget.textContent = hidden ? 'Hide' : 'Show';
  });
  byId('token-copy').addEventListener('click', (e) => copyText(e.currentTarget, session.token() ?? ''));
}

async function whoami() {
  try {
    const me = await api('GET', '/auth/whoami');
    fill(
      byId('who'),
      facts([
        ['Email', me.email],
        ['Company', me.company],
        ['Plan', el('code', {}, me.plan_id)],
        ['User id', el('code', {}, me.user_id)],
        ['Account id', el('code', {}, me.account_id)],
      ]),
    );
  } catch (err) {
    sayError(byId('who-message'), err);
  }
}

async function plan() {
  const card = byId('plan');
  try {
    const s = await api('GET', '/billing/subscription');
    card.dataset.state = 'available';
    fill(
      card,
      el(
        'p',
        { class: 'plan-name' },
        s.plan_name,
        ' ',
        el('span', { class: 'muted' }, `(${s.plan_id})`),
        ' ',
        badge(s.status),
      ),
      el(
        'p',
        { class: 'credits' },
        el('strong', { id: 'credits-remaining' }, fmtNumber(s.credits_remaining)),
        ` of ${fmtNumber(s.credits_total)} credits left`,
      ),
      el('progress', { max: s.credits_total || 1, value: s.credits_remaining }),
      el('p', { class: 'muted' }, `Billing cycle ${s.billing_cycle_start} – ${s.billing_cycle_end}`),
    );
  } catch (err) {
    card.dataset.state = 'error';
    fill(card, '');
    sayError(byId('plan-message'), err);
  }
}

export function accountPage() {
  tokenCard();
  whoami();
  plan();
}
