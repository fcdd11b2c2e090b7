// The administration's work queues (#/queues/{queue}): orders waiting for dispatch, returns to
// rule on, appeals and extension requests to decide, results to review. Each queue is the
// work-order list with a state filter (extensions: rectifying orders with a pending request);
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

async function fetchQueue(q) {
  const res = await endpoints.workOrders({ state: q.state, page_size: 100, page: 1 });
  let items = (res && res.items) || [];
  const all = (res && res.total) || 0;
  if (q.pending) items = items.filter((o) => o.pending_extension);
  // More than one page: say so (no silent cap), with the list that pages through all of them.
  return { items, total: q.pending ? items.length : all, capped: all > 100, all };
}

export default function queuesPage(outlet, { params }) {
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
    loadInto(box, () => fetchQueue(q), (r) => {
      const note = r.capped ? h('div.notice.notice-warning', { role: 'status' },
        t('queues.capped', { total: r.all }), ' ', h('a', { href: link('/inbox', { state: q.state }) }, t('queues.capped_link'))) : null;
      if (r.items.length === 0) return [note, h('p.empty', t('queues.empty'))];
      const parts = [note, orderTable(r.items, Date.now())];
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
