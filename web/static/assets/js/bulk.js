// Bulk actions on a list of work orders (the inbox and the supervisor board): bulk sign and
// bulk escalate, with a result per row.
import { h, mount, uid } from './dom.js';
import { t } from './i18n.js';
import { endpoints, ApiError, errorText, newIdempotencyKey } from './api.js';
import { link } from './router.js';
import { caseNos } from './format.js';

/** The order's title: its case number(s) and the service item, never the UUID. */
export function orderTitle(o) {
  const cases = caseNos(o.case_nos);
  return o.service_name ? cases + ' · ' + o.service_name : cases;
}

/**
 * The bulk bar: sign or escalate the selected orders, one request each (the server decides each
 * one as for a single order), with a result per row: success, or the refusal in Chinese. items()
 * answers the orders shown; selected is the Set of chosen ids; onDone reloads the list.
 */
export function bulkBar({ items: itemsOf, selected, canSign, canEscalate, onDone }) {
  const count = h('span.bulk-count', { 'aria-live': 'polite' });
  const noteId = uid('bulk-note');
  const note = h('input', { id: noteId, name: 'bulk_note', type: 'text', maxlength: 2000, placeholder: t('inbox.bulk.note_placeholder'), size: 24 });
  const report = h('div.bulk-report', { 'aria-live': 'polite' });
  const signBtn = canSign ? h('button.btn.btn-small.btn-primary', { type: 'button', dataset: { bulk: 'sign' }, onclick: () => run('sign') }, t('inbox.bulk.sign')) : null;
  const escBtn = canEscalate ? h('button.btn.btn-small', { type: 'button', dataset: { bulk: 'escalate' }, onclick: () => run('escalate') }, t('inbox.bulk.escalate')) : null;
  const el = h('div.bulk-bar', { hidden: !(canSign || canEscalate), role: 'region', 'aria-label': t('inbox.bulk.title') },
    count, signBtn,
    escBtn ? [h('label.sr-only', { for: noteId }, t('inbox.bulk.note')), note, escBtn] : null,
    report);
  let busy = false;
  async function run(action) {
    const chosen = itemsOf().filter((o) => selected.has(o.id));
    if (chosen.length === 0 || busy) return;
    const body = { action };
    if (action === 'escalate') {
      if (!note.value.trim()) {
        mount(report, h('p.form-error', { role: 'alert' }, t('inbox.bulk.note_required')));
        note.focus();
        return;
      }
      body.note = note.value.trim();
    }
    busy = true;
    update();
    const rows = [];
    const table = h('table.data.bulk-results',
      h('caption', t('inbox.bulk.result_title', { action: t('inbox.bulk.' + action) })),
      h('thead', h('tr', h('th', { scope: 'col' }, t('inbox.col.case_no')), h('th', { scope: 'col' }, t('inbox.bulk.result')))),
      h('tbody'));
    mount(report, table);
    for (const o of chosen) {
      const res = h('td', t('inbox.bulk.running'));
      const tr = h('tr', { dataset: { id: o.id } }, h('td', h('a', { href: link('/orders/' + encodeURIComponent(o.id)) }, orderTitle(o))), res);
      table.tBodies[0].append(tr);
      try {
        await endpoints.act(o.id, body, newIdempotencyKey());
        tr.dataset.result = 'ok';
        mount(res, h('span.text-ok', t('inbox.bulk.ok')));
        selected.delete(o.id);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        tr.dataset.result = 'failed';
        mount(res, h('span.text-danger', t('inbox.bulk.failed', { message: errorText(err) })));
      }
      rows.push(tr);
    }
    const ok = rows.filter((r) => r.dataset.result === 'ok').length;
    report.prepend(h('p.bulk-summary', { role: 'status' }, t('inbox.bulk.summary', { ok, failed: rows.length - ok })));
    busy = false;
    if (action === 'escalate' && ok) note.value = '';
    onDone();
  }
  function update() {
    const n = itemsOf().filter((o) => selected.has(o.id)).length;
    count.textContent = t('inbox.bulk.selected', { n });
    for (const b of [signBtn, escBtn]) if (b) b.disabled = busy || n === 0;
  }
  return { el, update };
}
