// The work-order inbox: the caller's scope from GET /work-orders with filters in the URL
// (#/inbox?state=&overdue=1&q=&page=&page_size=), sorted by the nearest open deadline, refreshed
// every 15 seconds. On narrow screens the table turns into cards (CSS, using data-label).
import { h, mount, uid } from '../dom.js';
import { t, label } from '../i18n.js';
import { endpoints, ApiError, download, errorText } from '../api.js';
import { go, link } from '../router.js';
import { STATES } from '../actions.js';
import { toast, toastError } from '../ui.js';
import * as session from '../session.js';
import {
  nearestDeadline, nearestDue, countdownChip, dueText, stateChip, levelChip, supervisionChip,
  caseNos, overallLevel, dateTime,
} from '../format.js';

const REFRESH_MS = 15000;
const PAGE_SIZES = [20, 50, 100];

/** Sorts orders by their nearest open deadline (overdue first, none last), then by opening time. */
export function sortByDue(items) {
  return [...(items || [])].sort((a, b) => (nearestDue(a) - nearestDue(b)) ||
    String(a.opened_at || '').localeCompare(String(b.opened_at || '')));
}

function filtersFrom(query) {
  const size = Number(query.page_size);
  return {
    state: STATES.includes(query.state) ? query.state : '',
    overdue: query.overdue === '1' || query.overdue === 'true',
    q: (query.q || '').slice(0, 200),
    unit: (query.unit || '').slice(0, 64),
    page: Math.max(1, Number.parseInt(query.page, 10) || 1),
    page_size: PAGE_SIZES.includes(size) ? size : PAGE_SIZES[0],
  };
}

function toQuery(f) {
  return {
    state: f.state, overdue: f.overdue ? '1' : '', q: f.q, unit: f.unit,
    page: f.page > 1 ? f.page : '', page_size: f.page_size !== PAGE_SIZES[0] ? f.page_size : '',
  };
}

function filterBar(f) {
  const ids = { state: uid('state'), overdue: uid('overdue'), q: uid('q'), size: uid('size') };
  const form = h('form.filters', { role: 'search', 'aria-label': t('inbox.filters') },
    h('div.filter',
      h('label', { for: ids.state }, t('inbox.filter_state')),
      h('select', { id: ids.state, name: 'state' },
        h('option', { value: '' }, t('common.all')),
        STATES.map((s) => h('option', { value: s, selected: s === f.state }, label('state', s))))),
    h('div.filter.filter-q',
      h('label', { for: ids.q }, t('inbox.filter_q')),
      h('input', { id: ids.q, name: 'q', type: 'search', value: f.q, placeholder: t('inbox.filter_q_placeholder'), autocomplete: 'off' })),
    h('div.filter.filter-check',
      h('label', { for: ids.overdue },
        h('input', { id: ids.overdue, name: 'overdue', type: 'checkbox', checked: f.overdue }), ' ', t('inbox.filter_overdue'))),
    h('div.filter',
      h('label', { for: ids.size }, t('inbox.page_size')),
      h('select', { id: ids.size, name: 'page_size' },
        PAGE_SIZES.map((n) => h('option', { value: n, selected: n === f.page_size }, String(n))))),
    h('div.filter.filter-buttons',
      h('button.btn.btn-primary', { type: 'submit' }, t('common.search')),
      h('button.btn', { type: 'button', onclick: () => go('/inbox') }, t('common.reset'))));
  const apply = () => {
    const el = form.elements;
    go('/inbox', toQuery({
      state: el.namedItem('state').value, overdue: el.namedItem('overdue').checked,
      q: el.namedItem('q').value.trim(), unit: f.unit, page: 1, page_size: Number(el.namedItem('page_size').value),
    }));
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); apply(); });
  for (const name of ['state', 'overdue', 'page_size']) form.elements.namedItem(name).addEventListener('change', apply);
  return form;
}

function row(order, now) {
  const d = nearestDeadline(order);
  const href = link('/orders/' + encodeURIComponent(order.id));
  const cell = (key, ...content) => h('td', { dataset: { label: t('inbox.col.' + key) }, class: 'col-' + key }, ...content);
  const overdue = d && !d.paused && (d.overdue || Date.parse(d.due_at) <= now);
  return h('tr', { class: overdue ? 'row-overdue' : undefined, onclick: (ev) => {
    if (ev.target.closest('a, button')) return;
    location.hash = href;
  } },
  cell('state', stateChip(order.state)),
  cell('case_no', h('a', { href, 'aria-label': t('inbox.open_order', { id: order.id }) }, caseNos(order.case_nos))),
  cell('unit', (order.unit && (order.unit.name || order.unit.code)) || t('common.none')),
  cell('level', overallLevel(order) ? levelChip(overallLevel(order)) : t('common.none')),
  // What the evaluator said, at a glance (the full text on the order page).
  cell('comment', order.comment ? h('span.comment-cell', { title: order.comment }, order.comment) : h('span.muted', t('order.no_comment'))),
  cell('stage', d ? label('deadline', d.name) : t('common.none')),
  cell('due', d ? dueText(d) : t('common.none')),
  cell('countdown', countdownChip(d, now)),
  cell('supervision', supervisionChip(order.supervision_level) || h('span.muted', t('common.none'))),
  cell('opened_at', dateTime(order.opened_at)));
}

export function orderTable(items, now) {
  const cols = ['state', 'case_no', 'unit', 'level', 'comment', 'stage', 'due', 'countdown', 'supervision', 'opened_at'];
  return h('div.table-wrap',
    h('table.data.cards-on-narrow',
      h('caption.sr-only', t('inbox.caption')),
      h('thead', h('tr', cols.map((c) => h('th', { scope: 'col', class: 'col-' + c }, t('inbox.col.' + c))))),
      h('tbody', sortByDue(items).map((o) => row(o, now)))));
}

function pager(f, total, capped) {
  // A capped total means "more than total": the last page is not known, so next stays open.
  const pages = capped ? Math.max(f.page + 1, Math.ceil(total / f.page_size))
    : Math.max(1, Math.ceil(total / f.page_size));
  const to = (p) => link('/inbox', toQuery({ ...f, page: p }));
  return h('nav.pager', { 'aria-label': t('inbox.page', { page: f.page, pages }) },
    h('span.muted', t(capped ? 'inbox.total_capped' : 'inbox.total', { total })),
    f.page > 1 ? h('a.btn', { href: to(f.page - 1), rel: 'prev' }, t('inbox.prev'))
      : h('span.btn.disabled', { 'aria-disabled': 'true' }, t('inbox.prev')),
    h('span', t('inbox.page', { page: f.page, pages })),
    f.page < pages ? h('a.btn', { href: to(f.page + 1), rel: 'next' }, t('inbox.next'))
      : h('span.btn.disabled', { 'aria-disabled': 'true' }, t('inbox.next')));
}

/** Buttons that download what the list shows (all pages, same filters) as CSV or Excel. */
function exportButtons(f) {
  const params = { state: f.state, overdue: f.overdue ? 'true' : '', q: f.q, unit: f.unit };
  const run = (format) => async (ev) => {
    const btn = ev.currentTarget;
    btn.disabled = true;
    try {
      await download(endpoints.exportOrdersPath({ ...params, format }), 'work-orders.' + format);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      toastError(err);
    } finally {
      btn.disabled = false;
    }
  };
  return h('span.export-buttons',
    h('button.btn.btn-small', { type: 'button', onclick: run('csv'), dataset: { export: 'csv' } }, t('inbox.export_csv')),
    h('button.btn.btn-small', { type: 'button', onclick: run('xlsx'), dataset: { export: 'xlsx' } }, t('inbox.export_xlsx')));
}

export default function inboxPage(outlet, { query }) {
  const f = filtersFrom(query);
  const officer = session.hasRole('officer', 'unit_leader') &&
    !session.hasRole('administrator', 'supervisor', 'auditor');
  const exporter = session.hasRole('administrator', 'supervisor', 'auditor');
  const updated = h('span.muted.updated', { 'aria-live': 'polite' });
  const errorBox = h('div.notice.notice-error', { role: 'alert', hidden: true });
  const results = h('div.results', { 'aria-busy': 'true' }, h('p.muted', t('common.loading')));
  mount(outlet, h('section.page', { 'aria-labelledby': 'inbox-title' },
    h('div.page-head',
      h('h1#inbox-title', t(officer ? 'inbox.title_officer' : 'inbox.title')),
      h('div.page-tools', updated,
        exporter ? exportButtons(f) : null,
        h('button.btn.btn-small', { type: 'button', onclick: () => load() }, t('common.refresh')))),
    f.unit ? h('p.notice.notice-info', t('inbox.unit_filter', { unit: f.unit }), ' ', h('a', { href: link('/inbox', toQuery({ ...f, unit: '' })) }, t('common.reset'))) : null,
    filterBar(f), errorBox, results));

  let alive = true;
  let ctrl = null;
  const load = async () => {
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    const params = { state: f.state, overdue: f.overdue ? 'true' : '', q: f.q, unit: f.unit, page: f.page, page_size: f.page_size };
    try {
      const res = await endpoints.workOrders(params, ctrl.signal);
      if (!alive) return;
      const now = Date.now();
      const items = (res && res.items) || [];
      errorBox.hidden = true;
      mount(results, items.length ? orderTable(items, now) : h('p.empty', t('inbox.empty')),
        pager(f, (res && res.total) || 0, !!(res && res.total_capped)));
      results.removeAttribute('aria-busy');
      updated.textContent = t('common.updated_at', { at: dateTime(now, true).slice(11) }) + ' · ' + t('inbox.auto_refresh');
    } catch (err) {
      if (!alive || (err && err.name === 'AbortError')) return;
      if (!(err instanceof ApiError)) throw err;
      if (err.status === 401) return;
      errorBox.textContent = errorText(err);
      errorBox.hidden = false;
      results.removeAttribute('aria-busy');
    }
  };
  load();
  const timer = setInterval(() => { if (!document.hidden) load(); }, REFRESH_MS);
  const onVisible = () => { if (!document.hidden) load(); };
  document.addEventListener('visibilitychange', onVisible);
  return () => {
    alive = false;
    clearInterval(timer);
    document.removeEventListener('visibilitychange', onVisible);
    if (ctrl) ctrl.abort();
  };
}
