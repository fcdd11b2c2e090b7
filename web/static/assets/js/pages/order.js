// One work order: summary, the rating, every deadline, the timeline, and exactly the action
// forms the order's state allows for the caller (the server's allowed_actions when present).
import { h, mount } from '../dom.js';
import { t, has, label } from '../i18n.js';
import { endpoints, ApiError, errorText, download } from '../api.js';
import { link } from '../router.js';
import { allowed, definition } from '../actions.js';
import { actionForm, actionLabel } from '../forms.js';
import * as session from '../session.js';
import { orderTitle } from '../bulk.js';
import {
  stateChip, levelChip, supervisionChip, countdownChip, dueText, budgetText, dateTime, overallLevel,
} from '../format.js';

const INDICATOR_FIRST = 'overall';
const MAX_ATTACHMENT = 5 * 1024 * 1024;

/**
 * The rectification evidence (photos and PDFs) of an order: listed for everyone who sees the
 * order (the reviewer and the auditor among them), added by the unit while it rectifies. The
 * list loads into its own box so that a slow answer never holds the page.
 */
function evidence(o) {
  const canAdd = o.state === 'rectifying' && session.hasRole('officer', 'unit_leader');
  const list = h('div.attachments', { 'aria-live': 'polite' }, h('p.muted', t('common.loading')));
  const load = () => endpoints.attachments(o.id).then((res) => {
    const items = (res && res.items) || [];
    mount(list, items.length === 0 ? h('p.empty', t('attach.none')) : h('ul.attachment-list', items.map((a) => h('li', { dataset: { id: a.id } },
      h('button.btn-link.attachment-download', {
        type: 'button',
        onclick: () => download(endpoints.attachmentPath(o.id, a.id), a.filename).catch((e) => { if (!(e instanceof ApiError)) throw e; }),
      }, a.filename),
      ' ', h('span.muted', t('attach.meta', { type: label('attach.type', a.content_type), size: Math.max(1, Math.round(a.size / 1024)), by: a.uploaded_by, at: dateTime(a.created_at) })),
      a.note ? h('div', a.note) : null))));
  }).catch((e) => {
    if (!(e instanceof ApiError)) throw e;
    mount(list, h('p.notice.notice-error', errorText(e)));
  });
  let form = null;
  if (canAdd) {
    const fileId = 'attach-file-' + o.id;
    const noteId = 'attach-note-' + o.id;
    const err = h('div.form-error', { role: 'alert', hidden: true });
    const file = h('input', { id: fileId, name: 'file', type: 'file', accept: 'image/jpeg,image/png,image/gif,image/webp,application/pdf' });
    const note = h('input', { id: noteId, name: 'note', type: 'text', maxlength: 500 });
    const btn = h('button.btn.btn-primary.btn-small', { type: 'submit' }, t('attach.upload'));
    form = h('form.attach-form', {
      onsubmit: async (ev) => {
        ev.preventDefault();
        err.hidden = true;
        const f = file.files && file.files[0];
        if (!f) { err.textContent = t('attach.pick'); err.hidden = false; return; }
        if (f.size > MAX_ATTACHMENT) { err.textContent = t('apierror.file_too_large'); err.hidden = false; return; }
        btn.disabled = true;
        try {
          await endpoints.uploadAttachment(o.id, f, note.value.trim());
          file.value = '';
          note.value = '';
          load();
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
          err.textContent = errorText(e);
          err.hidden = false;
        } finally {
          btn.disabled = false;
        }
      },
    },
    h('p.muted', t('attach.hint')),
    h('div.field', h('label', { for: fileId }, t('attach.file')), file),
    h('div.field', h('label', { for: noteId }, t('attach.note')), note),
    err, btn);
  }
  load();
  return h('section.panel', { 'aria-labelledby': 'sec-evidence' }, h('h2#sec-evidence', t('attach.title')), list, form);
}

// Timeline data values that are codes with catalogue labels.
const VALUE_PREFIX = {
  state: 'state', from: 'state', to: 'state', disposition: 'disposition', method: 'method',
  satisfaction: 'satisfaction', appeal_reason: 'appeal_reason', deadline: 'deadline', name: 'deadline',
  level: 'supervision', supervision_level: 'supervision', action: 'action', role: 'role', channel: 'channel',
  rule: 'dispatch_rule', breach: 'breach',
};

/**
 * Who a timeline event notified, in words: "role@/unit/path/" becomes the role's name and the
 * unit's code (the last part of its path), "evaluator:sms" the evaluator by SMS.
 */
function recipientText(v) {
  const s = String(v);
  if (s.startsWith('evaluator:')) return t('recipient.evaluator', { channel: label('notice.channel', s.slice(10)) });
  const at = s.indexOf('@');
  if (at < 0) return s;
  const parts = s.slice(at + 1).split('/').filter(Boolean);
  return t('role.at_unit', { role: label('role', s.slice(0, at)), unit: parts[parts.length - 1] || '' });
}

function dl(pairs) {
  return h('dl.kv', pairs.filter(Boolean).map(([k, v]) => [h('dt', k), h('dd', v)]));
}

function unitText(u) {
  if (!u) return t('common.none');
  if (typeof u === 'string') return u;
  return u.name ? (u.code ? t('common.name_code', { name: u.name, code: u.code }) : u.name) : u.code || t('common.none');
}

function staffText(s) {
  if (!s) return t('common.none');
  if (typeof s === 'string') return s;
  return [s.name, s.id].filter(Boolean).join(' · ') || t('common.none');
}

function summary(o) {
  return h('section.panel', { 'aria-labelledby': 'sec-summary' },
    h('h2#sec-summary', t('order.section.summary')),
    dl([
      [t('order.field.id'), h('code', o.id)],
      [t('order.field.state'), stateChip(o.state)],
      [t('order.field.unit'), unitText(o.unit)],
      [t('order.field.staff'), staffText(o.staff_name ? { name: o.staff_name, id: o.staff } : o.staff)],
      [t('order.field.case_nos'), (o.case_nos || []).length ? h('span.case-nos', o.case_nos.map((c) => h('code', c))) : t('common.none')],
      [t('order.field.evaluation_id'), o.evaluation_id ? h('code', o.evaluation_id) : t('common.none')],
      [t('order.field.opened_at'), dateTime(o.opened_at)],
      [t('order.field.disposition'), label('disposition', o.disposition)],
      // Why a deadline cannot be computed (the server's Chinese text): the order waits for the policy's fix.
      ...(o.deadline_error ? [[t('order.field.deadline_error'), h('span.text-danger', o.deadline_error)]] : []),
      ...(o.appeal_draft ? [[t('order.field.appeal_draft'), t('order.field.appeal_draft_value', {
        reason: label('appeal_reason', o.appeal_draft.appeal_reason), evidence: o.appeal_draft.evidence, by: o.appeal_draft.drafted_by })]] : []),
      [t('order.field.supervision'), supervisionChip(o.supervision_level) || t('supervision.0')],
      [t('order.field.overdue_days'), o.overdue_days > 0
        ? h('span.text-danger', t('order.field.overdue_days_value', { n: o.overdue_days }))
        : t('order.field.overdue_days_value', { n: 0 })],
    ]));
}

/** The evaluator's phone, masked, with a reveal button for whoever may record the callback. */
function phoneCell(o, ev, nameCell) {
  const masked = ev.phone || t('common.none');
  if (!(o.allowed_actions || []).includes('callback') || !ev.phone) return masked;
  const out = h('span.reveal', h('span.reveal-value', masked));
  const btn = h('button.btn.btn-small', { type: 'button', dataset: { reveal: '1' }, onclick: async () => {
    btn.disabled = true;
    try {
      const c = await endpoints.evaluatorContact(o.id, 'callback');
      const phone = (c && (c.phone || (c.evaluator && c.evaluator.phone))) || masked;
      const name = c && (c.name || (c.evaluator && c.evaluator.name));
      // The name is revealed with the number (the same recorded read): the officer calling
      // back addresses the evaluator by it.
      if (name && nameCell) mount(nameCell, name);
      mount(out, h('a.reveal-value', { href: 'tel:' + phone }, phone),
        h('span.muted.reveal-note', t('order.reveal_logged')));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      btn.disabled = false;
      out.append(h('span.field-error', errorText(err)));
    }
  } }, t('order.reveal'));
  out.append(' ', btn);
  return out;
}

function rating(o) {
  const levels = { ...(o.levels || {}) };
  if (!levels.overall && overallLevel(o)) levels.overall = overallLevel(o);
  const keys = Object.keys(levels).sort((a, b) => (a === INDICATOR_FIRST ? -1 : b === INDICATOR_FIRST ? 1 : 0));
  const ev = o.evaluator || {};
  const nameCell = h('span.evaluator-name', ev.name || t('common.none'));
  return h('section.panel', { 'aria-labelledby': 'sec-rating' },
    h('h2#sec-rating', t('order.section.rating')),
    h('table.data.compact',
      h('thead', h('tr', h('th', { scope: 'col' }, t('order.indicator')), h('th', { scope: 'col' }, t('order.level')))),
      h('tbody', keys.map((k) => h('tr', h('th', { scope: 'row' }, label('indicator', k)), h('td', levelChip(levels[k])))))),
    h('blockquote.comment', o.comment ? o.comment : h('span.muted', t('order.no_comment'))),
    dl([
      (o.tags && o.tags.length) ? [t('order.field.tags'), o.tags.join(t('common.list_sep'))] : null,
      o.channel ? [t('order.field.channel'), label('channel', o.channel)] : null,
      o.rated_at ? [t('order.field.rated_at'), dateTime(o.rated_at)] : null,
      [t('order.field.evaluator'), nameCell],
      [t('order.field.evaluator_phone'), phoneCell(o, ev, nameCell)],
    ]));
}

function deadlines(o, now) {
  const list = o.deadlines || [];
  const col = (k) => h('th', { scope: 'col' }, t('order.dl.' + k));
  const cell = (k, ...c) => h('td', { dataset: { label: t('order.dl.' + k) } }, ...c);
  return h('section.panel', { 'aria-labelledby': 'sec-deadlines' },
    h('h2#sec-deadlines', t('order.section.deadlines')),
    list.length === 0 ? h('p.muted', t('order.dl.empty')) : h('div.table-wrap', h('table.data.compact.cards-on-narrow',
      h('thead', h('tr', col('name'), col('budget'), col('start'), col('due'), col('status'))),
      h('tbody', list.map((d) => h('tr', {
        class: d.overdue && !d.met_at ? 'row-overdue' : undefined,
        title: d.calendar_version ? t('order.dl.calendar', { v: d.calendar_version }) : undefined,
      },
      h('th', { scope: 'row', dataset: { label: t('order.dl.name') } }, label('deadline', d.name),
        d.owner ? h('div.muted', t('owner.' + d.owner.kind, { unit: d.owner.code || '' })) : null),
      cell('budget', budgetText(d)),
      cell('start', dateTime(d.start)),
      cell('due', dueText(d)),
      cell('status', countdownChip(d, now))))))));
}

function valueText(key, v) {
  if (v === null || v === undefined || v === '') return t('common.none');
  if (typeof v === 'boolean') return t(v ? 'common.yes' : 'common.no');
  if (Array.isArray(v)) return v.map((x) => valueText(key, x)).join(t('common.list_sep'));
  if (typeof v === 'object') {
    if (v.name || v.code) return unitText(v);
    return JSON.stringify(v);
  }
  if (key === 'notified') return recipientText(v);
  if (key === 'attempt') return t('data.attempt_value', { n: v });
  if (key === 'content_type') return label('attach.type', v);
  if (VALUE_PREFIX[key]) return label(VALUE_PREFIX[key], v);
  if (/_at$/.test(key) && typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) return dateTime(v);
  return String(v);
}

function keyText(k) {
  if (has('data.' + k)) return t('data.' + k);
  if (has('field.' + k)) return t('field.' + k);
  return k;
}

function actorText(a) {
  if (!a || a === 'system') return t('order.timeline.actor_system');
  if (typeof a === 'object') return [a.name, a.login].filter(Boolean).join(' · ') || t('order.timeline.actor_system');
  return String(a);
}

function timeline(events) {
  return h('section.panel', { 'aria-labelledby': 'sec-timeline' },
    h('h2#sec-timeline', t('order.section.timeline')),
    !events ? h('p.muted', t('common.loading'))
      : events.length === 0 ? h('p.muted', t('order.timeline.empty'))
        : h('ol.timeline', events.map((e) => {
          const data = e.data && typeof e.data === 'object' ? Object.entries(e.data) : [];
          return h('li',
            h('div.tl-head',
              h('span.tl-type', label('event', e.type)),
              h('time', { datetime: e.at }, dateTime(e.at, true)),
              h('span.tl-actor', actorText(e.actor_name ? { name: e.actor_name, login: e.actor } : e.actor))),
            data.length ? h('dl.kv.tl-data', data.map(([k, v]) => [h('dt', keyText(k)), h('dd', valueText(k, v))])) : null);
        })));
}

function actionsPanel(o, me, handlers) {
  const names = allowed(o, me);
  let content;
  const pe = o.pending_extension;
  const pending = pe ? h('div.notice.notice-warning', t('order.pending_extension', {
    days: pe.days ?? '', reason: pe.reason ?? '', at: dateTime(pe.at) })) : null;
  if (names.length === 0) {
    const readonly = session.hasRole('auditor') && !session.hasRole('officer', 'unit_leader', 'administrator', 'supervisor');
    content = h('p.muted', t(readonly ? 'order.actions.readonly' : 'order.actions.none'));
  } else {
    // Open the form that moves the order on; the others (a further callback attempt, escalation,
    // reassignment…) stay folded until asked for.
    const secondary = ['escalate', 'reassign', 'waive_callback', 'progress', 'request_extension', 'return',
      ...(o.state === 'called_back' ? ['callback'] : [])];
    const main = names.find((n) => !secondary.includes(n)) || names[0];
    content = names.map((n) => {
      const form = actionForm(definition(n), { ...handlers, draft: o.id });
      // A form holding a restored draft is unfolded, so that what was typed is seen.
      return h('details.action', { open: n === main || form.dataset.draft ? true : undefined, dataset: { action: n } },
        h('summary', actionLabel(n)), form);
    });
  }
  return h('section.panel.actions-panel', { 'aria-labelledby': 'sec-actions' },
    h('h2#sec-actions', t('order.section.actions')), pending, content);
}

export default function orderPage(outlet, { params }) {
  const id = params.id;
  let alive = true;
  let order = null;
  let events = null;
  const toast = h('div.toast', { role: 'status', 'aria-live': 'polite' });
  const head = h('div.page-head');
  const errorBox = h('div.notice.notice-error', { role: 'alert', hidden: true });
  const layout = h('div.order-layout', h('p.muted', t('common.loading')));
  mount(outlet, h('section.page',
    h('a.back', { href: link('/inbox') }, '← ', t('order.back')),
    head, errorBox, toast, layout));

  const reload = async () => {
    try {
      const [o, tl] = await Promise.all([endpoints.workOrder(id), endpoints.timeline(id).catch(() => [])]);
      if (!alive) return;
      order = o;
      events = Array.isArray(tl) ? tl : (tl && tl.items) || [];
      draw();
    } catch (err) {
      if (!alive || !(err instanceof ApiError)) throw err;
      if (err.status === 401) return;
      errorBox.textContent = err.status === 404 || err.status === 403 ? t('order.not_found') : errorText(err);
      errorBox.hidden = false;
      mount(layout);
    }
  };

  const handlers = {
    submit: (body, key) => endpoints.act(id, body, key),
    onDone: (o) => {
      if (!alive) return;
      const done = o && o.id ? o : order;
      order = done;
      toast.textContent = t('order.actions.done', { action: actionLabel(lastAction) });
      toast.classList.add('show');
      setTimeout(() => toast.classList.remove('show'), 4000);
      draw();
      endpoints.timeline(id).then((tl) => {
        if (!alive) return;
        events = Array.isArray(tl) ? tl : (tl && tl.items) || [];
        draw();
      }).catch(() => {});
    },
    onConflict: () => reload(),
  };
  let lastAction = '';
  const trackingHandlers = { ...handlers, submit: (body, key) => { lastAction = body.action; return handlers.submit(body, key); } };

  function draw() {
    const o = order;
    errorBox.hidden = true;
    document.title = t('order.title', { title: orderTitle(o) }) + ' - ' + t('app.name');
    mount(head,
      h('h1', t('order.title', { title: orderTitle(o) })),
      h('div.head-chips', stateChip(o.state), supervisionChip(o.supervision_level),
        o.overdue_days > 0 ? h('span.chip.chip-red', t('countdown.overdue_days', { n: o.overdue_days })) : null));
    const now = Date.now();
    mount(layout,
      h('div.order-main', summary(o), rating(o), deadlines(o, now), evidence(o), timeline(events)),
      h('div.order-side', actionsPanel(o, session.user(), trackingHandlers)));
  }

  reload();
  return () => { alive = false; };
}
