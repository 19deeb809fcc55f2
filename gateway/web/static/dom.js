// Building the page from data without ever parsing it as HTML: every value becomes a text node or an
// attribute value, so nothing a server or a lead file holds can turn into markup or script.

/**
 * `el('a', { href: '/x', class: 'btn' }, 'text', otherNode)`. Props are attributes (false/null/undefined
 * ones are left out); children are nodes or strings (text).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children.filter((c) => c !== null && c !== undefined).map(toNode));
  return node;
}

const toNode = (c) => (c instanceof Node ? c : document.createTextNode(String(c)));

export const byId = (id) => document.getElementById(id);

/** Replaces the element's content. */
export function fill(node, ...children) {
  node.replaceChildren(...children.filter((c) => c !== null && c !== undefined).map(toNode));
}

/** A message in the page's `role=status` / `role=alert` element: the API's own words. */
export function say(node, text, kind = 'info') {
  node.textContent = text;
  node.dataset.kind = kind;
  node.hidden = !text;
}

export function sayError(node, err) {
  say(node, err?.detail ?? err?.message ?? String(err), 'error');
}

/** A table: `columns` are [heading, (row) => cell content]; an empty `rows` shows `empty`. */
export function table(columns, rows, empty) {
  const head = el('thead', {}, el('tr', {}, ...columns.map(([h]) => el('th', { scope: 'col' }, h))));
  const body = el(
    'tbody',
    {},
    ...rows.map((row) => el('tr', {}, ...columns.map(([, cell]) => el('td', {}, cell(row) ?? '')))),
  );
  if (!rows.length) body.append(el('tr', {}, el('td', { colspan: columns.length, class: 'empty' }, empty)));
  return el('table', {}, head, body);
}

/** A list of [label, value] pairs; pairs whose value is empty are left out. */
export function facts(pairs) {
  const shown = pairs.filter(([, v]) => v !== '' && v !== undefined && v !== null);
  return el('dl', { class: 'facts' }, ...shown.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

export function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export const fmtNumber = (n) => (n === null || n === undefined ? '' : Number(n).toLocaleString());

/** A status word as a coloured badge (app.css: .badge.<status>). */
export const badge = (status) => el('span', { class: `badge ${String(status).toLowerCase()}` }, status);

/** Copies `text`, then says so on the button for a moment. */
export async function copyText(button, text) {
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch {
    button.textContent = 'Copy failed: select and copy by hand';
  }
  setTimeout(() => {
    button.textContent = label;
  }, 2000);
}
