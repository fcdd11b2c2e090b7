// Action forms built from the definitions in actions.js: labelled controls, conditional fields,
// client-side checks for required values, and API errors shown next to the field they name.
import { h, uid } from './dom.js';
import { t, has } from './i18n.js';
import { ApiError, newIdempotencyKey, errorText } from './api.js';

function actionLabel(name, fallback) {
  return has('action.' + name) ? t('action.' + name) : (fallback || name);
}

/** A field's label: an i18n key, or the server's zh-CN label as it stands. */
function fieldLabel(field) {
  return field.rawLabel ? field.label : t(field.label);
}

function control(field, id, errId) {
  const common = { id, name: field.name, 'aria-describedby': errId };
  if (field.required) common['aria-required'] = 'true';
  switch (field.type) {
    case 'textarea':
      // The server's limit (GET /api/v1/actions' max_length; 2000 characters).
      return h('textarea', { ...common, rows: 3, maxlength: field.maxLength || 2000 });
    case 'number':
      return h('input', { ...common, type: 'number', min: 1, step: 1, inputmode: 'numeric' });
    case 'date':
      return h('input', { ...common, type: 'date' });
    case 'select':
      return h('select', common,
        h('option', { value: '' }, t('common.please_select')),
        field.options.map((o) => h('option', { value: o, selected: o === field.initial },
          field.optionLabels ? (field.optionLabels[o] || o) : t(field.optionPrefix + '.' + o))));
    case 'checkbox':
      return h('input', { ...common, type: 'checkbox' });
    default:
      return h('input', { ...common, type: 'text', autocomplete: 'off',
        placeholder: field.placeholder ? t(field.placeholder) : undefined });
  }
}

function fieldRow(field) {
  const id = uid('f-' + field.name);
  const errId = id + '-err';
  const err = h('div.field-error', { id: errId, role: 'alert', hidden: true });
  let row;
  if (field.type === 'yesno') {
    const name = uid('r-' + field.name);
    const opt = (val, key) => {
      const rid = uid('r');
      return h('label.radio', { for: rid },
        h('input', { type: 'radio', id: rid, name, value: val, dataset: { field: field.name } }), ' ', t(key));
    };
    row = h('fieldset.field.field-yesno', { 'aria-describedby': errId, dataset: { field: field.name } },
      h('legend', fieldLabel(field), field.required ? h('span.req', { 'aria-hidden': 'true' }, ' *') : null),
      h('div.radios', opt('yes', field.yes || 'common.yes'), opt('no', field.no || 'common.no')),
      err);
  } else if (field.type === 'checkbox') {
    row = h('div.field.field-check', { dataset: { field: field.name } },
      h('label', { for: id }, control(field, id, errId), ' ', fieldLabel(field)), err);
  } else {
    row = h('div.field', { dataset: { field: field.name } },
      h('label', { for: id }, fieldLabel(field), field.required ? h('span.req', { 'aria-hidden': 'true' }, ' *') : null),
      control(field, id, errId), err);
  }
  return row;
}

/** Reads the current values of a form's fields ({name: value}; booleans for checks and yes/no). */
function readValues(form, def) {
  const v = {};
  for (const f of def.fields) {
    if (f.type === 'yesno') {
      const c = form.querySelector(`input[data-field="${f.name}"]:checked`);
      v[f.name] = c ? c.value === 'yes' : undefined;
    } else {
      const el = form.elements.namedItem(f.name);
      if (!el) continue;
      if (f.type === 'checkbox') v[f.name] = el.checked;
      else v[f.name] = el.value.trim();
    }
  }
  return v;
}

function rowOf(form, name) {
  return form.querySelector(`.field[data-field="${CSS.escape(name)}"]`);
}

function showFieldError(form, name, message) {
  const row = rowOf(form, name);
  if (!row || row.hidden) return false;
  const err = row.querySelector('.field-error');
  err.textContent = message;
  err.hidden = false;
  row.classList.add('invalid');
  const ctl = row.querySelector('input, select, textarea');
  if (ctl) {
    ctl.setAttribute('aria-invalid', 'true');
    ctl.focus();
  }
  return true;
}

function clearErrors(form) {
  for (const e of form.querySelectorAll('.field-error')) {
    e.textContent = '';
    e.hidden = true;
  }
  for (const r of form.querySelectorAll('.invalid')) r.classList.remove('invalid');
  for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
  const top = form.querySelector('.form-error');
  top.textContent = '';
  top.hidden = true;
}

// Drafts: what is typed into an action's form is kept in this tab's sessionStorage (per order
// and action, the form's fields only, never the session) until the action succeeds, so that a
// note typed while the session expired is there again after signing in.
const DRAFT = 'redress.draft.';

function drafts() {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

function readDraft(key) {
  const s = drafts();
  if (!s || !key) return null;
  try {
    const v = JSON.parse(s.getItem(key) || 'null');
    return v && typeof v === 'object' ? v : null;
  } catch {
    return null;
  }
}

function writeDraft(key, values) {
  const s = drafts();
  if (!s || !key) return;
  const kept = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== '' && v !== false));
  try {
    if (Object.keys(kept).length) s.setItem(key, JSON.stringify(kept));
    else s.removeItem(key);
  } catch {
    // Storage full or refused: the draft lasts as long as the page.
  }
}

/** Forgets every draft of this tab (an explicit sign-out on a shared computer). */
export function clearDrafts() {
  const s = drafts();
  if (!s) return;
  for (const k of Object.keys(s)) if (k.startsWith(DRAFT)) s.removeItem(k);
}

function restoreValues(form, def, v) {
  for (const f of def.fields) {
    if (!(f.name in v)) continue;
    if (f.type === 'yesno') {
      const r = form.querySelector(`input[data-field="${f.name}"][value="${v[f.name] ? 'yes' : 'no'}"]`);
      if (r) r.checked = true;
      continue;
    }
    const el = form.elements.namedItem(f.name);
    if (!el) continue;
    if (f.type === 'checkbox') el.checked = !!v[f.name];
    else el.value = String(v[f.name]);
  }
}

/**
 * Builds the form of one action. submit(body, idempotencyKey) posts it and answers the new order;
 * onDone(order) runs after success. The idempotency key is kept across a network failure (so a
 * retry cannot act twice) and renewed once the server has answered. draft (an order id) keeps
 * what is typed as a draft of the order's action until it succeeds; a restored draft is said
 * on the form (form.dataset.draft is set).
 */
export function actionForm(def, { submit, onDone, onConflict, draft }) {
  const draftKey = draft ? DRAFT + draft + '.' + def.name : null;
  let key = newIdempotencyKey();
  const rows = def.fields.map((f) => ({ f, el: fieldRow(f) }));
  const topError = h('div.form-error', { role: 'alert', tabindex: -1, hidden: true });
  const button = h('button.btn', { type: 'submit', class: def.danger ? 'btn-danger' : 'btn-primary' }, actionLabel(def.name, def.label));
  const form = h('form.action-form', { novalidate: true, 'aria-label': actionLabel(def.name, def.label), dataset: { action: def.name } },
    def.hint ? h('p.hint', t(def.hint)) : null,
    topError,
    rows.map((r) => r.el),
    h('div.form-actions', button));

  const sync = () => {
    const v = readValues(form, def);
    for (const { f, el } of rows) {
      const show = !f.when || f.when(v);
      el.hidden = !show;
      for (const c of el.querySelectorAll('input, select, textarea')) c.disabled = !show;
    }
  };
  form.addEventListener('change', sync);
  form.addEventListener('input', sync);
  const kept = readDraft(draftKey);
  if (kept) {
    restoreValues(form, def, kept);
    form.dataset.draft = 'restored';
    topError.before(h('p.notice.notice-info.draft-restored', { role: 'status' }, t('form.draft_restored')));
  }
  sync();
  if (draftKey) {
    const save = () => writeDraft(draftKey, readValues(form, def));
    form.addEventListener('input', save);
    form.addEventListener('change', save);
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const v = readValues(form, def);
    const body = { action: def.name };
    let firstBad = null;
    for (const { f, el } of rows) {
      if (el.hidden) continue;
      const val = v[f.name];
      if (f.type === 'checkbox') {
        body[f.name] = val;
        continue;
      }
      if (val === undefined || val === '') {
        if (f.required) {
          showFieldError(form, f.name, t('error.required'));
          firstBad = firstBad || f.name;
        }
        continue;
      }
      if (f.type === 'number') {
        const n = Number(val);
        if (!Number.isInteger(n) || n < 1) {
          showFieldError(form, f.name, t('error.integer'));
          firstBad = firstBad || f.name;
          continue;
        }
        body[f.name] = n;
      } else {
        body[f.name] = val;
      }
    }
    if (firstBad) {
      showFieldError(form, firstBad, rowOf(form, firstBad).querySelector('.field-error').textContent);
      return;
    }
    button.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      const order = await submit(body, key);
      key = newIdempotencyKey();
      writeDraft(draftKey, {});
      onDone(order);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code !== 'network') key = newIdempotencyKey();
      if (!(err.field && showFieldError(form, err.field, err.message))) {
        topError.replaceChildren(errorText(err));
        if (err.status === 409 && onConflict) {
          topError.append(' ', h('button.btn.btn-link', { type: 'button', onclick: onConflict }, t('order.actions.reload')));
        }
        topError.hidden = false;
        topError.focus?.();
      }
    } finally {
      button.disabled = false;
      form.removeAttribute('aria-busy');
    }
  });
  return form;
}

export { actionLabel };
