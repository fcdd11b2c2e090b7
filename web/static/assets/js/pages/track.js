// The citizen's tracking page of their bad review (#/track/{token}, the link in the feedback
// message): where the work order stands, what the unit did, and — once the result is out — the
// form to say whether they are satisfied with the handling. No sign-in.
import { h, mount, uid } from '../dom.js';
import { t, label } from '../i18n.js';
import { endpoints, ApiError, errorText } from '../api.js';
import { dateTime, stateChip, deadlineWords } from '../format.js';

const SATISFACTION = ['satisfied', 'basically_satisfied', 'dissatisfied'];

function pick(o, ...keys) {
  for (const k of keys) if (o && o[k] !== undefined && o[k] !== null && o[k] !== '') return o[k];
  return null;
}

function steps(list) {
  if (!Array.isArray(list) || list.length === 0) return null;
  return h('ol.timeline.track-steps', list.map((e) => h('li',
    h('div.tl-head',
      h('span.tl-type', pick(e, 'label', 'title') || label('track.step', pick(e, 'step', 'type', 'kind'))),
      e.at ? h('time', { datetime: e.at }, dateTime(e.at)) : null),
    pick(e, 'text', 'message', 'summary') ? h('p.track-text', pick(e, 'text', 'message', 'summary')) : null)));
}

export default function trackPage(outlet, { params }) {
  let alive = true;
  const token = params.token;
  document.title = t('track.title') + ' - ' + t('app.name');
  const box = h('div.citizen-card', h('p.muted', t('common.loading')));
  mount(outlet, h('section.citizen', { 'aria-labelledby': 'track-title' }, h('h1#track-title', t('track.title')), box));

  const load = () => endpoints.track(token).then((v) => { if (alive) draw(v); }).catch((err) => {
    if (!alive || !(err instanceof ApiError)) throw err;
    mount(box, h('div.notice.notice-error', { role: 'alert' }, err.status === 404 ? t('track.bad_link') : errorText(err)));
  });

  function feedbackForm(v) {
    const err = h('div.form-error', { role: 'alert', hidden: true });
    const name = uid('sat');
    const cid = uid('fbc');
    const form = h('form.track-feedback', { novalidate: true },
      h('h2', t('track.feedback_title')),
      h('fieldset.field', h('legend', t('track.feedback_question')),
        h('div.radios.radios-big', SATISFACTION.map((s) => {
          const id = uid('s');
          return h('label.radio', { for: id }, h('input', { type: 'radio', id, name, value: s }), ' ', label('satisfaction', s));
        }))),
      h('div.field', h('label', { for: cid }, t('track.feedback_comment')), h('textarea', { id: cid, name: 'comment', rows: 3, maxlength: 500 })),
      err,
      h('button.btn.btn-primary.btn-lg.btn-block', { type: 'submit' }, t('track.feedback_submit')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      err.hidden = true;
      const c = form.querySelector(`input[name="${name}"]:checked`);
      if (!c) {
        err.textContent = t('track.feedback_pick');
        err.hidden = false;
        return;
      }
      const btn = form.querySelector('button[type=submit]');
      btn.disabled = true;
      try {
        await endpoints.trackFeedback(token, { satisfaction: c.value, comment: form.elements.namedItem('comment').value.trim() });
        if (!alive) return;
        await load();
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        err.textContent = errorText(e);
        err.hidden = false;
        btn.disabled = false;
      }
    });
    return form;
  }

  function outcome(v) {
    const parts = [];
    if (v.disposition) parts.push(h('p', h('strong', t('track.disposition')), label('disposition', v.disposition)));
    if (v.verified && typeof v.verified === 'object') {
      parts.push(h('p', t(v.verified.true ? 'track.verified_true' : 'track.verified_false')));
    }
    if (v.measures) parts.push(h('p', h('strong', t('field.measures')), v.measures));
    if (v.plan) parts.push(h('p', h('strong', t('field.plan')), v.plan, v.committed_date ? ' ' + t('track.committed', { date: v.committed_date }) : ''));
    if (v.explanation) parts.push(h('p', h('strong', t('field.explanation')), v.explanation));
    if (v.appeal && typeof v.appeal === 'object' && v.appeal.upheld !== undefined) parts.push(h('p', t(v.appeal.partly ? 'track.appeal_upheld_partly' : v.appeal.upheld ? 'track.appeal_upheld' : 'track.appeal_rejected')));
    const text = pick(v, 'outcome', 'result');
    if (text) parts.push(h('p', typeof text === 'object' ? JSON.stringify(text) : String(text)));
    return parts.length ? h('section.track-outcome', h('h2', t('track.outcome')), h('div.comment', parts)) : null;
  }

  function draw(v) {
    const state = pick(v, 'state', 'status');
    const given = pick(v, 'satisfaction', 'feedback');
    const canFeedback = v.feedback_open === true || v.can_feedback === true;
    const unit = typeof v.unit === 'object' && v.unit ? (v.unit.name || v.unit.code) : pick(v, 'unit_name', 'unit');
    mount(box,
      h('dl.kv.track-summary',
        pick(v, 'item_name') ? [h('dt', t('rate.item')), h('dd', v.item_name)] : null,
        unit ? [h('dt', t('track.unit')), h('dd', unit)] : null,
        pick(v, 'opened_at', 'rated_at') ? [h('dt', t('track.opened_at')), h('dd', dateTime(pick(v, 'opened_at', 'rated_at')))] : null,
        h('dt', t('track.state')), h('dd.track-state', state ? stateChip(state) : t('common.none')),
        v.feedback_open && v.feedback_due_at ? [h('dt', t('track.feedback_due')), h('dd', deadlineWords(v.feedback_due_at))] : null),
      h('p.track-state-text', label('track.state_text', state || '', '')),
      outcome(v),
      steps(pick(v, 'steps', 'events', 'timeline')),
      given ? h('div.notice.notice-info', { role: 'status' }, t('track.feedback_given', { s: label('satisfaction', typeof given === 'object' ? given.satisfaction : given) })) : null,
      canFeedback && !given ? feedbackForm(v) : null);
  }

  load();
  return () => { alive = false; };
}
