// Administration of accounts (#/admin/users, #/admin/policies, #/admin/units): users with their
// roles (create, disable, enable, grant and withdraw roles), the route policy lines (add and
// remove local lines), and the unit tree (create and rename units, view and set their scheme
// policy), as the admin APIs allow.
import { h, mount } from '../dom.js';
import { t, has, label } from '../i18n.js';
import { endpoints, ApiError } from '../api.js';
import { go, link } from '../router.js';
import * as session from '../session.js';
import { budgetText } from '../format.js';
import { pageFrame, loadInto, dataTable, tabs, toast, toastError, field, showFormError } from '../ui.js';

const TABS = ['users', 'policies', 'units'];
const ROLES = ['officer', 'unit_leader', 'administrator', 'supervisor', 'auditor', 'integration', 'sysadmin'];

function roleSelect(name) {
  return h('select', { name }, ROLES.map((r) => h('option', { value: r }, label('role', r))));
}

function unitOf(g) {
  const u = g.unit || {};
  return typeof u === 'string' ? u : u.code || g.unit_code || '';
}

function users(box, query) {
  const list = h('div');
  const q = (query.q || '').slice(0, 100);
  const search = h('form.filters', { role: 'search' },
    h('div.filter.filter-q', h('label', { for: 'u-q' }, t('admin.users.search')), h('input#u-q', { type: 'search', name: 'q', value: q })),
    h('div.filter.filter-buttons', h('button.btn.btn-primary', { type: 'submit' }, t('common.search'))));
  search.addEventListener('submit', (ev) => { ev.preventDefault(); go('/admin/users', { q: search.elements.namedItem('q').value.trim() }); });
  const load = () => loadInto(list, () => endpoints.users({ q, page_size: 100 }), (res) => dataTable([
    { label: t('admin.users.login'), render: (u) => h('code', u.login) },
    { label: t('admin.users.name'), render: (u) => u.name },
    { label: t('admin.users.roles'), render: (u) => h('ul.role-chips', (u.roles || []).map((g) => h('li.chip.chip-blue',
      t('role.at_unit', { role: label('role', g.role), unit: unitOf(g) }), ' ',
      h('button.chip-x', { type: 'button', 'aria-label': t('admin.users.remove_role'), title: t('admin.users.remove_role'), onclick: () => act(() => endpoints.removeRole(u.login, g.role, unitOf(g)), 'admin.users.role_removed') }, '\u00d7')))) },
    { label: t('admin.users.status'), render: (u) => h('span.chip', { class: u.disabled ? 'chip-red' : 'chip-green' }, t(u.disabled ? 'admin.users.disabled' : 'admin.users.enabled')) },
    { label: t('common.actions'), render: (u) => h('div.inline-form',
      h('button.btn.btn-small', { type: 'button', onclick: () => act(() => endpoints.setUserDisabled(u.login, !u.disabled), u.disabled ? 'admin.users.enabled_done' : 'admin.users.disabled_done') },
        t(u.disabled ? 'admin.users.enable' : 'admin.users.disable')),
      grantForm(u)) },
  ], (res && res.items) || [], { empty: t('admin.users.empty') }));
  const act = async (fn, done) => {
    try {
      await fn();
      toast(t(done));
      load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      toastError(e);
    }
  };
  function grantForm(u) {
    const role = roleSelect('role');
    role.setAttribute('aria-label', t('admin.users.role'));
    const unit = h('input', { type: 'text', name: 'unit', placeholder: t('field.to_unit_placeholder'), 'aria-label': t('admin.users.unit') });
    const f = h('form.inline-form', { novalidate: true }, role, unit, h('button.btn.btn-small', { type: 'submit' }, t('admin.users.grant')));
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      act(() => endpoints.addRole(u.login, { role: role.value, unit: unit.value.trim() }), 'admin.users.role_added');
    });
    return f;
  }
  const err = h('div.form-error', { role: 'alert', hidden: true });
  const create = h('form.panel', { novalidate: true },
    h('h2', t('admin.users.create')),
    h('div.form-grid',
      field(t('admin.users.login'), h('input', { type: 'text', name: 'login', autocomplete: 'off' })),
      field(t('admin.users.name'), h('input', { type: 'text', name: 'name' })),
      field(t('admin.users.role'), roleSelect('role')),
      field(t('admin.users.unit'), h('input', { type: 'text', name: 'unit', placeholder: t('field.to_unit_placeholder') }))),
    err, h('div.form-actions', h('button.btn.btn-primary', { type: 'submit' }, t('admin.users.create'))));
  create.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    const el = create.elements;
    try {
      await endpoints.createUser({ login: el.namedItem('login').value.trim(), name: el.namedItem('name').value.trim(),
        roles: [{ role: el.namedItem('role').value, unit: el.namedItem('unit').value.trim() }] });
      toast(t('admin.users.created'));
      create.reset();
      load();
    } catch (e) {
      showFormError(err, e);
    }
  });
  mount(box, search, list, create);
  load();
}

function policies(box, query) {
  const list = h('div');
  const sub = (query.subject || '').slice(0, 64);
  const filter = h('form.filters', { role: 'search' },
    h('div.filter', h('label', { for: 'p-sub' }, t('admin.policies.subject')), h('input#p-sub', { type: 'text', name: 'subject', value: sub })),
    h('div.filter.filter-buttons', h('button.btn.btn-primary', { type: 'submit' }, t('common.search'))));
  filter.addEventListener('submit', (ev) => { ev.preventDefault(); go('/admin/policies', { subject: filter.elements.namedItem('subject').value.trim() }); });
  const load = () => loadInto(list, () => endpoints.policies({ subject: sub }), (res) => [
    res && res.revision !== undefined ? h('p.muted', t('admin.policies.revision', { n: res.revision })) : null,
    dataTable([
      { label: t('admin.policies.subject'), render: (p) => label('role', p.subject) },
      { label: t('admin.policies.domain'), render: (p) => h('code', p.domain) },
      { label: t('admin.policies.route'), render: (p) => h('code', p.route) },
      { label: t('admin.policies.method'), render: (p) => p.method },
      { label: t('common.actions'), render: (p) => (p.editable ? h('button.btn.btn-small.btn-danger', { type: 'button', onclick: async () => {
        try {
          await endpoints.removePolicy({ subject: p.subject, domain: p.domain, route: p.route, method: p.method });
          toast(t('admin.policies.removed'));
          load();
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
          toastError(e);
        }
      } }, t('admin.policies.remove')) : h('span.muted', t('admin.policies.builtin'))) },
    ], (res && res.items) || [], { empty: t('admin.policies.empty') }),
  ]);
  const err = h('div.form-error', { role: 'alert', hidden: true });
  const add = h('form.panel', { novalidate: true }, h('h2', t('admin.policies.add')),
    h('div.form-grid',
      field(t('admin.policies.subject'), roleSelect('subject')),
      field(t('admin.policies.domain'), h('input', { type: 'text', name: 'domain', placeholder: '/gd/sz/' })),
      field(t('admin.policies.route'), h('input', { type: 'text', name: 'route', placeholder: '/api/v1/work-orders' })),
      field(t('admin.policies.method'), h('select', { name: 'method' }, ['GET', 'POST', 'DELETE'].map((m) => h('option', { value: m }, m))))),
    err, h('div.form-actions', h('button.btn.btn-primary', { type: 'submit' }, t('admin.policies.add'))));
  add.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    const el = add.elements;
    try {
      await endpoints.addPolicy({ subject: el.namedItem('subject').value, domain: el.namedItem('domain').value.trim(),
        route: el.namedItem('route').value.trim(), method: el.namedItem('method').value });
      toast(t('admin.policies.added'));
      load();
    } catch (e) {
      showFormError(err, e);
    }
  });
  mount(box, filter, list, add);
  load();
}

const KINDS = ['administration', 'department', 'platform', 'hall'];
const STAGES = ['sign', 'callback', 'rectify', 'appeal_decision', 'review', 'feedback'];
const BUDGET_UNITS = ['working_days', 'natural_days', 'hours', 'duration'];
const LEVELS = ['very_satisfied', 'satisfied', 'basically_satisfied', 'dissatisfied', 'very_dissatisfied'];

/** A budget {working_days: 3} (exactly one key, see API.md) as [unit, value], or ['', ''] for none. */
function budgetParts(b) {
  for (const u of BUDGET_UNITS) if (b && b[u] !== undefined && b[u] !== null) return [u, b[u]];
  return ['', ''];
}

function budgetWords(b) {
  const [unit, n] = budgetParts(b);
  return unit ? budgetText({ unit, budget: n }) : t('common.none');
}

/** The depth of a unit path "/gd/sz/sz-ft/" (1 for "/gd/"). */
function depthOf(path) {
  return (path || '').split('/').filter(Boolean).length;
}

// Whether the caller may create units below, rename and set the policy of the unit at path: the
// server allows administrators within their subtree and sysadmins everywhere.
function administers(path) {
  const u = session.user() || { roles: [] };
  return (u.roles || []).some((g) => g.role === 'sysadmin' ||
    (g.role === 'administrator' && g.unit && g.unit.path && (path || '').startsWith(g.unit.path)));
}

function unitName(rows, code) {
  const x = rows.find((r) => r.code === code);
  return x ? t('common.name_code', { name: x.name, code: x.code }) : code;
}

/**
 * Shows an API error of a units form in its box, with the known codes in words and the field
 * named by the server marked invalid.
 */
function unitFormError(form, box, e) {
  if (!(e instanceof ApiError)) throw e;
  for (const r of form.querySelectorAll('.field.invalid')) r.classList.remove('invalid');
  for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
  const key = 'admin.units.err.' + e.code;
  const msg = has(key) ? t(key) : e.message;
  // Client-side checks name their item in the message already; the server's fields get a label.
  const named = e.code !== 'local' && e.field ? label('admin.units.field', e.field) : null;
  box.textContent = named ? t('error.field', { field: named, message: msg }) : msg;
  box.hidden = false;
  const ctl = e.field && form.elements.namedItem(e.field);
  if (ctl && ctl.closest) {
    const row = ctl.closest('.field');
    if (row) row.classList.add('invalid');
    ctl.setAttribute('aria-invalid', 'true');
    ctl.focus();
  }
}

/** A client-side check failure of the policy form, reported like an API error. */
function localError(field, message) {
  return new ApiError(422, 'local', message, field);
}

function kindSelect(name, value) {
  return h('select', { name }, KINDS.map((k) => h('option', { value: k, selected: k === value }, label('admin.units.kind', k))));
}

// The effective policy of a unit as tables: each stage's budget, reminders and limits, each with
// where it comes from. The server merges deadlines, reminders and the reopen limit; the rating
// rules (window, default level, follow-ups) are merged the same way, field by field, from the
// own policies of the unit and of the ancestors the caller can see (above: nearest first).
function policyView(p, rows, above) {
  const own = p.own || null;
  const eff = p.effective || {};
  const set = (v) => v !== undefined && v !== null && v !== '';
  const origin = (get) => {
    if (own && set(get(own))) return { own: true, value: get(own) };
    for (const a of above) if (a.own && set(get(a.own))) return { from: a.code, value: get(a.own) };
    return {};
  };
  const src = (o) => h('span.chip', { class: o.own ? 'chip-blue' : 'chip-grey' },
    o.own ? t('admin.units.source_own') : o.from ? t('admin.units.source_from', { unit: unitName(rows, o.from) }) : t('admin.units.source_default'));
  const orDefault = (o, fmt) => (set(o.value) ? fmt(o.value) : t('admin.units.source_default'));
  const win = origin((d) => d.rating_window);
  const level = origin((d) => d.default_level);
  const follow = origin((d) => d.follow_up_limit);
  const settings = [
    { label: t('admin.units.remind_before'), value: set(eff.remind_share) ? t('admin.units.remind_value', { pct: Math.round(eff.remind_share * 1000) / 10 }) : t('common.none'), o: origin((d) => d.remind_before) },
    { label: t('admin.units.reopen_limit'), value: set(eff.reopen_limit) ? t('admin.units.times', { n: eff.reopen_limit }) : t('common.none'), o: origin((d) => d.reopen_limit) },
    { label: t('admin.units.rating_window'), value: orDefault(win, budgetWords), o: win },
    { label: t('admin.units.default_level'), value: orDefault(level, (v) => label('level', v)), o: level },
    { label: t('admin.units.follow_up_limit'), value: orDefault(follow, (n) => t('admin.units.times', { n })), o: follow },
  ];
  const source = eff.unit ? t('admin.units.policy_source', { unit: unitName(rows, eff.unit) }) : t('admin.units.policy_defaults');
  return [
    h('p.muted', source, ' ', t(own ? 'admin.units.policy_own' : 'admin.units.policy_no_own')),
    dataTable([
      { label: t('admin.units.stage'), render: (s) => t('deadline.' + s) },
      { label: t('admin.units.budget'), render: (s) => budgetWords((eff.deadlines || {})[s]) },
      { label: t('admin.units.source'), render: (s) => src(origin((d) => d.deadlines && d.deadlines[s])) },
    ], STAGES, { caption: t('admin.units.policy') }),
    dataTable([
      { label: t('admin.units.setting'), render: (x) => x.label },
      { label: t('admin.units.value'), render: (x) => x.value },
      { label: t('admin.units.source'), render: (x) => src(x.o) },
    ], settings),
  ];
}

// The form setting a unit's own policy, prefilled from it; every part left empty or on
// "inherit" is left out of the document so the policy above (or the default) applies.
function policyForm(code, own, onSaved) {
  own = own || {};
  const dl = own.deadlines || {};
  const stageRows = STAGES.map((s) => {
    const [unit, n] = budgetParts(dl[s]);
    const sel = h('select', { name: 'unit_' + s, 'aria-label': t('admin.units.budget_unit_of', { stage: t('deadline.' + s) }) },
      h('option', { value: '' }, t('admin.units.inherit')),
      BUDGET_UNITS.map((u) => h('option', { value: u, selected: u === unit }, t('admin.units.budget_unit.' + u))));
    const val = h('input', { name: 'n_' + s, type: unit === 'duration' ? 'text' : 'number', min: 0, step: 1, value: unit ? String(n) : '',
      disabled: !unit, 'aria-label': t('admin.units.budget_of', { stage: t('deadline.' + s) }) });
    sel.addEventListener('change', () => {
      val.disabled = !sel.value;
      val.type = sel.value === 'duration' ? 'text' : 'number';
      if (!sel.value) val.value = '';
    });
    const row = field(t('deadline.' + s), sel);
    row.append(val);
    row.classList.add('budget-field');
    return row;
  });
  const num = (name, v, attrs = {}) => h('input', { name, type: 'number', min: 0, step: 1, value: v !== undefined && v !== null ? String(v) : '', placeholder: t('admin.units.inherit'), ...attrs });
  const err = h('div.form-error', { role: 'alert', hidden: true });
  const form = h('form.panel', { novalidate: true },
    h('h3', t('admin.units.edit_policy')),
    h('p.muted', t('admin.units.policy_hint')),
    h('fieldset.field', h('legend', t('admin.units.deadlines')), h('div.form-grid', stageRows)),
    h('div.form-grid',
      field(t('admin.units.rating_window'), num('rating_window', own.rating_window ? own.rating_window.natural_days : '')),
      field(t('admin.units.default_level'), h('select', { name: 'default_level' },
        h('option', { value: '' }, t('admin.units.inherit')),
        LEVELS.map((l) => h('option', { value: l, selected: l === own.default_level }, label('level', l))))),
      field(t('admin.units.remind_before_pct'), num('remind_before', own.remind_before ? own.remind_before.replace(/%$/, '') : '', { max: 100, step: 'any' })),
      field(t('admin.units.reopen_limit'), num('reopen_limit', own.reopen_limit)),
      field(t('admin.units.follow_up_limit'), num('follow_up_limit', own.follow_up_limit))),
    err, h('div.form-actions', h('button.btn.btn-primary', { type: 'submit' }, t('admin.units.save_policy'))));
  const whole = (name, what) => {
    const v = form.elements.namedItem(name).value.trim();
    if (v === '') return undefined;
    if (!/^\d+$/.test(v)) throw localError(name, t('admin.units.bad_number', { item: what }));
    return Number(v);
  };
  const build = () => {
    const doc = { deadlines: {} };
    for (const s of STAGES) {
      const unit = form.elements.namedItem('unit_' + s).value;
      if (!unit) continue;
      const v = form.elements.namedItem('n_' + s).value.trim();
      if (unit === 'duration') {
        if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v)) throw localError('n_' + s, t('admin.units.bad_duration', { item: t('deadline.' + s) }));
        doc.deadlines[s] = { duration: v };
      } else {
        doc.deadlines[s] = { [unit]: whole('n_' + s, t('deadline.' + s)) };
        if (doc.deadlines[s][unit] === undefined) throw localError('n_' + s, t('admin.units.bad_number', { item: t('deadline.' + s) }));
      }
    }
    const rw = whole('rating_window', t('admin.units.rating_window'));
    if (rw !== undefined) doc.rating_window = { natural_days: rw };
    const lvl = form.elements.namedItem('default_level').value;
    if (lvl) doc.default_level = lvl;
    const pct = form.elements.namedItem('remind_before').value.trim();
    if (pct !== '') {
      const f = Number(pct);
      if (!Number.isFinite(f) || f < 0 || f > 100) throw localError('remind_before', t('admin.units.bad_percent'));
      doc.remind_before = pct + '%';
    }
    const rl = whole('reopen_limit', t('admin.units.reopen_limit'));
    if (rl !== undefined) doc.reopen_limit = rl;
    const fl = whole('follow_up_limit', t('admin.units.follow_up_limit'));
    if (fl !== undefined) doc.follow_up_limit = fl;
    return doc;
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    try {
      const res = await endpoints.setUnitPolicy(code, build());
      toast(t('admin.units.policy_saved'));
      onSaved(res);
    } catch (e) {
      unitFormError(form, err, e);
    }
  });
  return form;
}

function units(box) {
  // The units the caller's roles reach, from /me; below, the tree of the units API with, for
  // administrators and sysadmins, creating and renaming units and setting their policy.
  const u = session.user() || { roles: [] };
  const admin = session.hasRole('administrator', 'sysadmin');
  const mine = h('section.panel', h('h2', t('admin.units.mine')), dataTable([
    { label: t('admin.units.code'), render: (g) => h('code', (g.unit && g.unit.code) || '') },
    { label: t('admin.units.name'), render: (g) => (g.unit && g.unit.name) || '' },
    { label: t('admin.units.role'), render: (g) => label('role', g.role) },
    { label: t('common.actions'), render: (g) => h('span.inline-form',
      h('a.btn.btn-small', { href: link('/inbox', { unit: g.unit && g.unit.code }) }, t('admin.units.orders')),
      h('a.btn.btn-small', { href: link('/calendar', { unit: g.unit && g.unit.code }) }, t('admin.units.calendar'))) },
  ], u.roles || []));
  const tree = h('div');
  const policyBox = h('section.panel.unit-policy', { hidden: true, 'aria-live': 'polite' });
  let rows = [];
  let selected = '';

  const act = async (fn, done) => {
    try {
      await fn();
      toast(t(done));
      load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      toastError(e);
    }
  };

  function renameForm(x, cell) {
    const name = h('input', { type: 'text', name: 'name', value: x.name, 'aria-label': t('admin.units.name') });
    const kind = kindSelect('kind', x.kind);
    if (x.kind && !KINDS.includes(x.kind)) kind.prepend(h('option', { value: x.kind, selected: true }, x.kind));
    const f = h('form.inline-form', { novalidate: true }, name, kind,
      h('button.btn.btn-small.btn-primary', { type: 'submit' }, t('admin.units.save')),
      h('button.btn.btn-small', { type: 'button', onclick: () => load() }, t('common.cancel')));
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      act(() => endpoints.updateUnit(x.code, { name: name.value.trim(), kind: kind.value }), 'admin.units.renamed');
    });
    mount(cell, f);
    name.focus();
  }

  function showPolicy(code) {
    selected = code;
    for (const tr of tree.querySelectorAll('tr.is-selected')) tr.classList.remove('is-selected');
    const btn = tree.querySelector(`button[data-unit="${CSS.escape(code)}"]`);
    if (btn) btn.closest('tr').classList.add('is-selected');
    const x = rows.find((r) => r.code === code) || { code, name: code };
    policyBox.hidden = false;
    const body = h('div');
    mount(policyBox, h('h2', t('admin.units.policy_of', { name: x.name, code: x.code })), body);
    // The own policies of the visible ancestors that have one, nearest first, for the sources.
    const ups = rows.filter((r) => r.has_policy && r.code !== x.code && x.path && x.path.startsWith(r.path))
      .sort((a, b) => b.path.length - a.path.length);
    const fetchAbove = () => Promise.all(ups.map((r) => endpoints.unitPolicy(r.code)
      .then((p) => ({ code: r.code, own: p.own }), (e) => {
        if (!(e instanceof ApiError)) throw e;
        return { code: r.code, own: null };
      })));
    const render = ([p, above]) => [
      policyView(p, rows, above),
      administers(x.path) ? policyForm(code, p.own, (res) => {
        mount(body, render([res, above]));
        load();
      }) : null,
    ];
    loadInto(body, () => Promise.all([endpoints.unitPolicy(code), fetchAbove()]), render);
    policyBox.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }

  const err = h('div.form-error', { role: 'alert', hidden: true });
  const parent = h('select', { name: 'parent' });
  const create = h('form.panel', { novalidate: true },
    h('h2', t('admin.units.create')),
    h('div.form-grid',
      field(t('admin.units.code'), h('input', { type: 'text', name: 'code', autocomplete: 'off', maxlength: 64, pattern: '[a-z0-9-]+' }), t('admin.units.code_hint')),
      field(t('admin.units.name'), h('input', { type: 'text', name: 'name' })),
      field(t('admin.units.kind'), kindSelect('kind', 'department')),
      field(t('admin.units.parent'), parent)),
    err, h('div.form-actions', h('button.btn.btn-primary', { type: 'submit' }, t('admin.units.create'))));
  create.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    const el = create.elements;
    try {
      await endpoints.createUnit({ code: el.namedItem('code').value.trim(), name: el.namedItem('name').value.trim(),
        kind: el.namedItem('kind').value, parent: parent.value });
      toast(t('admin.units.created'));
      create.reset();
      load();
    } catch (e) {
      unitFormError(create, err, e);
    }
  });

  function load() {
    return loadInto(tree, () => endpoints.units(), (res) => {
      rows = Array.isArray(res) ? res : (res && res.items) || [];
      const top = rows.length ? Math.min(...rows.map((x) => depthOf(x.path))) : 1;
      const indent = (x) => Math.min(Math.max(depthOf(x.path) - top, 0), 6);
      // Parents: the units the caller administers, indented like the tree.
      const keep = parent.value;
      mount(parent, h('option', { value: '' }, t('common.please_select')),
        rows.filter((x) => administers(x.path)).map((x) => h('option', { value: x.code, selected: x.code === keep },
          '\u00a0\u00a0'.repeat(indent(x)) + t('common.name_code', { name: x.name, code: x.code }))));
      return h('section.panel', h('h2', t('admin.units.all')), dataTable([
        { label: t('admin.units.name'), render: (x) => h('span.unit-node', { class: 'depth-' + indent(x) },
          h('button.btn-link', { type: 'button', dataset: { unit: x.code }, title: t('admin.units.view_policy'), onclick: () => showPolicy(x.code) }, x.name)) },
        { label: t('admin.units.code'), render: (x) => h('code', x.code) },
        { label: t('admin.units.kind'), render: (x) => label('admin.units.kind', x.kind) },
        { label: t('admin.units.path'), render: (x) => h('code', x.path || '') },
        { label: t('admin.units.policy'), render: (x) => (x.has_policy ? h('span.chip.chip-blue', t('admin.units.has_policy')) : h('span.muted', t('admin.units.source_inherited'))) },
        { label: t('common.actions'), render: (x) => {
          const cell = h('span.inline-form',
            h('button.btn.btn-small', { type: 'button', onclick: () => showPolicy(x.code) }, t('admin.units.view_policy')),
            administers(x.path) ? h('button.btn.btn-small', { type: 'button', onclick: () => renameForm(x, cell) }, t('admin.units.rename')) : null);
          return cell;
        } },
      ], rows, { rowClass: (x) => (x.code === selected ? 'is-selected' : undefined), caption: t('admin.units.all') }));
    });
  }

  mount(box, mine, tree, policyBox, admin ? create : null);
  load();
}

export default function adminPage(outlet, { params, query }) {
  const tab = TABS.includes(params.tab) ? params.tab : 'users';
  const box = h('div');
  mount(outlet, pageFrame(t('admin.title'), null,
    tabs(TABS.map((x) => ({ href: link('/admin/' + x), label: t('admin.tab.' + x), current: x === tab })), t('admin.title')), box));
  if (tab === 'users') users(box, query);
  else if (tab === 'policies') policies(box, query);
  else units(box);
}
