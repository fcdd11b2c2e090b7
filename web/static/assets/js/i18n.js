// Translation: t(key, params) looks a key up in the active message catalogue and fills {name}
// placeholders. Only zh-CN exists today; another language is another catalogue file with the same
// keys, registered in CATALOGUES.
import zhCN from '../i18n/zh-CN.js';

const CATALOGUES = { 'zh-CN': zhCN };
let active = zhCN;
const warned = new Set();

/** The active locale, e.g. "zh-CN" (BCP 47). */
export function locale() {
  return active.locale;
}

/** Switches the catalogue; unknown locales keep the current one. */
export function setLocale(name) {
  if (CATALOGUES[name]) active = CATALOGUES[name];
  document.documentElement.lang = active.locale;
}

/** Reports whether the catalogue has a message for key. */
export function has(key) {
  return Object.prototype.hasOwnProperty.call(active.messages, key);
}

/** Translates key, replacing {name} with params.name. A missing key shows the key itself. */
export function t(key, params) {
  let msg = active.messages[key];
  if (msg === undefined) {
    if (!warned.has(key)) {
      warned.add(key);
      console.warn('i18n: missing message', key);
    }
    msg = key;
  }
  if (params) {
    msg = msg.replace(/\{(\w+)\}/g, (m, name) =>
      Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : m);
  }
  return msg;
}

/** Translates prefix + value when the catalogue knows it, else answers the raw value (or fallback). */
export function label(prefix, value, fallback) {
  if (value === null || value === undefined || value === '') return fallback ?? t('common.none');
  const key = prefix + '.' + value;
  return has(key) ? t(key) : String(value);
}
