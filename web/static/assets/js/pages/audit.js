// The auditor's pages (#/audit/{tab}): the audit log of state-changing requests with filters and
// CSV export, the suspected fraudulent ratings with their rulings, and the log of who saw
// evaluators' personal data. Every list is read-only except the ruling of a fraud flag, which
// only administrators may give.
import { h, mount } from '../dom.js';
import { t, label, has } from '../i18n.js';
import { endpoints, download, ApiError } from '../api.js';
import { go, link } from '../router.js';
import * as session from '../session.js';
import { pageFrame, loadInto, dataTable, tabs, toast, toastError, errorNotice } from '../ui.js';
import { dateTime } from '../format.js';

// Which roles each tab serves (the API refuses the others).
const TABS = ['log', 'fraud', 'pii'];
const TAB_ROLES = { log: ['auditor', 'sysadmin'], fraud: ['auditor', 'administrator'], pii: ['auditor', 'sysadmin'] };

function listOf(res) {
  return Array.isArray(res) ? res : (res && res.items) || [];
}

/** The Chinese description of an audited request's route, the raw route kept as its title. */
function opText(e) {
  const raw = e.method + ' ' + e.path;
  const key = 'audit.op.' + raw.replace(/^(\w+) \/api\/v1/, '$1 ');
  return has(key) ? h('span', { title: raw }, t(key)) : raw;
}

function auditLog(box, query) {
  const f = { login: query.login || '', action: query.action || '', outcome: query.outcome || '', page: Number(query.page) || 1 };
  const form = h('form.filters', { role: 'search' },
    h('div.filter', h('label', { for: 'a-login' }, t('audit.login')), h('input#a-login', { type: 'text', name: 'login', value: f.login })),
    h('div.filter', h('label', { for: 'a-action' }, t('audit.action')), h('input#a-action', { type: 'text', name: 'action', value: f.action })),
    h('div.filter', h('label', { for: 'a-outcome' }, t('audit.outcome')), h('select#a-outcome', { name: 'outcome' },
      h('option', { value: '' }, t('common.all')),
      ['ok', 'refused', 'rejected', 'failed'].map((o) => h('option', { value: o, selected: o === f.outcome }, label('audit.outcome', o))))),
    h('div.filter.filter-buttons', h('button.btn.btn-primary', { type: 'submit' }, t('common.search')),
      h('button.btn', { type: 'button', onclick: () => download(endpoints.auditExportPath({ login: f.login, action: f.action, outcome: f.outcome }), 'audit-log.csv').catch((e) => toastError(e)) }, t('audit.export_csv'))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const el = form.elements;
    go('/audit/log', { login: el.namedItem('login').value.trim(), action: el.namedItem('action').value.trim(), outcome: el.namedItem('outcome').value });
  });
  const list = h('div');
  mount(box, form, list);
  loadInto(list, () => endpoints.auditLog({ login: f.login, action: f.action, outcome: f.outcome, page: f.page, page_size: 50 }), (res) => [
    dataTable([
      { label: t('audit.at'), render: (e) => dateTime(e.at, true) },
      { label: t('audit.login'), render: (e) => e.login || t('audit.anonymous') },
      // What was done, in words (the route's description), with the raw route for the record.
      { label: t('audit.method'), render: (e) => opText(e) },
      { label: t('audit.action'), render: (e) => (e.action ? label('action', e.action) : t('common.none')) },
      { label: t('audit.target'), render: (e) => (/^[0-9a-f-]{36}/.test(e.target || '') ? h('a', { href: link('/orders/' + e.target.slice(0, 36)) }, e.target) : e.target || t('common.none')) },
      { label: t('audit.outcome'), render: (e) => h('span.chip', { class: e.outcome === 'ok' ? 'chip-green' : 'chip-red' }, label('audit.outcome', e.outcome) + ' ' + e.status) },
    ], listOf(res), { empty: t('audit.empty') }),
    res && res.total > 50 ? h('nav.pager', h('span.muted', t('inbox.total', { total: res.total })),
      f.page > 1 ? h('a.btn', { href: link('/audit/log', { ...f, page: f.page - 1 }) }, t('inbox.prev')) : null,
      f.page * 50 < res.total ? h('a.btn', { href: link('/audit/log', { ...f, page: f.page + 1 }) }, t('inbox.next')) : null) : null,
  ]);
}

function fraudFlags(box) {
  const list = h('div');
  mount(box, h('p.muted', t('fraud.hint')), list);
  const admin = session.hasRole('administrator');
  const load = () => loadInto(list, () => endpoints.fraudFlags({}), (res) => dataTable([
    { label: t('fraud.at'), render: (f) => dateTime(f.created_at || f.at || f.flagged_at) },
    { label: t('fraud.rule'), render: (f) => label('fraud.rule', f.rule || f.reason || f.kind) },
    { label: t('fraud.detail'), render: (f) => f.detail || f.summary || evidenceText(f.evidence) || (f.evaluation_ids ? t('fraud.count', { n: f.evaluation_ids.length }) : t('common.none')) },
    { label: t('fraud.status'), render: (f) => label('fraud.status', f.status || (f.ruling ? 'ruled' : 'open')) },
    { label: t('common.actions'), render: (f) => (admin && (f.status || 'open') === 'open' ? ruling(f, load) : (f.ruled_by ? f.ruled_by + (f.ruling_note ? ': ' + f.ruling_note : '') : t('common.none'))) },
  ], listOf(res), { empty: t('fraud.empty') }));
  load();
}

// evidenceText shows what the server found: how many ratings, over what span.
function evidenceText(ev) {
  if (!ev || typeof ev !== 'object') return '';
  const n = Array.isArray(ev.evaluation_ids) ? ev.evaluation_ids.length : ev.count;
  return typeof n === 'number' ? t('fraud.count', { n }) : '';
}

function ruling(f, reload) {
  const note = h('input', { type: 'text', 'aria-label': t('field.note'), placeholder: t('field.note') });
  const act = (decision) => async () => {
    try {
      await endpoints.ruleFraudFlag(f.id, { upheld: decision === 'upheld', note: note.value.trim() });
      toast(t('fraud.ruled'));
      reload();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      toastError(e);
    }
  };
  return h('div.inline-form', note,
    h('button.btn.btn-small.btn-danger', { type: 'button', onclick: act('upheld') }, t('fraud.confirm')),
    h('button.btn.btn-small', { type: 'button', onclick: act('dismissed') }, t('fraud.dismiss')));
}

function piiAccess(box) {
  const list = h('div');
  mount(box, h('p.muted', t('pii.hint')), list);
  loadInto(list, () => endpoints.piiAccess({}), (res) => dataTable([
    { label: t('audit.at'), render: (e) => dateTime(e.at || e.created_at, true) },
    { label: t('audit.login'), render: (e) => e.login || e.actor || t('common.none') },
    { label: t('pii.order'), render: (e) => (e.work_order_id ? h('a', { href: link('/orders/' + e.work_order_id) }, e.work_order_id) : t('common.none')) },
    { label: t('pii.reason'), render: (e) => label('pii.reason', e.reason) },
  ], listOf(res), { empty: t('pii.empty') }));
}

export default function auditPage(outlet, { params = {}, query = {} }) {
  const mine = TABS.filter((x) => session.hasRole(...TAB_ROLES[x]));
  const tab = mine.includes(params.tab) ? params.tab : mine[0] || 'log';
  const box = h('div');
  mount(outlet, pageFrame(t('audit.title'), null,
    tabs(mine.map((x) => ({ href: link('/audit/' + x), label: t('audit.tab.' + x), current: x === tab })), t('audit.title')), box));
  try {
    if (tab === 'log') auditLog(box, query);
    else if (tab === 'fraud') fraudFlags(box);
    else piiAccess(box);
  } catch (err) {
    mount(box, errorNotice(err));
  }
}
