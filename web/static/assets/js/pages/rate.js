// The public rating page a QR code on a receipt opens (#/rate/{token}): the service that was
// done, five levels as a radio group of big faces (the UI's own SVG icons), optional indicators
// and tags, a comment. No sign-in; built for a phone screen first. The page knows from the
// server whether the rating window is still open: a closed one is explained, with no form.
import { h, mount, uid } from '../dom.js';
import { t, label } from '../i18n.js';
import { endpoints, ApiError, errorText } from '../api.js';
import { dateTime, deadlineWords } from '../format.js';
import { levelIcon } from '../icons.js';

const LEVELS = ['very_satisfied', 'satisfied', 'basically_satisfied', 'dissatisfied', 'very_dissatisfied'];
const BAD = ['dissatisfied', 'very_dissatisfied'];

/**
 * The five levels as a real radio group: native radio inputs (arrow keys move between them, Space
 * picks, screen readers announce "1 of 5") inside big labels that show the face and the word.
 * legend names the group; heading makes the legend look like the page's section heading.
 */
function levelButtons(legend, onPick, big, heading) {
  const name = uid('level');
  return h('fieldset.level-group', { class: big ? 'level-big' : 'level-small' },
    h('legend', { class: heading ? 'level-legend level-legend-heading' : 'level-legend' }, legend),
    h('div.level-buttons', LEVELS.map((lv) => h('label.level-btn', { dataset: { level: lv }, class: 'level-' + lv },
      h('input.level-radio', { type: 'radio', name, value: lv, onchange: (ev) => { if (ev.target.checked) onPick(lv); } }),
      h('span.level-face', levelIcon(lv, big ? 32 : 20)),
      h('span.level-text', label('level', lv))))));
}

/** The explanation shown instead of the form once the rating window has closed. */
function windowClosed(c) {
  return h('div.notice.notice-info.rate-closed', { role: 'status' },
    h('p.rate-closed-title', t('rate.window_closed_title')),
    h('p', c.window_closes_at ? t('rate.window_closed', { deadline: deadlineWords(c.window_closes_at) }) : t('rate.window_closed_nodate')),
    h('p', t('rate.window_closed_help')));
}

export default function ratePage(outlet, { params }) {
  let alive = true;
  const token = params.token;
  document.title = t('rate.title') + ' - ' + t('app.name');
  const box = h('div.citizen-card', h('p.muted', t('common.loading')));
  mount(outlet, h('section.citizen', { 'aria-labelledby': 'rate-title' },
    h('h1#rate-title', t('rate.title')), box));

  endpoints.rateCase(token).then((c) => {
    if (!alive) return;
    if (c.rated) {
      mount(box, h('div.notice.notice-info', { role: 'status' }, t('rate.already')));
      return;
    }
    if (c.window_open === false) {
      mount(box, caseFacts(c), windowClosed(c));
      return;
    }
    draw(c);
  }).catch((err) => {
    if (!alive || !(err instanceof ApiError)) throw err;
    mount(box, h('div.notice.notice-error', { role: 'alert' }, err.status === 404 ? t('rate.bad_link') : errorText(err)));
  });

  function caseFacts(c) {
    return h('dl.kv.rate-case',
      h('dt', t('rate.item')), h('dd', c.item_name),
      h('dt', t('rate.unit')), h('dd', c.unit_name),
      h('dt', t('rate.completed_at')), h('dd', dateTime(c.completed_at)),
      c.window_closes_at ? [h('dt', t('rate.window')), h('dd', deadlineWords(c.window_closes_at))] : null);
  }

  function draw(c) {
    const chosen = { overall: '' };
    const tags = new Set();
    const err = h('div.form-error', { role: 'alert', hidden: true });
    const badHint = h('p.notice.notice-warning', { hidden: true }, t('rate.bad_hint'));
    const commentId = uid('comment');
    const comment = h('textarea', { id: commentId, name: 'comment', rows: 4, maxlength: 500, placeholder: t('rate.comment_placeholder') });
    const submit = h('button.btn.btn-primary.btn-lg.btn-block', { type: 'submit', disabled: true }, t('rate.submit'));
    // The indicators box offers the indicator catalogue of the case's unit; its names are the
    // jurisdiction's own (a catalogue may hold indicators the UI catalogue does not know).
    const names = Object.fromEntries((c.indicator_catalogue || []).map((i) => [i.code, i.name]));
    const nameOf = (ind) => names[ind] || label('indicator', ind);
    const indicators = h('details.rate-more',
      h('summary', t('rate.more')),
      (c.indicators || []).map((ind) => h('div.rate-indicator', { dataset: { indicator: ind } },
        levelButtons(nameOf(ind), (lv) => { chosen[ind] = lv; }, false, false))));
    const tagBox = h('div.tag-list', { role: 'group', 'aria-label': t('rate.tags') },
      (c.tags || []).map((tag) => h('button.tag', {
        type: 'button', 'aria-pressed': 'false', dataset: { tag },
        onclick: (ev) => {
          const on = !tags.has(tag);
          if (on) tags.add(tag); else tags.delete(tag);
          ev.currentTarget.setAttribute('aria-pressed', String(on));
        },
      }, label('rate.tag', tag))));
    const form = h('form.rate-form', { novalidate: true },
      caseFacts(c),
      levelButtons(t('rate.overall'), (lv) => {
        chosen.overall = lv;
        submit.disabled = false;
        badHint.hidden = !BAD.includes(lv);
      }, true, true),
      badHint,
      indicators,
      h('h2', t('rate.tags')), tagBox,
      h('div.field', h('label', { for: commentId }, t('rate.comment')), comment),
      err, submit);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      err.hidden = true;
      if (!chosen.overall) {
        err.textContent = t('rate.pick_level');
        err.hidden = false;
        return;
      }
      const levels = Object.fromEntries(Object.entries(chosen).filter(([, v]) => v));
      submit.disabled = true;
      submit.setAttribute('aria-busy', 'true');
      try {
        const res = await endpoints.rate(token, { levels, tags: [...tags], comment: comment.value.trim() });
        if (!alive) return;
        mount(box, h('div.rate-done', { role: 'status' },
          h('p.rate-done-title', t(res.already_rated ? 'rate.already' : 'rate.thanks')),
          res.bad && !res.already_rated ? h('p', t('rate.bad_received')) : null,
          // A bad rating's tracking page: the citizen can follow the order from now on (the
          // first SMS carries the same kind of link).
          res.track_token ? [
            h('p', h('a.btn.btn-primary.btn-lg.rate-track', { href: '#/track/' + encodeURIComponent(res.track_token) }, t('rate.track_link'))),
            h('p.muted', t('rate.track_hint'))] : null));
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        err.textContent = errorText(e);
        err.hidden = false;
        submit.disabled = false;
      } finally {
        submit.removeAttribute('aria-busy');
      }
    });
    mount(box, form);
  }

  return () => { alive = false; };
}
