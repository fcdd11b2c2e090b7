// The administration's work queues (#/queues/{queue}?page=): orders waiting for dispatch, returns
// to rule on, appeals and extension requests to decide, results to review. Each queue is the
// work-order list with a state filter (extensions: rectifying orders with a pending request,
// filtered by the server), paged with its full count;
// opening an order shows exactly the form its state allows.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { endpoints } from '../api.js';
import { link } from '../router.js';
import { orderTable } from './inbox.js';
import { pageFrame, loadInto, tabs, dataTable } from '../ui.js';
import { dateTime } from '../format.js';

export const QUEUES = [
  { name: 'dispatch', state: 'pending_dispatch' },
  { name: 'returns', state: 'returned' },
  { name: 'appeals', state: 'appealing' },
  { name: 'extensions', state: 'rectifying', pending: true },
  { name: 'reviews', state: 'reviewing' },
];

const REFRESH_MS = 20000;

const PAGE_SIZE = 50;

/** One page of a queue: the server filters (extensions: pending_extension) and counts, no cap. */
async function fetchQueue(q, page = 1) {
  const res = await endpoints.workOrders({ state: q.state, pending_extension: q.pending ? 'true' : '', page_size: PAGE_SIZE, page });
  return { items: (res && res.items) || [], total: (res && res.total) || 0, capped: !!(res && res.total_capped), page };
}

function pager(q, r) {
  const pages = r.capped ? r.page + 1 : Math.max(1, Math.ceil(r.total / PAGE_SIZE));
  const to = (n) => link('/queues/' + q.name, { page: n > 1 ? n : '' });
  return h('nav.pager', { 'aria-label': t('inbox.page', { page: r.page, pages }) },
    h('span.muted', t(r.capped ? 'inbox.total_capped' : 'inbox.total', { total: r.total })),
    r.page > 1 ? h('a.btn', { href: to(r.page - 1), rel: 'prev' }, t('inbox.prev')) : h('span.btn.disabled', { 'aria-disabled': 'true' }, t('inbox.prev')),
    h('span', t('inbox.page', { page: r.page, pages })),
    r.page < pages ? h('a.btn', { href: to(r.page + 1), rel: 'next' }, t('inbox.next')) : h('span.btn.disabled', { 'aria-disabled': 'true' }, t('inbox.next')));
}

export default function queuesPage(outlet, { params, query }) {
  const page = Math.max(1, Number.parseInt((query || {}).page, 10) || 1);
  const q = QUEUES.find((x) => x.name === params.queue) || QUEUES[0];
  const tabBox = h('div');
  const box = h('div.results');
  mount(outlet, pageFrame(t('queues.title'), null, tabBox, h('p.muted', t('queues.hint.' + q.name)), box));
  let alive = true;
  const counts = {};
  const drawTabs = () => mount(tabBox, tabs(QUEUES.map((x) => ({
    href: link('/queues/' + x.name), label: t('queues.' + x.name), current: x === q, count: counts[x.name],
  })), t('queues.title')));
  const load = () => {
    for (const x of QUEUES) {
      fetchQueue(x).then((r) => { if (alive) { counts[x.name] = r.total; drawTabs(); } }).catch(() => {});
    }
    loadInto(box, () => fetchQueue(q, page), (r) => {
      if (r.items.length === 0) return [h('p.empty', t('queues.empty')), r.page > 1 ? pager(q, r) : null];
      const parts = [orderTable(r.items, Date.now(), { keepOrder: true }), pager(q, r)];
      if (q.pending) {
        parts.unshift(h('section.panel', h('h2', t('queues.pending_requests')), dataTable([
          { label: t('queues.col.order'), render: (o) => h('a', { href: link('/orders/' + o.id) }, (o.case_nos || [])[0] || o.id) },
          { label: t('field.days'), render: (o) => String(o.pending_extension.days ?? t('common.none')) },
          { label: t('field.reason'), render: (o) => String(o.pending_extension.reason ?? t('common.none')) },
          { label: t('queues.col.requested_at'), render: (o) => dateTime(o.pending_extension.at) },
        ], r.items)));
      }
      return parts;
    });
  };
  drawTabs();
  load();
  const timer = setInterval(() => { if (!document.hidden) load(); }, REFRESH_MS);
  return () => { alive = false; clearInterval(timer); };
}
