// The supervisor board (#/board): overdue and soon-due open orders across the caller's subtree,
// grouped by unit, with the escalate and reassign forms at hand on each order.
import { h, mount } from '../dom.js';
import { t, label } from '../i18n.js';
import { endpoints } from '../api.js';
import { link } from '../router.js';
import { definition } from '../actions.js';
import { actionForm, actionLabel } from '../forms.js';
import { pageFrame, loadInto, toast } from '../ui.js';
import {
  nearestDeadline, countdownChip, dueText, stateChip, supervisionChip, caseNos, sortByDueSafe,
} from '../format.js';

const DAY = 86400000;
const SOON_DAYS = 2;

/** Whether an order's nearest deadline is overdue, or due within SOON_DAYS (working days when known). */
export function urgency(o, now) {
  const d = nearestDeadline(o);
  if (!d || d.paused) return null;
  const due = Date.parse(d.due_at);
  if (d.overdue || due <= now) return 'overdue';
  if (typeof d.working_days_left === 'number') return d.working_days_left <= SOON_DAYS ? 'soon' : null;
  return due - now <= (SOON_DAYS + 1) * DAY ? 'soon' : null;
}

const MAX_PAGES = 5;

/**
 * The open orders of the caller's scope, up to MAX_PAGES pages of 100; out.capped tells that
 * more exist (the board says so instead of hiding them).
 */
async function fetchOpen() {
  const out = [];
  out.total = 0;
  out.capped = false;
  for (let page = 1; page <= MAX_PAGES; page++) {
    const res = await endpoints.workOrders({ page, page_size: 100 });
    const items = (res && res.items) || [];
    out.total = (res && res.total) || 0;
    out.push(...items.filter((o) => o.state !== 'closed'));
    if (items.length < 100) return out;
  }
  out.capped = out.total > MAX_PAGES * 100;
  return out;
}

/** The board's note when it could not read every order: no silent caps. */
function cappedNote(items) {
  return items.capped ? h('div.notice.notice-warning', { role: 'status' },
    t('board.capped', { shown: MAX_PAGES * 100, total: items.total }), ' ',
    h('a', { href: '#/inbox?overdue=true' }, t('board.capped_link'))) : null;
}

export default function boardPage(outlet) {
  const box = h('div');
  let alive = true;
  const load = () => loadInto(box, fetchOpen, (items) => {
    const now = Date.now();
    const hot = items.map((o) => ({ o, u: urgency(o, now) })).filter((x) => x.u);
    if (hot.length === 0) return [cappedNote(items), h('p.empty', t('board.empty'))];
    const groups = new Map();
    for (const x of sortByDueSafe(hot.map((y) => y.o)).map((o) => hot.find((y) => y.o === o))) {
      const key = (x.o.unit && (x.o.unit.name || x.o.unit.code)) || t('board.no_unit');
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(x);
    }
    const overdue = hot.filter((x) => x.u === 'overdue').length;
    return [
      cappedNote(items),
      h('p.board-summary', t('board.summary', { overdue, soon: hot.length - overdue, units: groups.size })),
      [...groups.entries()].map(([unit, list]) => h('section.panel.board-unit',
        h('h2', unit, ' ', h('span.muted', t('board.unit_count', { n: list.length }))),
        h('ul.board-list', list.map(({ o, u }) => card(o, u, now))))),
    ];
  });
  function card(o, u, now) {
    const d = nearestDeadline(o);
    const forms = ['escalate', 'reassign'].filter((n) => (o.allowed_actions || []).includes(n));
    return h('li.board-card', { class: u === 'overdue' ? 'is-overdue' : 'is-soon' },
      h('div.board-card-head',
        h('a', { href: link('/orders/' + o.id) }, caseNos(o.case_nos)),
        stateChip(o.state), supervisionChip(o.supervision_level),
        h('span', t('board.due', { stage: d ? label('deadline', d.name) : '', due: dueText(d) })),
        countdownChip(d, now)),
      forms.map((n) => h('details.action', h('summary', actionLabel(n)), actionForm(definition(n), {
        submit: (body, key) => endpoints.act(o.id, body, key),
        onDone: () => { toast(t('order.actions.done', { action: actionLabel(n) })); load(); },
        onConflict: () => load(),
      }))));
  }
  mount(outlet, pageFrame(t('board.title'), h('button.btn.btn-small', { type: 'button', onclick: () => load() }, t('common.refresh')),
    h('p.muted', t('board.hint')), box));
  load();
  const timer = setInterval(() => { if (alive && !document.hidden) load(); }, 30000);
  return () => { alive = false; clearInterval(timer); };
}
