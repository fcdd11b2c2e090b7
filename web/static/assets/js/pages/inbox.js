// The work-order inbox, built for a full day's work: the caller's scope from GET /work-orders
// with every filter in the URL (#/inbox?state=&level=&unit=&staff=&channel=&supervision=&from=&to=
// &overdue=1&q=&sort=&page=&page_size=), sorted by the server (nearest deadline first unless
// chosen otherwise), saved views (this browser's local storage), keyboard shortcuts (j/k, Enter,
// x, s, /, ? for the help), bulk sign and bulk escalate with a result per row; refreshed every 15
// seconds. On narrow screens the table turns into cards (CSS, using data-label).
import { h, mount, uid } from '../dom.js';
import { t, label } from '../i18n.js';
import { endpoints, ApiError, download, errorText } from '../api.js';
import { go, link } from '../router.js';
import { STATES } from '../actions.js';
import { toastError } from '../ui.js';
import { bulkBar, orderTitle } from '../bulk.js';

export { orderTitle };
import * as session from '../session.js';
import {
  nearestDeadline, nearestDue, countdownChip, dueText, stateChip, levelChip, supervisionChip,
  caseNos, overallLevel, dateTime,
} from '../format.js';

const REFRESH_MS = 15000;
const PAGE_SIZES = [20, 50, 100];
const LEVELS = ['very_satisfied', 'satisfied', 'basically_satisfied', 'dissatisfied', 'very_dissatisfied'];
const CHANNELS = ['window_device', 'qr_code', 'pc', 'mobile', 'terminal', 'hotline', 'sms', 'default'];
const SUPERVISION = ['0', '1', '2'];
export const SORTS = ['due', '-due', '-opened', 'opened', '-supervision'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const VIEWS_KEY = 'redress.inbox.views';

/** Sorts orders by their nearest open deadline (overdue first, none last), then by opening time. */
export function sortByDue(items) {
  return [...(items || [])].sort((a, b) => (nearestDue(a) - nearestDue(b)) ||
    String(a.opened_at || '').localeCompare(String(b.opened_at || '')));
}

function filtersFrom(query) {
  const size = Number(query.page_size);
  const pick = (v, list) => (list.includes(v) ? v : '');
  return {
    state: pick(query.state, STATES),
    level: pick(query.level, LEVELS),
    channel: pick(query.channel, CHANNELS),
    supervision: pick(query.supervision, SUPERVISION),
    overdue: query.overdue === '1' || query.overdue === 'true',
    q: (query.q || '').slice(0, 100),
    unit: (query.unit || '').slice(0, 64),
    staff: (query.staff || '').slice(0, 64),
    from: DATE.test(query.from || '') ? query.from : '',
    to: DATE.test(query.to || '') ? query.to : '',
    sort: pick(query.sort, SORTS),
    page: Math.max(1, Number.parseInt(query.page, 10) || 1),
    page_size: PAGE_SIZES.includes(size) ? size : PAGE_SIZES[0],
  };
}

/** The URL query of the filters: only what differs from the defaults. */
function toQuery(f) {
  return {
    state: f.state, level: f.level, channel: f.channel, supervision: f.supervision,
    overdue: f.overdue ? '1' : '', q: f.q, unit: f.unit, staff: f.staff, from: f.from, to: f.to,
    sort: f.sort && f.sort !== 'due' ? f.sort : '',
    page: f.page > 1 ? f.page : '', page_size: f.page_size !== PAGE_SIZES[0] ? f.page_size : '',
  };
}

/** The API's parameters of the filters (the list and the export take the same). */
function apiParams(f) {
  return {
    state: f.state, level: f.level, channel: f.channel, supervision: f.supervision,
    overdue: f.overdue ? 'true' : '', q: f.q, unit: f.unit, staff: f.staff, from: f.from, to: f.to, sort: f.sort,
  };
}

// The units and staff the caller may see, read once per page (GET /units, GET /staff): the
// unit and staff filters are pickers of names, not fields for codes nobody knows by heart.
// Kept per signed-in user: another user signing in on this tab reads their own.
let pickLists = null;
let pickFor = null;

function loadPickLists() {
  const who = (session.user() && session.user().login) || '';
  if (pickFor !== who) pickLists = null;
  pickFor = who;
  if (!pickLists) {
    pickLists = Promise.all([
      endpoints.units().catch(() => []),
      endpoints.staff({ page_size: 2000 }).then((r) => (r && r.items) || []).catch(() => []),
    ]).then(([units, staff]) => ({ units: Array.isArray(units) ? units : [], staff }));
    // A failed read is tried again on the next page, not remembered.
    pickLists.then((l) => { if (l.units.length === 0 && l.staff.length === 0) pickLists = null; });
  }
  return pickLists;
}

/** The unit picker: every unit in reach by name, indented by its depth below the top one. */
function unitPicker(id, current) {
  const sel = h('select', { id, name: 'unit' }, h('option', { value: '' }, t('common.all')),
    current ? h('option', { value: current, selected: true }, current) : null);
  loadPickLists().then(({ units }) => {
    if (!units.length) return;
    const depth = (u) => String(u.path || '').split('/').filter(Boolean).length;
    const top = Math.min(...units.map(depth));
    mount(sel, h('option', { value: '' }, t('common.all')), units.map((u) => h('option',
      { value: u.code, selected: u.code === current }, '\u3000'.repeat(Math.max(0, depth(u) - top)) + (u.name || u.code))));
    const name = (units.find((u) => u.code === current) || {}).name;
    if (name) document.querySelectorAll('[data-unit-name]').forEach((n) => { n.textContent = name; });
  });
  return sel;
}

/** The staff picker: the staff of the units in reach, by name, grouped by unit. */
function staffPicker(id, current) {
  const sel = h('select', { id, name: 'staff' }, h('option', { value: '' }, t('common.all')),
    current ? h('option', { value: current, selected: true }, current) : null);
  loadPickLists().then(({ staff }) => {
    if (!staff.length) return;
    const groups = new Map();
    for (const m of staff) {
      const unit = (m.unit && (m.unit.name || m.unit.code)) || '';
      if (!groups.has(unit)) groups.set(unit, []);
      groups.get(unit).push(m);
    }
    mount(sel, h('option', { value: '' }, t('common.all')), [...groups.entries()].map(([unit, list]) => h('optgroup', { label: unit },
      list.map((m) => h('option', { value: m.id, selected: m.id === current }, m.name || m.id)))));
  });
  return sel;
}

function filterBar(f) {
  const ids = {};
  for (const k of ['state', 'level', 'unit', 'staff', 'channel', 'supervision', 'from', 'to', 'overdue', 'q', 'sort', 'size']) ids[k] = uid(k);
  const select = (name, id, options, current, labelOf) => h('select', { id, name },
    h('option', { value: '' }, t('common.all')),
    options.map((v) => h('option', { value: v, selected: v === current }, labelOf(v))));
  const labels = {
    state: t('inbox.filter_state'), level: t('inbox.filter_level'), unit: t('inbox.filter_unit'), staff: t('inbox.filter_staff'),
    channel: t('inbox.filter_channel'), supervision: t('inbox.filter_supervision'), from: t('inbox.filter_from'), to: t('inbox.filter_to'), q: t('inbox.filter_q'),
  };
  const field = (key, control, cls) => h('div.filter', { class: cls }, h('label', { for: ids[key] }, labels[key]), control);
  const form = h('form.filters', { role: 'search', 'aria-label': t('inbox.filters') },
    field('state', select('state', ids.state, STATES, f.state, (v) => label('state', v))),
    field('level', select('level', ids.level, LEVELS, f.level, (v) => label('level', v))),
    field('unit', unitPicker(ids.unit, f.unit)),
    field('staff', staffPicker(ids.staff, f.staff)),
    field('channel', select('channel', ids.channel, CHANNELS, f.channel, (v) => label('channel', v))),
    field('supervision', select('supervision', ids.supervision, SUPERVISION, f.supervision, (v) => t('supervision.' + v))),
    field('from', h('input', { id: ids.from, name: 'from', type: 'date', value: f.from })),
    field('to', h('input', { id: ids.to, name: 'to', type: 'date', value: f.to })),
    field('q', h('input', { id: ids.q, name: 'q', type: 'search', value: f.q, placeholder: t('inbox.filter_q_placeholder'), autocomplete: 'off' }), 'filter-q'),
    h('div.filter',
      h('label', { for: ids.sort }, t('inbox.sort')),
      h('select', { id: ids.sort, name: 'sort' },
        SORTS.map((v) => h('option', { value: v, selected: v === (f.sort || 'due') }, t('inbox.sort.' + v))))),
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
    const v = (n) => el.namedItem(n).value.trim();
    go('/inbox', toQuery({
      state: v('state'), level: v('level'), channel: v('channel'), supervision: v('supervision'),
      overdue: el.namedItem('overdue').checked, q: v('q'), unit: v('unit'), staff: v('staff'),
      from: v('from'), to: v('to'), sort: v('sort'), page: 1, page_size: Number(v('page_size')),
    }));
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); apply(); });
  for (const name of ['state', 'level', 'unit', 'staff', 'channel', 'supervision', 'sort', 'overdue', 'page_size', 'from', 'to']) {
    form.elements.namedItem(name).addEventListener('change', apply);
  }
  return form;
}

function row(order, now, sel) {
  const d = nearestDeadline(order);
  const href = link('/orders/' + encodeURIComponent(order.id));
  const cell = (key, ...content) => h('td', { dataset: { label: t('inbox.col.' + key) }, class: 'col-' + key }, ...content);
  const overdue = d && !d.paused && (d.overdue || Date.parse(d.due_at) <= now);
  const selected = sel && sel.ids.has(order.id);
  return h('tr', {
    class: [overdue ? 'row-overdue' : '', selected ? 'is-selected' : ''].filter(Boolean).join(' ') || undefined,
    dataset: { id: order.id },
    onclick: (ev) => {
      if (ev.target.closest('a, button, input, label')) return;
      location.hash = href;
    },
  },
  sel ? h('td.col-select', { dataset: { label: t('inbox.col.select') } },
    h('input.row-select', {
      type: 'checkbox', checked: selected, 'aria-label': t('inbox.select_order', { title: caseNos(order.case_nos) }),
      onchange: (ev) => sel.toggle(order.id, ev.target.checked),
    })) : null,
  cell('state', stateChip(order.state)),
  cell('case_no', h('a.order-link', { href }, caseNos(order.case_nos)),
    order.service_name ? h('div.muted.cell-sub', order.service_name) : null),
  cell('unit', (order.unit && (order.unit.name || order.unit.code)) || t('common.none')),
  cell('staff', order.staff_name || order.staff || t('common.none')),
  cell('level', overallLevel(order) ? levelChip(overallLevel(order)) : t('common.none')),
  // What the evaluator said, at a glance (the full text on the order page).
  cell('comment', order.comment ? h('span.comment-cell', { title: order.comment }, order.comment) : h('span.muted', t('order.no_comment'))),
  cell('channel', order.channel ? label('channel', order.channel) : t('common.none')),
  cell('rated_at', dateTime(order.rated_at || order.opened_at)),
  cell('due', d ? [h('span', dueText(d)), h('div.muted.cell-sub', label('deadline', d.name))] : t('common.none')),
  cell('countdown', countdownChip(d, now)),
  cell('supervision', supervisionChip(order.supervision_level) || h('span.muted', t('common.none'))));
}

/**
 * The table of orders. opts.keepOrder keeps the server's order (else nearest deadline first);
 * opts.selection ({ids: Set, toggle(id, on), toggleAll(on)}) adds a check box to each row.
 */
export function orderTable(items, now, opts = {}) {
  const sel = opts.selection;
  const cols = ['state', 'case_no', 'unit', 'staff', 'level', 'comment', 'channel', 'rated_at', 'due', 'countdown', 'supervision'];
  const list = opts.keepOrder ? items : sortByDue(items);
  const all = sel && list.length > 0 && list.every((o) => sel.ids.has(o.id));
  return h('div.table-wrap',
    h('table.data.cards-on-narrow.order-table',
      h('caption.sr-only', t('inbox.caption')),
      h('thead', h('tr',
        sel ? h('th.col-select', { scope: 'col' }, h('input.select-all', {
          type: 'checkbox', checked: all, 'aria-label': t('inbox.select_all'),
          onchange: (ev) => sel.toggleAll(ev.target.checked),
        })) : null,
        cols.map((c) => h('th', { scope: 'col', class: 'col-' + c }, t('inbox.col.' + c))))),
      h('tbody', list.map((o) => row(o, now, sel)))));
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
  const params = apiParams(f);
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

/** Saved views: named filter sets kept in this browser (local storage), per user. */
function savedViews() {
  const key = VIEWS_KEY + ':' + ((session.user() || {}).login || '');
  const read = () => {
    try {
      const v = JSON.parse(localStorage.getItem(key) || '[]');
      return Array.isArray(v) ? v.filter((x) => x && typeof x.name === 'string' && x.query && typeof x.query === 'object') : [];
    } catch {
      return [];
    }
  };
  const write = (list) => localStorage.setItem(key, JSON.stringify(list));
  return {
    list: read,
    save: (name, query) => write([...read().filter((v) => v.name !== name), { name, query }]),
    remove: (name) => write(read().filter((v) => v.name !== name)),
  };
}

function viewsBar(f) {
  const views = savedViews();
  const box = h('div.saved-views');
  const nameId = uid('view-name');
  const draw = () => {
    const query = { ...toQuery(f), page: '' };
    const list = views.list();
    const name = h('input', { id: nameId, name: 'view_name', type: 'text', maxlength: 30, placeholder: t('inbox.views.name_placeholder'), size: 14 });
    mount(box,
      h('span.saved-views-title', t('inbox.views.title')),
      list.length ? h('ul.saved-views-list', list.map((v) => h('li',
        h('a.view-link', { href: link('/inbox', v.query), dataset: { view: v.name } }, v.name),
        h('button.btn-link.view-remove', {
          type: 'button', 'aria-label': t('inbox.views.remove', { name: v.name }),
          onclick: () => { views.remove(v.name); draw(); },
        }, '×')))) : h('span.muted', t('inbox.views.none')),
      h('form.saved-views-save', {
        onsubmit: (ev) => {
          ev.preventDefault();
          const n = name.value.trim();
          if (!n) { name.focus(); return; }
          views.save(n, query);
          draw();
        },
      }, h('label.sr-only', { for: nameId }, t('inbox.views.name')), name,
      h('button.btn.btn-small', { type: 'submit' }, t('inbox.views.save'))));
  };
  draw();
  return box;
}

/** The keyboard shortcuts and their help (a modal dialog opened with ?). */
const SHORTCUTS = [['j', 'next'], ['k', 'prev'], ['Enter', 'open'], ['x', 'select'], ['s', 'sign'], ['e', 'escalate'], ['/', 'search'], ['?', 'help']];

function helpDialog() {
  const dlg = h('dialog.shortcut-help', { 'aria-labelledby': 'shortcut-help-title' },
    h('h2#shortcut-help-title', t('inbox.keys.title')),
    h('dl.kv', SHORTCUTS.map(([k, what]) => [h('dt', h('kbd', k)), h('dd', t('inbox.keys.' + what))])),
    h('form', { method: 'dialog' }, h('button.btn.btn-primary', { type: 'submit' }, t('common.close'))));
  return dlg;
}

export default function inboxPage(outlet, { query }) {
  const f = filtersFrom(query);
  const officer = session.hasRole('officer', 'unit_leader') &&
    !session.hasRole('administrator', 'supervisor', 'auditor');
  const exporter = session.hasRole('administrator', 'supervisor', 'auditor');
  const canSign = session.hasRole('officer', 'unit_leader');
  const canEscalate = session.hasRole('administrator', 'supervisor');
  const updated = h('span.muted.updated', { 'aria-live': 'polite' });
  const errorBox = h('div.notice.notice-error', { role: 'alert', hidden: true });
  const results = h('div.results', { 'aria-busy': 'true' }, h('p.muted', t('common.loading')));
  const help = helpDialog();
  let items = [];
  let cursor = -1;
  const selected = new Set();
  const bulk = bulkBar({ items: () => items, selected, canSign, canEscalate, onDone: () => load() });
  mount(outlet, h('section.page', { 'aria-labelledby': 'inbox-title' },
    h('div.page-head',
      h('h1#inbox-title', t(officer ? 'inbox.title_officer' : 'inbox.title')),
      h('div.page-tools', updated,
        exporter ? exportButtons(f) : null,
        h('button.btn.btn-small', { type: 'button', onclick: () => help.showModal() }, t('inbox.keys.button')),
        h('button.btn.btn-small', { type: 'button', onclick: () => load() }, t('common.refresh')))),
    f.unit ? h('p.notice.notice-info', t('inbox.unit_filter_before'), h('span', { dataset: { unitName: '' } }, f.unit), t('inbox.unit_filter_after'), ' ', h('a', { href: link('/inbox', toQuery({ ...f, unit: '' })) }, t('common.reset'))) : null,
    filterBar(f), viewsBar(f), bulk.el, errorBox, results, help));

  const selection = {
    ids: selected,
    toggle: (id, on) => { if (on) selected.add(id); else selected.delete(id); draw(); },
    toggleAll: (on) => { for (const o of items) { if (on) selected.add(o.id); else selected.delete(o.id); } draw(); },
  };
  const selectable = canSign || canEscalate;

  let last = null;
  function draw() {
    if (!last) return;
    const now = Date.now();
    mount(results, items.length ? orderTable(items, now, { keepOrder: true, selection: selectable ? selection : null })
      : h('p.empty', t('inbox.empty')),
    pager(f, last.total || 0, !!last.total_capped));
    markCursor(false);
    bulk.update();
  }

  // Keyboard shortcuts: j/k move the current row, Enter opens it, x selects it, s signs and e
  // escalates the selection (or the current row), / goes to the search, ? shows the help.
  function markCursor(focus) {
    const trs = results.querySelectorAll('tbody tr');
    trs.forEach((tr, i) => tr.classList.toggle('row-current', i === cursor));
    if (focus && trs[cursor]) {
      const a = trs[cursor].querySelector('a.order-link');
      if (a) a.focus();
    }
  }
  const onKey = (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || help.open) return;
    const tag = (ev.target && ev.target.tagName) || '';
    if (['INPUT', 'TEXTAREA', 'SELECT'].includes(tag) || (ev.target && ev.target.isContentEditable)) return;
    const current = items[cursor];
    switch (ev.key) {
      case 'j': cursor = Math.min(items.length - 1, cursor + 1); markCursor(true); break;
      case 'k': cursor = Math.max(0, cursor - 1); markCursor(true); break;
      case 'Enter':
        if (!current || tag === 'A' || tag === 'BUTTON') return;
        location.hash = link('/orders/' + encodeURIComponent(current.id));
        break;
      case 'x': if (current && selectable) selection.toggle(current.id, !selected.has(current.id)); break;
      case 's':
      case 'e': {
        const btn = bulk.el.querySelector(`button[data-bulk="${ev.key === 's' ? 'sign' : 'escalate'}"]`);
        if (!btn) return;
        if (selected.size === 0 && current) selection.toggle(current.id, true);
        if (ev.key === 'e') { bulk.el.querySelector('input[name="bulk_note"]').focus(); break; }
        btn.click();
        break;
      }
      case '/': outlet.querySelector('input[name="q"]').focus(); break;
      case '?': help.showModal(); break;
      default: return;
    }
    ev.preventDefault();
  };
  document.addEventListener('keydown', onKey);

  let alive = true;
  let ctrl = null;
  const load = async () => {
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    try {
      const res = await endpoints.workOrders({ ...apiParams(f), page: f.page, page_size: f.page_size }, ctrl.signal);
      if (!alive) return;
      const now = Date.now();
      last = res || {};
      items = (res && res.items) || [];
      for (const id of [...selected]) if (!items.some((o) => o.id === id)) selected.delete(id);
      if (cursor >= items.length) cursor = items.length - 1;
      errorBox.hidden = true;
      draw();
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
  const timer = setInterval(() => { if (!document.hidden && !help.open) load(); }, REFRESH_MS);
  const onVisible = () => { if (!document.hidden) load(); };
  document.addEventListener('visibilitychange', onVisible);
  return () => {
    alive = false;
    clearInterval(timer);
    document.removeEventListener('visibilitychange', onVisible);
    document.removeEventListener('keydown', onKey);
    if (ctrl) ctrl.abort();
  };
}
