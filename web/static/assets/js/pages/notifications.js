// The staff notification centre (#/notifications): the messages the system delivered to the
// caller's roles (new orders, reminders, supervision, returns to rule on, dissatisfied
// evaluators), newest first, paged, each with a link to its order; unread ones are marked and
// can be marked read one by one or all at once. The header's bell shows the unread count
// (see main.js), which this page refreshes after each change.
import { h, mount } from '../dom.js';
import { t, label } from '../i18n.js';
import { endpoints, ApiError } from '../api.js';
import { link } from '../router.js';
import { pageFrame, loadInto, tabs, toastError } from '../ui.js';
import { dateTime } from '../format.js';

const PAGE_SIZE = 20;
const URL_RE = /(https?:\/\/[\x21-\x7e]+)/; // ASCII only: the Chinese text around a link ends it

/**
 * A message's text with its web links clickable: in redress dev the local copies of evaluators'
 * SMS keep their tracking link, so that an administrator can open the citizen's page from here.
 */
function linkified(text) {
  return String(text || '').split(URL_RE).map((part, i) => (i % 2 === 1
    ? h('a', { href: part, target: '_blank', rel: 'noopener' }, part) : part));
}

/** Fires the event the header listens to, so that its unread badge follows this page. */
export function announceUnread(n) {
  window.dispatchEvent(new CustomEvent('unreadchange', { detail: { unread: n } }));
}

export default function notificationsPage(outlet, { query }) {
  let alive = true;
  const unreadOnly = query.filter === 'unread';
  const page = Math.max(1, parseInt(query.page, 10) || 1);
  document.title = t('notice.title') + ' - ' + t('app.name');
  const box = h('div.results');
  const markAll = h('button.btn', { type: 'button', onclick: async () => {
    markAll.disabled = true;
    try {
      const res = await endpoints.markNotificationsRead({ all: true });
      announceUnread(res.unread);
      load();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      toastError(err);
    } finally {
      markAll.disabled = false;
    }
  } }, t('notice.mark_all'));
  mount(outlet, pageFrame(t('notice.title'), markAll,
    tabs([
      { href: link('/notifications'), label: t('notice.all'), current: !unreadOnly },
      { href: link('/notifications', { filter: 'unread' }), label: t('notice.unread'), current: unreadOnly },
    ], t('notice.title')),
    box));

  async function markOne(m, row) {
    try {
      const res = await endpoints.markNotificationsRead({ ids: [m.id] });
      announceUnread(res.unread);
      if (!alive) return;
      m.read = true;
      row.classList.remove('notice-unread');
      const btn = row.querySelector('.notice-mark');
      if (btn) btn.remove();
      const badge = row.querySelector('.notice-new');
      if (badge) badge.remove();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      toastError(err);
    }
  }

  function item(m) {
    const row = h('li.notice-item', { class: m.read ? '' : 'notice-unread', dataset: { id: m.id } });
    const open = h('a.notice-open', {
      href: link('/orders/' + m.work_order_id),
      // Opening the order reads the message.
      onclick: () => { if (!m.read) markOne(m, row); },
    }, t('notice.open_order'));
    mount(row,
      h('div.notice-head',
        m.read ? null : h('span.chip.chip-red.notice-new', t('notice.new')),
        h('strong.notice-kind', label('notice.template', m.template)),
        h('span.muted', dateTime(m.received_at)),
        m.recipient_kind === 'evaluator' ? h('span.chip', t('notice.to_evaluator')) : null),
      h('p.notice-body', linkified(m.body)),
      h('div.notice-actions', open,
        m.read ? null : h('button.btn.btn-small.notice-mark', { type: 'button', onclick: () => markOne(m, row) }, t('notice.mark_read'))));
    return row;
  }

  function pager(total) {
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    if (pages <= 1) return null;
    const q = (p) => link('/notifications', { filter: unreadOnly ? 'unread' : '', page: p });
    return h('nav.pager', { 'aria-label': t('inbox.page', { page, pages }) },
      page > 1 ? h('a.btn', { href: q(page - 1) }, t('inbox.prev')) : null,
      h('span', t('inbox.page', { page, pages })),
      page < pages ? h('a.btn', { href: q(page + 1) }, t('inbox.next')) : null);
  }

  function load() {
    loadInto(box, () => endpoints.notifications({ page, page_size: PAGE_SIZE, unread: unreadOnly ? 'true' : '' }), (res) => {
      const items = (res && res.items) || [];
      announceUnread(res ? res.unread : 0);
      if (items.length === 0) return h('p.empty', t(unreadOnly ? 'notice.empty_unread' : 'notice.empty'));
      return [
        h('p.muted', t('notice.summary', { total: res.total, unread: res.unread })),
        h('ul.notice-list', items.map(item)),
        pager(res.total),
      ];
    });
  }
  load();
  return () => { alive = false; };
}
