// Formatting of times, deadlines and values. Times are shown in Asia/Shanghai whatever the
// browser's zone, as the scheme's deadlines are defined there.
import { t, has, label, locale } from './i18n.js';
import { h } from './dom.js';

export const ZONE = 'Asia/Shanghai';
const DAY = 86400000;

const partsFmt = new Intl.DateTimeFormat('en-CA', {
  timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});

function parts(d) {
  const p = {};
  for (const x of partsFmt.formatToParts(d)) p[x.type] = x.value;
  return p;
}

function toDate(v) {
  if (v === null || v === undefined || v === '') return null;
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "2026-11-23 19:24" in Asia/Shanghai. */
export function dateTime(v, seconds = false) {
  const d = toDate(v);
  if (!d) return t('time.never');
  const p = parts(d);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}` + (seconds ? `:${p.second}` : '');
}

/** "2026-11-23" in Asia/Shanghai. */
export function date(v) {
  const d = toDate(v);
  if (!d) return t('time.never');
  const p = parts(d);
  return `${p.year}-${p.month}-${p.day}`;
}

/**
 * The one wording of a deadline for every audience: the date and "24:00" (deadline.by). due_at is the
 * instant the deadline passes (00:00 of the next day, Asia/Shanghai), so the last day allowed is
 * the day before it; a due_date (YYYY-MM-DD, the last day) may be given instead.
 */
export function deadlineWords(dueAt, dueDate) {
  let day = dueDate || '';
  if (!day) {
    const d = toDate(dueAt);
    if (!d) return t('time.never');
    day = date(new Date(d.getTime() - 1));
  }
  return t('deadline.by', { date: day });
}

/** Whole days from date string a to b (YYYY-MM-DD), b − a. */
export function daysBetween(a, b) {
  const pa = Date.UTC(+a.slice(0, 4), +a.slice(5, 7) - 1, +a.slice(8, 10));
  const pb = Date.UTC(+b.slice(0, 4), +b.slice(5, 7) - 1, +b.slice(8, 10));
  return Math.round((pb - pa) / DAY);
}

/** The deadlines still running (not met), nearest due first; paused ones after running ones. */
export function openDeadlines(order) {
  return ((order && order.deadlines) || [])
    .filter((d) => !d.met_at && !d.superseded)
    .sort((a, b) => (a.paused === b.paused ? 0 : a.paused ? 1 : -1) ||
      (Date.parse(a.due_at) || Infinity) - (Date.parse(b.due_at) || Infinity));
}

/** The nearest open deadline of an order, or null. */
export function nearestDeadline(order) {
  return openDeadlines(order)[0] || null;
}

/** The due instant of the nearest open deadline in ms (Infinity when none), for sorting. */
export function nearestDue(order) {
  const d = nearestDeadline(order);
  if (!d || d.paused) return Infinity;
  const ms = Date.parse(d.due_at);
  return Number.isNaN(ms) ? Infinity : ms;
}

function isOverdue(d, now) {
  if (d.overdue) return true;
  // The evaluator's feedback window is nobody's lateness.
  if (d.owner && d.owner.kind === 'evaluator') return false;
  const ms = Date.parse(d.due_at);
  return !Number.isNaN(ms) && ms <= now;
}

/**
 * The countdown of one deadline: {text, tone} with tone one of "overdue", "soon", "ok", "paused",
 * "met". Uses working_days_left when the server sends it; otherwise natural days to due_date
 * (labelled as natural days), or hours and minutes inside the last day and for hour budgets.
 */
export function countdown(d, now = Date.now()) {
  if (!d) return { text: t('countdown.none'), tone: 'none' };
  if (d.superseded) {
    return d.overdue_days > 0
      ? { text: t('countdown.superseded_late', { n: d.overdue_days }), tone: 'late' }
      : { text: t('countdown.superseded'), tone: 'met' };
  }
  if (d.status === 'calendar_missing') return { text: t('countdown.calendar_missing', { year: d.missing_year || '' }), tone: 'overdue' };
  if (d.met_at) {
    const late = d.overdue || (Date.parse(d.met_at) > Date.parse(d.due_at));
    return { text: t(late ? 'countdown.met_late' : 'countdown.met', { at: dateTime(d.met_at) }), tone: late ? 'late' : 'met' };
  }
  if (d.paused) return { text: t('countdown.paused'), tone: 'paused' };
  const due = Date.parse(d.due_at);
  if (isOverdue(d, now)) {
    // Days overdue: the server's count when given; else whole days since the last allowed day
    // (Asia/Shanghai), at least one; for hour budgets, started days since the due instant.
    let n = Number.isInteger(d.overdue_days) && d.overdue_days > 0 ? d.overdue_days : null;
    if (n === null && d.due_date && d.unit !== 'hours' && d.unit !== 'duration') n = Math.max(1, daysBetween(d.due_date, date(now)));
    if (n === null) n = Number.isNaN(due) ? 1 : Math.max(1, Math.ceil((now - due) / DAY));
    return { text: t('countdown.overdue_days', { n }), tone: 'overdue' };
  }
  const left = due - now;
  if (typeof d.working_days_left === 'number') {
    const n = d.working_days_left;
    if (n <= 0) return { text: t('countdown.due_today'), tone: 'soon' };
    return { text: t('countdown.working_days_left', { n }), tone: n <= 1 ? 'soon' : 'ok' };
  }
  if (d.unit === 'hours' || d.unit === 'duration' || left < DAY) {
    if (left < 3600000) return { text: t('countdown.minutes_left', { n: Math.max(1, Math.ceil(left / 60000)) }), tone: 'soon' };
    return { text: t('countdown.hours_left', { n: Math.floor(left / 3600000) }), tone: left < DAY ? 'soon' : 'ok' };
  }
  const today = date(now);
  const last = d.due_date || date(due - 1);
  const n = daysBetween(today, last);
  if (n <= 0) return { text: t('countdown.due_today'), tone: 'soon' };
  return { text: t('countdown.natural_days_left', { n }), tone: n <= 1 ? 'soon' : 'ok' };
}

/**
 * The last day (or instant, for hour budgets) a deadline allows, as shown: a day budget in the
 * one wording of every audience (the date and "24:00", deadline.by, as in the SMS and on the tracking page),
 * an hour budget as its instant.
 */
export function dueText(d) {
  if (!d) return t('common.none');
  if (d.unit === 'hours' || d.unit === 'duration' || !d.due_date) return t('deadline.at', { at: dateTime(d.due_at) });
  return deadlineWords(null, d.due_date);
}

/** The budget of a deadline in words ("3 working days"). */
export function budgetText(d) {
  if (!d || d.budget === undefined || d.budget === null) return t('common.none');
  const key = 'budget.' + d.unit;
  return has(key) ? t(key, { n: d.budget }) : `${d.budget} ${d.unit || ''}`.trim();
}

export function countdownChip(d, now) {
  const c = countdown(d, now);
  return h('span.countdown', { class: 'tone-' + c.tone }, c.text);
}

const STATE_TONE = {
  pending_dispatch: 'grey', dispatched: 'blue', returned: 'amber', signed: 'blue',
  called_back: 'cyan', rectifying: 'violet', appealing: 'amber', reviewing: 'cyan',
  feedback: 'teal', closed: 'green',
};

export function stateChip(state) {
  return h('span.chip', { class: 'chip-' + (STATE_TONE[state] || 'grey') }, label('state', state));
}

export function levelChip(level) {
  const bad = level === 'dissatisfied' || level === 'very_dissatisfied';
  return h('span.chip', { class: bad ? 'chip-red' : 'chip-green' }, label('level', level));
}

/** The supervision marker (level 1 or 2), or null when not supervised. */
export function supervisionChip(levelNo) {
  const n = Number(levelNo) || 0;
  if (n <= 0) return null;
  return h('span.chip', { class: n >= 2 ? 'chip-solid-red' : 'chip-amber', title: t('order.field.supervision') },
    t('supervision.' + Math.min(n, 2)));
}

/** The first case number and how many there are, for several case numbers. */
export function caseNos(list) {
  const a = list || [];
  if (a.length === 0) return t('common.none');
  if (a.length === 1) return a[0];
  return t('common.items_more', { first: a[0], n: a.length });
}

/** The overall level of an order (levels.overall, or the worst indicator). */
export function overallLevel(order) {
  const lv = order.levels || {};
  if (lv.overall) return lv.overall;
  if (order.overall) return order.overall;
  const order5 = ['very_dissatisfied', 'dissatisfied', 'basically_satisfied', 'satisfied', 'very_satisfied'];
  return Object.values(lv).sort((a, b) => order5.indexOf(a) - order5.indexOf(b))[0] || null;
}

export function number(n) {
  return new Intl.NumberFormat(locale()).format(n);
}

/** Orders sorted by their nearest open deadline (overdue first, none last), then by age. */
export function sortByDueSafe(items) {
  return [...(items || [])].sort((a, b) => (nearestDue(a) - nearestDue(b)) ||
    String(a.opened_at || '').localeCompare(String(b.opened_at || '')));
}
