// The supervisor board (#/board?sort=&page=&page_size=): the open orders of the caller's subtree
// that are overdue or due within SOON_DAYS days, as one compact table the server pages and sorts
// (GET /work-orders?due_before=…), so that a unit with 150 orders is a few pages of rows, not
// 150 cards, and nothing is cut off silently. Column headers sort; check boxes and the bulk bar
// escalate many orders at once, with a result per row; reassigning stays on the order page.
import { h, mount } from '../dom.js';
import { t, label } from '../i18n.js';
import { endpoints } from '../api.js';
import { link, go } from '../router.js';
import { pageFrame, loadInto } from '../ui.js';
import { bulkBar, orderTitle } from '../bulk.js';
import * as session from '../session.js';
import {
  nearestDeadline, countdownChip, dueText, stateChip, supervisionChip, caseNos,
} from '../format.js';

const DAY = 86400000;
const SOON_DAYS = 7;
const PAGE_SIZES = [25, 50, 100];
const SORTS = ['due', '-due', '-opened', 'opened', '-supervision'];

/** Whether an order's nearest deadline is overdue, or due within SOON_DAYS days. */
export function urgency(o, now) {
  const d = nearestDeadline(o);
  if (!d || d.paused) return null;
  const due = Date.parse(d.due_at);
  if (d.overdue || due <= now) return 'overdue';
  return due - now <= SOON_DAYS * DAY ? 'soon' : null;
}

function paramsFrom(query) {
  const size = Number(query.page_size);
  return {
    sort: SORTS.includes(query.sort) ? query.sort : 'due',
    page: Math.max(1, Number.parseInt(query.page, 10) || 1),
    page_size: PAGE_SIZES.includes(size) ? size : PAGE_SIZES[0],
  };
}

function toQuery(p) {
  return { sort: p.sort !== 'due' ? p.sort : '', page: p.page > 1 ? p.page : '', page_size: p.page_size !== PAGE_SIZES[0] ? p.page_size : '' };
}

export default function boardPage(outlet, { query } = { query: {} }) {
  const p = paramsFrom(query || {});
  const canEscalate = session.hasRole('administrator', 'supervisor');
  const box = h('div.results');
  let items = [];
  const selected = new Set();
  let alive = true;
  const bulk = bulkBar({ items: () => items, selected, canSign: false, canEscalate, onDone: () => load() });

  // A sortable column header: a button that flips between the two directions, aria-sort tells
  // which one is in force.
  function sortHeader(key, asc, desc, text) {
    const on = p.sort === asc ? 'ascending' : p.sort === desc ? 'descending' : 'none';
    const next = p.sort === asc && desc ? desc : asc || desc;
    return h('th', { scope: 'col', 'aria-sort': on, class: 'col-' + key },
      h('button.btn-link.sort-button', { type: 'button', dataset: { sort: next }, onclick: () => go('/board', toQuery({ ...p, sort: next, page: 1 })) },
        text, on === 'ascending' ? ' ↑' : on === 'descending' ? ' ↓' : ''));
  }

  function table(now) {
    const all = items.length > 0 && items.every((o) => selected.has(o.id));
    return h('div.table-wrap', h('table.data.cards-on-narrow.board-table',
      h('caption.sr-only', t('board.caption')),
      h('thead', h('tr',
        canEscalate ? h('th.col-select', { scope: 'col' }, h('input.select-all', {
          type: 'checkbox', checked: all, 'aria-label': t('inbox.select_all'),
          onchange: (ev) => { for (const o of items) { if (ev.target.checked) selected.add(o.id); else selected.delete(o.id); } draw(); },
        })) : null,
        h('th', { scope: 'col' }, t('inbox.col.case_no')),
        h('th', { scope: 'col' }, t('inbox.col.unit')),
        h('th', { scope: 'col' }, t('inbox.col.state')),
        sortHeader('supervision', null, '-supervision', t('inbox.col.supervision')),
        sortHeader('due', 'due', '-due', t('inbox.col.due')),
        h('th', { scope: 'col' }, t('inbox.col.countdown')),
        sortHeader('opened', 'opened', '-opened', t('inbox.col.opened_at')))),
      h('tbody', items.map((o) => {
        const d = nearestDeadline(o);
        const u = urgency(o, now);
        const cell = (key, ...c) => h('td', { dataset: { label: t('inbox.col.' + key) } }, ...c);
        return h('tr', { class: [u === 'overdue' ? 'row-overdue' : '', selected.has(o.id) ? 'is-selected' : ''].filter(Boolean).join(' ') || undefined, dataset: { id: o.id } },
          canEscalate ? h('td.col-select', { dataset: { label: t('inbox.col.select') } }, h('input.row-select', {
            type: 'checkbox', checked: selected.has(o.id), 'aria-label': t('inbox.select_order', { title: caseNos(o.case_nos) }),
            onchange: (ev) => { if (ev.target.checked) selected.add(o.id); else selected.delete(o.id); draw(); },
          })) : null,
          cell('case_no', h('a', { href: link('/orders/' + encodeURIComponent(o.id)) }, orderTitle(o))),
          cell('unit', (o.unit && (o.unit.name || o.unit.code)) || t('board.no_unit')),
          cell('state', stateChip(o.state)),
          cell('supervision', supervisionChip(o.supervision_level) || h('span.muted', t('common.none'))),
          cell('due', d ? [h('span', dueText(d)), h('div.muted.cell-sub', label('deadline', d.name))] : t('common.none')),
          cell('countdown', countdownChip(d, now)),
          cell('opened_at', h('span', new Date(o.opened_at).toLocaleDateString('zh-CN'))));
      }))));
  }

  function pager(total, capped) {
    const pages = capped ? Math.max(p.page + 1, Math.ceil(total / p.page_size)) : Math.max(1, Math.ceil(total / p.page_size));
    const to = (n) => link('/board', toQuery({ ...p, page: n }));
    return h('nav.pager', { 'aria-label': t('inbox.page', { page: p.page, pages }) },
      h('span.muted', t(capped ? 'inbox.total_capped' : 'inbox.total', { total })),
      p.page > 1 ? h('a.btn', { href: to(p.page - 1), rel: 'prev' }, t('inbox.prev')) : h('span.btn.disabled', { 'aria-disabled': 'true' }, t('inbox.prev')),
      h('span', t('inbox.page', { page: p.page, pages })),
      p.page < pages ? h('a.btn', { href: to(p.page + 1), rel: 'next' }, t('inbox.next')) : h('span.btn.disabled', { 'aria-disabled': 'true' }, t('inbox.next')));
  }

  let last = null;
  function draw() {
    if (!last) return;
    const now = Date.now();
    const overdue = items.filter((o) => urgency(o, now) === 'overdue').length;
    mount(box,
      items.length === 0 ? h('p.empty', t('board.empty'))
        : [h('p.board-summary', t('board.summary_page', { total: last.total || 0, overdue })), table(now)],
      pager(last.total || 0, !!last.total_capped));
    bulk.update();
  }

  const load = () => loadInto(box, () => endpoints.workOrders({
    due_before: new Date(Date.now() + SOON_DAYS * DAY).toISOString().replace(/\.\d+Z$/, 'Z'),
    sort: p.sort, page: p.page, page_size: p.page_size,
  }), (res) => {
    last = res || {};
    items = (res && res.items) || [];
    for (const id of [...selected]) if (!items.some((o) => o.id === id)) selected.delete(id);
    draw();
    return [...box.childNodes];
  });

  mount(outlet, pageFrame(t('board.title'), h('button.btn.btn-small', { type: 'button', onclick: () => load() }, t('common.refresh')),
    h('p.muted', t('board.hint')), bulk.el, box));
  load();
  const timer = setInterval(() => { if (alive && !document.hidden && !bulk.el.querySelector('[data-result]')) load(); }, 30000);
  return () => { alive = false; clearInterval(timer); };
}
