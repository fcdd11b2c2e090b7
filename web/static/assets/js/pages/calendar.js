// The working-day calendar (#/calendar?year=&unit=): a year as twelve month grids showing rest
// days, adjusted working days and local overrides with their names; the import of a
// year in the holiday-cn JSON format (upload), and the local overrides of a unit's subtree.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { endpoints, ApiError } from '../api.js';
import { go } from '../router.js';
import * as session from '../session.js';
import { pageFrame, loadInto, dataTable, toast, toastError, field, showFormError } from '../ui.js';

const WEEK = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** The kind of a day for display: rest, holiday (named rest day), workday_adjusted, override_*, work. */
export function dayKind(d) {
  if (d.source === 'override') return d.off_day ? 'override_rest' : 'override_work';
  if (d.source === 'national') return d.off_day ? 'holiday' : 'adjusted';
  return d.off_day ? 'rest' : 'work';
}

function month(m, days) {
  const first = new Date(days[0].date + 'T00:00:00Z');
  const lead = (first.getUTCDay() + 6) % 7;
  const cells = [];
  for (let i = 0; i < lead; i++) cells.push(h('td.cal-empty'));
  for (const d of days) {
    const kind = dayKind(d);
    const title = [d.date, t('cal.kind.' + kind), d.name].filter(Boolean).join(' ');
    cells.push(h('td.cal-day', { class: 'cal-' + kind, title, dataset: { date: d.date } },
      h('span.cal-num', String(+d.date.slice(8, 10))),
      d.name && (kind === 'holiday' || kind === 'adjusted' || kind.startsWith('override')) ? h('span.cal-name', d.name) : null));
  }
  const rows = [];
  for (let i = 0; i < cells.length; i += 7) rows.push(h('tr', cells.slice(i, i + 7)));
  return h('table.cal-month', { 'aria-label': t('cal.month', { m }) },
    h('caption', t('cal.month', { m })),
    h('thead', h('tr', WEEK.map((w) => h('th', { scope: 'col' }, t('cal.wd.' + w))))),
    h('tbody', rows));
}

function yearGrid(view) {
  const byMonth = Array.from({ length: 12 }, () => []);
  for (const d of view.days || []) byMonth[+d.date.slice(5, 7) - 1].push(d);
  const kinds = ['work', 'rest', 'holiday', 'adjusted', 'override_rest', 'override_work'];
  return [
    h('p.muted', t('cal.version', { v: view.calendar_version || '' }),
      (view.papers || []).length ? ' · ' + t('cal.papers', { papers: view.papers.join(t('common.list_sep')) }) : ''),
    h('ul.cal-legend', kinds.map((k) => h('li', h('span.cal-swatch', { class: 'cal-' + k }), t('cal.kind.' + k)))),
    h('div.cal-year', byMonth.map((days, i) => (days.length ? month(i + 1, days) : null))),
  ];
}

function importForm(onDone) {
  const input = h('input', { type: 'file', accept: 'application/json,.json', name: 'file' });
  const err = h('div.form-error', { role: 'alert', hidden: true });
  const form = h('form.panel', { novalidate: true },
    h('h2', t('cal.import')), h('p.hint', t('cal.import_hint')),
    field(t('cal.import_file'), input), err,
    h('div.form-actions', h('button.btn.btn-primary', { type: 'submit' }, t('cal.import_submit'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    const f = input.files && input.files[0];
    if (!f) { err.textContent = t('cal.import_pick'); err.hidden = false; return; }
    let body;
    try {
      body = JSON.parse(await f.text());
    } catch {
      err.textContent = t('cal.import_not_json');
      err.hidden = false;
      return;
    }
    try {
      const res = await endpoints.importCalendar(body);
      toast(t(res && res.changed === false ? 'cal.import_same' : 'cal.import_done', { year: (res && res.year) || body.year || '' }));
      onDone((res && res.year) || body.year);
    } catch (e) {
      showFormError(err, e);
    }
  });
  return form;
}

function overridesPanel(unit, reload) {
  const box = h('div');
  const err = h('div.form-error', { role: 'alert', hidden: true });
  const date = h('input', { type: 'date', name: 'date', required: true });
  const kind = h('select', { name: 'off_day' },
    h('option', { value: 'true' }, t('cal.kind.override_rest')), h('option', { value: 'false' }, t('cal.kind.override_work')));
  const reason = h('input', { type: 'text', name: 'reason', maxlength: 100 });
  const form = h('form.override-form', { novalidate: true },
    field(t('cal.ov.date'), date), field(t('cal.ov.kind'), kind), field(t('cal.ov.reason'), reason), err,
    h('div.form-actions', h('button.btn.btn-primary', { type: 'submit' }, t('cal.ov.add'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    if (!date.value || !reason.value.trim()) { err.textContent = t('error.required'); err.hidden = false; return; }
    try {
      await endpoints.setOverride({ unit, date: date.value, off_day: kind.value === 'true', reason: reason.value.trim() });
      toast(t('cal.ov.added'));
      form.reset();
      load();
      reload();
    } catch (e) {
      showFormError(err, e);
    }
  });
  const load = () => loadInto(box, () => endpoints.overrides(unit), (res) => {
    const list = Array.isArray(res) ? res : (res && (res.items || res.overrides)) || [];
    return dataTable([
      { label: t('cal.ov.date'), render: (o) => o.date },
      { label: t('cal.ov.kind'), render: (o) => t(o.off_day ? 'cal.kind.override_rest' : 'cal.kind.override_work') },
      { label: t('cal.ov.reason'), render: (o) => o.reason || t('common.none') },
      { label: t('cal.ov.scope'), render: (o) => o.unit_path || unit },
      { label: t('common.actions'), render: (o) => h('button.btn.btn-small.btn-danger', { type: 'button', onclick: async () => {
        try {
          await endpoints.removeOverride(unit, o.date);
          toast(t('cal.ov.removed'));
          load();
          reload();
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
          toastError(e);
        }
      } }, t('cal.ov.remove')) },
    ], list, { empty: t('cal.ov.empty') });
  });
  load();
  return h('section.panel', h('h2', t('cal.ov.title', { unit })), box, session.hasRole('administrator', 'sysadmin') ? form : null);
}

export default function calendarPage(outlet, { query }) {
  const thisYear = new Date().getFullYear();
  const year = Number.parseInt(query.year, 10) || thisYear;
  const unit = (query.unit || '').slice(0, 64);
  const grid = h('div.panel');
  const yearSel = h('select', { 'aria-label': t('cal.year') });
  const unitInput = h('input', { type: 'text', value: unit, placeholder: t('cal.unit_placeholder'), 'aria-label': t('cal.unit') });
  const apply = () => go('/calendar', { year: yearSel.value, unit: unitInput.value.trim() });
  yearSel.addEventListener('change', apply);
  unitInput.addEventListener('change', apply);
  const tools = h('div.cal-tools', h('label.inline', t('cal.year'), ' ', yearSel), h('label.inline', t('cal.unit'), ' ', unitInput));
  // A year without a calendar is not a missing feature: the State Council's notice for it is
  // simply not imported yet. Say so, and who can import it.
  const reload = () => loadInto(grid, () => endpoints.calendarYear(year, unit).catch((err) => {
    if (err instanceof ApiError && err.status === 404) return { missing: true };
    throw err;
  }), (res) => (res && res.missing
    ? h('div.notice.notice-info', { role: 'status' }, t('cal.year_missing', { year }),
      ' ', t(session.hasRole('administrator', 'sysadmin') ? 'cal.year_missing_admin' : 'cal.year_missing_staff'))
    : yearGrid(res)));
  mount(outlet, pageFrame(t('cal.title'), tools, grid,
    unit ? overridesPanel(unit, reload) : h('p.muted', t('cal.ov.pick_unit')),
    session.hasRole('administrator', 'sysadmin') ? importForm((y) => go('/calendar', { year: y, unit })) : null));
  endpoints.calendarYears().then((vs) => {
    const years = new Set([year, thisYear, thisYear + 1]);
    for (const v of Array.isArray(vs) ? vs : (vs && vs.items) || []) if (v && v.year) years.add(v.year);
    mount(yearSel, [...years].sort().map((y) => h('option', { value: y, selected: y === year }, String(y))));
  }).catch(() => mount(yearSel, h('option', { value: year, selected: true }, String(year))));
  reload();
}
