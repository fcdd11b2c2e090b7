// Small page-building helpers shared by the pages: the page frame, error and empty notices,
// tabs, a toast, loading a promise into a box, and a plain data table.
import { h, mount } from './dom.js';
import { t } from './i18n.js';
import { ApiError, errorText } from './api.js';

/** The standard page frame: a heading, optional tools on the right, then the content. */
export function pageFrame(title, tools, ...content) {
  document.title = title + ' - ' + t('app.name');
  return h('section.page',
    h('div.page-head', h('h1', title), tools ? h('div.page-tools', tools) : null),
    ...content);
}

/** An error notice for an API failure (or any error). */
export function errorNotice(err) {
  return h('div.notice.notice-error', { role: 'alert' }, errorText(err));
}

/**
 * Runs load() and mounts what render(result) answers into box, or an error notice. A 401 is left
 * to the session handler. Answers the result (undefined on failure).
 */
export async function loadInto(box, load, render) {
  box.setAttribute('aria-busy', 'true');
  if (!box.firstChild) mount(box, h('p.muted', t('common.loading')));
  try {
    const res = await load();
    mount(box, render(res));
    return res;
  } catch (err) {
    if (err && err.name === 'AbortError') return undefined;
    if (!(err instanceof ApiError)) throw err;
    if (err.status === 401) return undefined;
    mount(box, err.status === 404 && err.code === 'not_found' ? h('div.notice.notice-info', t('error.feature_unavailable')) : errorNotice(err));
    return undefined;
  } finally {
    box.removeAttribute('aria-busy');
  }
}

/** A data table: cols [{key, label, render(row)}]; rows become cards on narrow screens. */
export function dataTable(cols, rows, opts = {}) {
  if (!rows || rows.length === 0) return h('p.empty', opts.empty || t('common.empty'));
  return h('div.table-wrap',
    h('table.data.cards-on-narrow', { class: opts.className },
      opts.caption ? h('caption.sr-only', opts.caption) : null,
      h('thead', h('tr', cols.map((c) => h('th', { scope: 'col' }, c.label)))),
      h('tbody', rows.map((r) => h('tr', { class: opts.rowClass ? opts.rowClass(r) : undefined },
        cols.map((c) => h('td', { dataset: { label: c.label } }, c.render ? c.render(r) : String(r[c.key] ?? t('common.none')))))))));
}

/** Tabs as links: items [{href, label, current, count}]. */
export function tabs(items, label) {
  return h('nav.tabs', { 'aria-label': label },
    items.map((i) => h('a.tab', { href: i.href, 'aria-current': i.current ? 'page' : undefined },
      i.label, i.count !== undefined && i.count !== null ? h('span.tab-count', String(i.count)) : null)));
}

let toastEl = null;
let toastTimer = null;
/** A passing confirmation at the bottom of the screen. */
export function toast(text, opts = {}) {
  if (!toastEl || !toastEl.isConnected) {
    toastEl = h('div.toast', { role: 'status', 'aria-live': 'polite' });
    document.body.append(toastEl);
  }
  // A failure must not look like a success: red, labelled as a failure, announced at once, kept longer.
  const error = !!opts.error;
  toastEl.classList.toggle('toast-error', error);
  toastEl.setAttribute('role', error ? 'alert' : 'status');
  toastEl.setAttribute('aria-live', error ? 'assertive' : 'polite');
  toastEl.replaceChildren(...(error ? [h('strong.toast-label', t('error.toast_label')), ' '] : []), text);
  toastEl.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => toastEl && toastEl.classList.remove('show'), error ? 8000 : 3500);
}

/** A failure in the toast, in Chinese (never the server's English). */
export function toastError(err) {
  toast(errorText(err), { error: true });
}

/** A labelled control row for simple forms. */
export function field(labelText, control, hint) {
  const id = control.id || ('c-' + Math.random().toString(36).slice(2, 9));
  control.id = id;
  return h('div.field', h('label', { for: id }, labelText), control, hint ? h('p.hint', hint) : null);
}

/** Reports an ApiError of a simple form in its error box. */
export function showFormError(box, err) {
  if (!(err instanceof ApiError)) throw err;
  box.textContent = errorText(err);
  box.hidden = false;
}

/** YYYY-MM-DD of a Date in Asia/Shanghai. */
export function ymd(d) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

/** YYYY-MM of a Date in Asia/Shanghai. */
export function ym(d) {
  return ymd(d).slice(0, 7);
}

/** The first day of the month n months away from month "YYYY-MM" (n may be negative). */
export function addMonths(month, n) {
  const y = +month.slice(0, 4);
  const m = +month.slice(5, 7) - 1 + n;
  const yy = y + Math.floor(m / 12);
  const mm = ((m % 12) + 12) % 12;
  return `${yy}-${String(mm + 1).padStart(2, '0')}`;
}
