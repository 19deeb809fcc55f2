// The dashboard's one entry point: every page loads it; <body data-page="..."> says which page it is.
import { accountPage } from './account.js';
import { onRateLimitWait, session, signOut } from './api.js';
import { batchPage } from './batch.js';
import { batchesPage } from './batches.js';
import { el, say } from './dom.js';
import { signInPage } from './signin.js';
import { webhooksPage } from './webhooks.js';

const PAGES = {
  signin: signInPage,
  batches: batchesPage,
  batch: batchPage,
  webhooks: webhooksPage,
  account: accountPage,
};

const NAV = [
  ['batches', '/app/batches', 'Batches'],
  ['webhooks', '/app/webhooks', 'Webhooks'],
  ['account', '/app/account', 'Account'],
];

function header(page) {
  const links = NAV.map(([id, href, label]) =>
    el(
      'a',
      {
        href,
        class: 'nav-link',
        'aria-current': id === page || (page === 'batch' && id === 'batches') ? 'page' : false,
      },
      label,
    ),
  );
  const out = el('button', { type: 'button', class: 'link', id: 'sign-out' }, 'Sign out');
  out.addEventListener('click', () => signOut());
  return [
    el('a', { href: '/app/batches', class: 'brand' }, 'Leedrush'),
    el('nav', {}, ...links),
    el('span', { class: 'who' }, session.email() ?? '', ' ', out),
  ];
}

function start() {
  const page = document.body.dataset.page;
  const signedIn = session.token() && session.expiresAt() > Date.now();
  if (page !== 'signin' && !signedIn) {
    signOut(session.token() ? 'Your session has ended: sign in again.' : '');
    return;
  }
  const notice = el('p', { id: 'notice', role: 'status', hidden: true });
  onRateLimitWait((s) =>
    say(notice, s ? `Rate limit reached: waiting ${s} s before trying again.` : '', 'warn'),
  );
  document.querySelector('header')?.append(...(page === 'signin' ? [] : header(page)));
  document.querySelector('main')?.prepend(notice);
  PAGES[page]?.();
}

start();
