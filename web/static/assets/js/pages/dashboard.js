// Dashboards for administrators (and supervisors): satisfaction over the last six months, bad
// reviews and on-time rates by unit for a chosen month, from GET /stats/units, drawn as inline
// SVG charts with the figures in a table beside them.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { endpoints } from '../api.js';
import { go } from '../router.js';
import { barChart, lineChart, hasData } from '../charts.js';
import { rows, figures, total, unitName } from '../stats.js';
import { pageFrame, loadInto, dataTable, ym, addMonths } from '../ui.js';
import { number } from '../format.js';

const MONTHS = 6;

function monthRange(month) {
  const next = addMonths(month, 1);
  const last = new Date(Date.UTC(+next.slice(0, 4), +next.slice(5, 7) - 1, 1) - 86400000);
  return [month + '-01', last.toISOString().slice(0, 10)];
}

const pct = (v) => (v === null || v === undefined ? t('common.none') : (Math.round(v * 1000) / 10) + '%');

export default function dashboardPage(outlet, { query }) {
  const current = ym(new Date());
  const month = /^\d{4}-\d{2}$/.test(query.month || '') ? query.month : current;
  const monthInput = h('input', { type: 'month', value: month, max: current, 'aria-label': t('dash.month') });
  monthInput.addEventListener('change', () => { if (monthInput.value) go('/dashboard', { month: monthInput.value }); });
  const trend = h('div.panel.chart-panel');
  const byUnit = h('div.chart-grid-2');
  const table = h('div');
  mount(outlet, pageFrame(t('dash.title'), h('label.inline', t('dash.month'), ' ', monthInput),
    // One definition of each figure for every row, total and chart, said on the page.
    h('p.muted.dash-definition', t('dash.definition')),
    h('section', { 'aria-labelledby': 'dash-trend' }, h('h2#dash-trend', t('dash.trend')), trend),
    byUnit, table));

  const months = Array.from({ length: MONTHS }, (_, i) => addMonths(month, i - MONTHS + 1));
  loadInto(trend, () => Promise.all(months.map((m) => endpoints.statsUnits(...monthRange(m)).then(rows))), (all) => {
    const totals = all.map(total);
    const series = [
      { name: t('dash.satisfaction'), values: totals.map((x) => x.satisfaction) },
      { name: t('dash.on_time_rate'), values: totals.map((x) => x.onTimeRate) },
    ];
    if (!hasData(series)) {
      return h('p.empty.trend-empty', t('dash.trend_empty', { from: months[0], to: months[months.length - 1] }));
    }
    return [
      lineChart(t('dash.trend'), months, series, '%'),
      dataTable([
        { label: t('dash.month'), render: (r) => r.m },
        { label: t('dash.ratings'), render: (r) => number(r.ratings) },
        { label: t('dash.bad'), render: (r) => number(r.bad) },
        { label: t('dash.satisfaction'), render: (r) => pct(r.satisfaction) },
        { label: t('dash.on_time_rate'), render: (r) => pct(r.onTimeRate) },
      ], totals.map((x, i) => ({ ...x, m: months[i] })), { className: 'compact' }),
    ];
  });

  loadInto(byUnit, () => endpoints.statsUnits(...monthRange(month)).then(rows), (list) => {
    const items = list.map((r) => ({ name: unitName(r), f: figures(r) }));
    mount(table, h('section.panel', h('h2', t('dash.table', { month })), dataTable([
      { label: t('dash.unit'), render: (r) => r.name },
      { label: t('dash.ratings'), render: (r) => number(r.f.ratings) },
      { label: t('dash.bad'), render: (r) => number(r.f.bad) },
      { label: t('dash.satisfaction'), render: (r) => pct(r.f.satisfaction) },
      { label: t('dash.called_back'), render: (r) => number(r.f.calledBack) },
      { label: t('dash.rectified'), render: (r) => number(r.f.rectified) },
      { label: t('dash.appealed'), render: (r) => number(r.f.appealed) },
      { label: t('dash.on_time'), render: (r) => number(r.f.onTime) },
      { label: t('dash.overdue'), render: (r) => number(r.f.overdue) },
      { label: t('dash.on_time_rate'), render: (r) => pct(r.f.onTimeRate) },
    ], items, { empty: t('dash.empty') })));
    if (items.length === 0) return h('p.empty', t('dash.empty'));
    return [
      h('section.panel.chart-panel', h('h2', t('dash.bad_by_unit')),
        barChart(t('dash.bad_by_unit'), [...items].sort((a, b) => b.f.bad - a.f.bad).slice(0, 15)
          .map((i) => ({ label: i.name, value: i.f.bad, color: '#c62828' })))),
      h('section.panel.chart-panel', h('h2', t('dash.on_time_by_unit')),
        barChart(t('dash.on_time_by_unit'), items.filter((i) => i.f.onTimeRate !== null).slice(0, 15)
          .map((i) => ({ label: i.name, value: i.f.onTimeRate, color: '#2e7d32' })), '%')),
    ];
  });
}
