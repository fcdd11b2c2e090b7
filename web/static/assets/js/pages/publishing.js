// Publishing and monthly reports (#/publishing), which were API-only: an administrator publishes
// an ended month of a jurisdiction (POST /publications; a correction is a new version, old ones
// stay) and sees every published version; administrators, supervisors and auditors make the
// monthly report now (POST /reports) and download the scheduled and on-demand reports.
import { h, mount, uid } from '../dom.js';
import { t, label } from '../i18n.js';
import { endpoints, ApiError, download, errorText } from '../api.js';
import * as session from '../session.js';
import { pageFrame, loadInto, dataTable, ym, addMonths, toast } from '../ui.js';
import { dateTime } from '../format.js';

const STAFF = ['administrator', 'supervisor', 'auditor'];

/** The units the caller may publish or report for: those of their administration grants. */
function myUnits(roles) {
  const seen = new Map();
  for (const g of ((session.user() || {}).roles || [])) {
    if (roles.includes(g.role) && g.unit && g.unit.code && !seen.has(g.unit.code)) seen.set(g.unit.code, g.unit.name || g.unit.code);
  }
  return [...seen.entries()].map(([code, name]) => ({ code, name }));
}

/** A small form: jurisdiction, month (default: last month), optional note; submit(body) posts. */
function monthForm({ name, units, withNote, button, submit }) {
  const ids = { unit: uid('unit'), month: uid('month'), note: uid('note') };
  const err = h('div.form-error', { role: 'alert', hidden: true });
  const btn = h('button.btn.btn-primary', { type: 'submit' }, button);
  const form = h('form.inline-form.month-form', { dataset: { form: name } },
    h('div.field', h('label', { for: ids.unit }, t('publishing.unit')),
      h('select', { id: ids.unit, name: 'unit' }, units.map((u) => h('option', { value: u.code }, u.name)))),
    h('div.field', h('label', { for: ids.month }, t('publishing.month')),
      h('input', { id: ids.month, name: 'month', type: 'month', value: addMonths(ym(new Date()), -1), max: addMonths(ym(new Date()), -1), required: true })),
    withNote ? h('div.field', h('label', { for: ids.note }, t('publishing.note')),
      h('input', { id: ids.note, name: 'note', type: 'text', maxlength: 500, size: 30 })) : null,
    btn, err);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    const el = form.elements;
    const body = { unit: el.namedItem('unit').value, month: el.namedItem('month').value };
    if (withNote && el.namedItem('note').value.trim()) body.note = el.namedItem('note').value.trim();
    btn.disabled = true;
    try {
      await submit(body);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      err.textContent = errorText(e);
      err.hidden = false;
    } finally {
      btn.disabled = false;
    }
  });
  return form;
}

export default function publishingPage(outlet) {
  const admin = session.hasRole('administrator');
  const pubList = h('div');
  const repList = h('div');
  const loadPubs = () => loadInto(pubList, () => endpoints.publications({}), (res) => dataTable([
    { label: t('publishing.unit'), render: (v) => (v.jurisdiction && (v.jurisdiction.name || v.jurisdiction.code)) || t('common.none') },
    { label: t('publishing.month'), render: (v) => v.month },
    { label: t('publishing.version'), render: (v) => t('publishing.version_n', { n: v.version }) },
    { label: t('publishing.by'), render: (v) => v.published_by },
    { label: t('publishing.at'), render: (v) => dateTime(v.published_at) },
    { label: t('publishing.note'), render: (v) => v.note || t('common.none') },
  ], (res && res.items) || [], { empty: t('publishing.none'), className: 'publications' }));
  const loadReports = () => loadInto(repList, () => endpoints.reports({}), (res) => dataTable([
    { label: t('publishing.unit'), render: (r) => r.unit },
    { label: t('publishing.month'), render: (r) => r.month },
    { label: t('publishing.trigger'), render: (r) => label('publishing.trigger', r.trigger) },
    { label: t('publishing.at'), render: (r) => dateTime(r.created_at) },
    { label: t('publishing.file'), render: (r) => h('button.btn-link.report-download', {
      type: 'button', dataset: { id: r.id },
      onclick: () => download(endpoints.reportPath(r.id), r.filename || 'report.xlsx').catch((e) => { if (!(e instanceof ApiError)) throw e; toast(errorText(e)); }),
    }, r.filename || t('publishing.download')) },
  ], (res && res.items) || [], { empty: t('publishing.no_reports'), className: 'reports' }));

  mount(outlet, pageFrame(t('publishing.title'), null,
    h('p.muted', t('publishing.hint')),
    admin ? h('section.panel', { 'aria-labelledby': 'pub-title' },
      h('h2#pub-title', t('publishing.publish_title')),
      h('p.muted', t('publishing.publish_hint')),
      monthForm({
        name: 'publish', units: myUnits(['administrator']), withNote: true, button: t('publishing.publish'),
        submit: async (body) => {
          const v = await endpoints.publish(body);
          toast(t('publishing.published', { month: v.month, n: v.version }));
          loadPubs();
        },
      })) : null,
    h('section.panel', { 'aria-labelledby': 'pub-list-title' }, h('h2#pub-list-title', t('publishing.versions')), pubList),
    h('section.panel', { 'aria-labelledby': 'rep-title' },
      h('h2#rep-title', t('publishing.reports_title')),
      monthForm({
        name: 'report', units: myUnits(STAFF), withNote: false, button: t('publishing.make_report'),
        submit: async (body) => {
          await endpoints.makeReport(body);
          toast(t('publishing.report_made'));
          loadReports();
        },
      }),
      repList)));
  loadPubs();
  loadReports();
}
