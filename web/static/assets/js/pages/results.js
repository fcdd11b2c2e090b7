// The public results page (#/results?month=YYYY-MM): the published figures per unit for a
// month, from GET /public/results (no personal data, no sign-in), with a satisfaction chart.
import { h, mount } from '../dom.js';
import { t } from '../i18n.js';
import { endpoints } from '../api.js';
import { go } from '../router.js';
import { barChart } from '../charts.js';
import { rows, figures, unitName } from '../stats.js';
import { loadInto, dataTable, ym, addMonths } from '../ui.js';
import { number } from '../format.js';

const pct = (v) => (v === null || v === undefined ? t('common.none') : (Math.round(v * 1000) / 10) + '%');

export default function resultsPage(outlet, { query }) {
  const last = addMonths(ym(new Date()), -1);
  const month = /^\d{4}-\d{2}$/.test(query.month || '') ? query.month : last;
  document.title = t('results.title') + ' - ' + t('app.name');
  const input = h('input', { type: 'month', value: month, 'aria-label': t('results.month') });
  input.addEventListener('change', () => { if (input.value) go('/results', { month: input.value }); });
  const box = h('div');
  mount(outlet, h('section.page.public-page',
    h('div.page-head', h('h1', t('results.title')), h('div.page-tools', h('label.inline', t('results.month'), ' ', input))),
    h('p.muted', t('results.intro')), box));
  loadInto(box, () => endpoints.publicResults(month), (res) => {
    const list = rows(res).map((r) => ({ name: unitName(r), f: figures(r) }));
    if (list.length === 0) return h('p.empty', t('results.empty', { month }));
    return [
      h('section.panel.chart-panel', h('h2', t('results.satisfaction')),
        barChart(t('results.satisfaction'), list.map((i) => ({ label: i.name, value: i.f.satisfaction })), '%')),
      dataTable([
        { label: t('dash.unit'), render: (r) => r.name },
        { label: t('dash.ratings'), render: (r) => number(r.f.ratings) },
        { label: t('dash.bad'), render: (r) => number(r.f.bad) },
        { label: t('dash.satisfaction'), render: (r) => pct(r.f.satisfaction) },
        { label: t('dash.rectified'), render: (r) => number(r.f.rectified) },
        { label: t('dash.on_time_rate'), render: (r) => pct(r.f.onTimeRate) },
      ], list),
    ];
  });
}
