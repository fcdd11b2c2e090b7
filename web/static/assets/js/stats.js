// Reading the statistics answers (GET /stats/units, GET /public/results) tolerantly: one row per
// unit with counts under a few possible names, so that the dashboards keep working while the
// statistics API grows. Ratios are answered in 0..1, or null when there is nothing to divide.

/** The value at a dotted path, or undefined. */
function at(o, path) {
  return path.split('.').reduce((v, k) => (v && typeof v === 'object' ? v[k] : undefined), o);
}

/** The first numeric value among the paths (0 when none). */
export function num(o, ...paths) {
  for (const p of paths) {
    const v = at(o, p);
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return 0;
}

/** The rows of a statistics answer: an array, or the array under items/units/results/rows. */
export function rows(res) {
  if (Array.isArray(res)) return res;
  // GET /public/results: the units of every published jurisdiction.
  if (res && Array.isArray(res.jurisdictions)) return res.jurisdictions.flatMap((j) => (Array.isArray(j.units) ? j.units : []));
  for (const k of ['items', 'units', 'results', 'rows']) if (res && Array.isArray(res[k])) return res[k];
  return [];
}

/** The unit's display name of a row. */
export function unitName(r) {
  const u = r.unit;
  if (u && typeof u === 'object') return u.name || u.code || '';
  return r.unit_name || r.name || (typeof u === 'string' ? u : '') || r.unit_code || r.code || '';
}

const LEVELS = ['very_satisfied', 'satisfied', 'basically_satisfied', 'dissatisfied', 'very_dissatisfied'];

/** Counts per level of a row (active and default summed). */
export function byLevel(r) {
  const out = {};
  for (const lv of LEVELS) {
    out[lv] = num(r, 'by_level.' + lv, 'levels.' + lv, lv) ||
      (num(r, 'ratings.active.' + lv, 'active.' + lv, 'by_level.active.' + lv) +
        num(r, 'ratings.default.' + lv, 'default.' + lv, 'by_level.default.' + lv));
  }
  return out;
}

/** The figures a dashboard shows for one row. */
export function figures(r) {
  const lv = byLevel(r);
  const levelSum = Object.values(lv).reduce((a, b) => a + b, 0);
  const ratings = num(r, 'ratings.total', 'ratings', 'total', 'count', 'evaluations') || levelSum;
  const bad = num(r, 'ratings.bad', 'bad', 'bad_reviews', 'bad_count') || lv.dissatisfied + lv.very_dissatisfied;
  const good = lv.very_satisfied + lv.satisfied + lv.basically_satisfied;
  const onTime = num(r, 'orders.on_time', 'on_time', 'orders_on_time', 'ontime');
  const overdue = num(r, 'orders.overdue', 'overdue', 'orders_overdue');
  // The server's rate (active ratings only, docs/results.md) wins over anything computed here.
  const rate = at(r, 'ratings.satisfaction_rate') ?? r.satisfaction_rate;
  // The same definition's numerator and denominator (active ratings only), so that a total of
  // several rows is the same kind of figure as each row (was: a total with default ratings).
  const active = {};
  for (const lv of LEVELS) active[lv] = num(r, 'ratings.active.' + lv, 'active.' + lv, 'by_level.active.' + lv);
  const activeRated = Object.values(active).reduce((a, b) => a + b, 0);
  const activeGood = active.very_satisfied + active.satisfied + active.basically_satisfied;
  return {
    ratings, bad, good, activeRated, activeGood,
    satisfaction: typeof rate === 'number' ? rate
      : levelSum ? good / levelSum : ratings ? (ratings - bad) / ratings : null,
    score: at(r, 'ratings.score') ?? null,
    badRate: ratings ? bad / ratings : null,
    calledBack: num(r, 'orders.called_back', 'called_back'), rectified: num(r, 'orders.rectified', 'rectified'),
    explained: num(r, 'orders.explained', 'explained'), appealed: num(r, 'orders.appealed', 'appealed'),
    upheld: num(r, 'orders.upheld', 'upheld'),
    onTime, overdue,
    onTimeRate: typeof r.on_time_rate === 'number' ? r.on_time_rate : (onTime + overdue) ? onTime / (onTime + overdue) : null,
  };
}

/** Sums the figures of several rows. */
export function total(list) {
  const t = { ratings: 0, bad: 0, good: 0, onTime: 0, overdue: 0, activeRated: 0, activeGood: 0 };
  for (const r of list) {
    const f = figures(r);
    t.ratings += f.ratings; t.bad += f.bad; t.good += f.good; t.onTime += f.onTime; t.overdue += f.overdue;
    t.activeRated += f.activeRated; t.activeGood += f.activeGood;
  }
  t.satisfaction = t.activeRated ? t.activeGood / t.activeRated
    : t.good + t.bad ? t.good / (t.good + t.bad) : (t.ratings ? (t.ratings - t.bad) / t.ratings : null);
  t.onTimeRate = t.onTime + t.overdue ? t.onTime / (t.onTime + t.overdue) : null;
  return t;
}
