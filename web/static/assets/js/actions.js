// The work-order actions of API.md: who may take each, from which states, and the fields of its
// form. The server's allowed_actions list wins when an order carries one; otherwise allowed()
// computes the list from this table and the caller's roles (the server still decides).

export const STATES = ['pending_dispatch', 'dispatched', 'returned', 'signed', 'called_back',
  'rectifying', 'appealing', 'reviewing', 'feedback', 'closed'];

const OPEN = STATES.filter((s) => s !== 'closed');
const BEFORE_REVIEW = STATES.slice(0, STATES.indexOf('reviewing'));
const UNIT_ROLES = ['officer', 'unit_leader'];

const note = (required = false) => ({ name: 'note', type: 'textarea', label: 'field.note', required });

/**
 * Field types: text, textarea, number (positive integer), date, select (options: values whose
 * labels are optionPrefix + '.' + value), checkbox (boolean), yesno (two radios, boolean, labels
 * yes/no keys). when(values) shows a field only when it answers true; hidden fields are not sent.
 */
export const ACTIONS = [
  { name: 'dispatch', roles: ['administrator'], from: ['pending_dispatch'], fields: [
    { name: 'to_unit', type: 'text', label: 'field.to_unit', placeholder: 'field.to_unit_placeholder', required: true },
  ] },
  { name: 'sign', roles: UNIT_ROLES, from: ['dispatched'], hint: 'action.hint.sign', fields: [] },
  { name: 'return', roles: UNIT_ROLES, from: ['dispatched'], hint: 'action.hint.return', danger: true, fields: [
    { name: 'reason', type: 'textarea', label: 'field.reason', required: true },
  ] },
  { name: 'rule_return', roles: ['administrator'], from: ['returned'], fields: [
    { name: 'accept', type: 'yesno', label: 'field.accept', yes: 'field.accept.yes', no: 'field.accept.no', required: true },
    { name: 'to_unit', type: 'text', label: 'field.to_unit', placeholder: 'field.to_unit_placeholder', required: true, when: (v) => v.accept === true },
    { name: 'reason', type: 'textarea', label: 'field.reason', required: true },
  ] },
  { name: 'callback', roles: UNIT_ROLES, from: ['signed', 'called_back'], hint: 'action.hint.callback', fields: [
    { name: 'reached', type: 'checkbox', label: 'field.reached' },
    { name: 'method', type: 'select', label: 'field.method', options: ['phone', 'sms', 'visit'], optionPrefix: 'method', required: true, initial: 'phone' },
    note(),
  ] },
  { name: 'waive_callback', roles: ['administrator'], from: ['signed'], hint: 'action.hint.waive_callback', fields: [note(true)] },
  { name: 'dispose', roles: UNIT_ROLES, from: ['called_back'], hint: 'action.hint.dispose', fields: [
    { name: 'true', type: 'checkbox', label: 'field.true' },
    { name: 'reasonable', type: 'checkbox', label: 'field.reasonable' },
    { name: 'disposition', type: 'select', label: 'field.disposition', options: ['rectify_now', 'ledger', 'explain', 'appeal'], optionPrefix: 'disposition', required: true },
    { name: 'measures', type: 'textarea', label: 'field.measures', required: true, when: (v) => v.disposition === 'rectify_now' },
    { name: 'plan', type: 'textarea', label: 'field.plan', required: true, when: (v) => v.disposition === 'ledger' },
    { name: 'committed_date', type: 'date', label: 'field.committed_date', required: true, when: (v) => v.disposition === 'ledger' },
    { name: 'explanation', type: 'textarea', label: 'field.explanation', required: true, when: (v) => v.disposition === 'explain' },
    { name: 'appeal_reason', type: 'select', label: 'field.appeal_reason', options: ['mistaken', 'malicious'], optionPrefix: 'appeal_reason', required: true, when: (v) => v.disposition === 'appeal' },
    { name: 'evidence', type: 'textarea', label: 'field.evidence', required: true, when: (v) => v.disposition === 'appeal' },
    note(),
  ] },
  { name: 'submit_appeal', roles: ['unit_leader'], from: ['called_back'], hint: 'action.hint.submit_appeal', fields: [note()] },
  { name: 'progress', roles: UNIT_ROLES, from: ['rectifying'], fields: [note(true)] },
  { name: 'complete', roles: UNIT_ROLES, from: ['rectifying'], fields: [
    { name: 'measures', type: 'textarea', label: 'field.measures', required: true },
  ] },
  { name: 'request_extension', roles: ['unit_leader'], from: ['rectifying'], fields: [
    { name: 'days', type: 'number', label: 'field.days', required: true },
    { name: 'reason', type: 'textarea', label: 'field.reason', required: true },
  ] },
  { name: 'decide_extension', roles: ['administrator', 'supervisor'], from: ['rectifying'], fields: [
    { name: 'approve', type: 'yesno', label: 'field.approve', yes: 'field.approve.yes', no: 'field.approve.no', required: true },
    note(),
  ] },
  { name: 'decide_appeal', roles: ['administrator'], from: ['appealing'], fields: [
    { name: 'upheld', type: 'yesno', label: 'field.upheld', yes: 'field.upheld.yes', no: 'field.upheld.no', required: true },
    note(),
  ] },
  { name: 'review', roles: ['administrator'], from: ['reviewing'], fields: [
    { name: 'approve', type: 'yesno', label: 'field.approve', yes: 'field.review.yes', no: 'field.review.no', required: true },
    note(),
  ] },
  { name: 'record_feedback', roles: UNIT_ROLES, from: ['feedback'], fields: [
    { name: 'satisfaction', type: 'select', label: 'field.satisfaction', options: ['satisfied', 'basically_satisfied', 'dissatisfied'], optionPrefix: 'satisfaction', required: true },
    { name: 'comment', type: 'textarea', label: 'field.comment' },
  ] },
  { name: 'escalate', roles: ['supervisor', 'administrator'], from: OPEN, hint: 'action.hint.escalate', danger: true, fields: [note(true)] },
  { name: 'reassign', roles: ['supervisor', 'administrator'], from: BEFORE_REVIEW, fields: [
    { name: 'to_unit', type: 'text', label: 'field.to_unit', placeholder: 'field.to_unit_placeholder', required: true },
    { name: 'reason', type: 'textarea', label: 'field.reason', required: true },
  ] },
  { name: 'reopen', roles: ['administrator'], from: ['closed'], hint: 'action.hint.reopen', fields: [note(true)] },
];

const BY_NAME = Object.fromEntries(ACTIONS.map((a) => [a.name, a]));

// The server's table of actions (GET /api/v1/actions) is the authority; applyServerTable
// merges it in once per session: each field's rules (required, enum, max length, condition)
// come from it, and an action this file does not know gets a form built from the server's
// zh-CN labels alone. The local entries keep only presentation (control types, hints).
const SERVER_TYPES = { text: 'textarea', unit: 'text', boolean: 'yesno', enum: 'select', integer: 'number', date: 'date' };

function serverField(f) {
  const out = { name: f.name, type: SERVER_TYPES[f.type] || 'text', label: f.label, rawLabel: true,
    required: !!f.required, maxLength: f.max_length || undefined };
  if (f.enum) {
    out.options = f.enum;
    out.optionLabels = f.enum_labels || {};
  }
  if (f.when) out.when = (v) => String(v[f.when.field]) === f.when.value;
  return out;
}

/** Merges the server's table of actions ({actions: [...]}) into the definitions. */
export function applyServerTable(table) {
  if (!table || !Array.isArray(table.actions)) return;
  for (const a of table.actions) {
    const local = BY_NAME[a.name];
    if (!local) {
      const def = { name: a.name, label: a.label, roles: a.roles || [], from: a.from || [],
        fields: (a.fields || []).map(serverField) };
      ACTIONS.push(def);
      BY_NAME[a.name] = def;
      continue;
    }
    local.roles = a.roles || local.roles;
    local.from = a.from || local.from;
    for (const sf of a.fields || []) {
      const lf = local.fields.find((f) => f.name === sf.name);
      if (lf) {
        lf.required = lf.type === 'checkbox' ? false : !!sf.required;
        if (sf.max_length) lf.maxLength = sf.max_length;
      }
    }
  }
}

/** The definition of an action; unknown names (from a newer server) get a note-only form. */
export function definition(name) {
  return BY_NAME[name] || { name, roles: [], from: [], fields: [note()] };
}

const SUBTREE = ['administrator', 'supervisor', 'auditor', 'sysadmin'];

/**
 * Whether a role assignment {role, unit:{code, path}} covers the order's unit: subtree roles
 * cover their unit's subtree (checked when both paths are known), other roles their unit alone.
 * An order without a unit (pending dispatch) is covered by subtree roles only.
 */
export function covers(assignment, order) {
  const ou = order.unit;
  const ru = assignment.unit || {};
  if (!ou || !ou.code) return SUBTREE.includes(assignment.role);
  if (SUBTREE.includes(assignment.role)) {
    if (ou.path && ru.path) return ou.path.startsWith(ru.path);
    return true;
  }
  return !ru.code || ru.code === ou.code;
}

/** The actions the caller may take on order, in table order. */
export function allowed(order, me) {
  if (order && Array.isArray(order.allowed_actions)) {
    const listed = order.allowed_actions;
    const known = ACTIONS.filter((a) => listed.includes(a.name)).map((a) => a.name);
    return known.concat(listed.filter((n) => !BY_NAME[n]));
  }
  const roles = (me && me.roles) || [];
  return ACTIONS.filter((a) => a.from.includes(order.state) &&
    roles.some((r) => a.roles.includes(r.role) && covers(r, order))).map((a) => a.name);
}
