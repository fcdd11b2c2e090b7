// The API client: JSON over fetch under /api/v1, with the bearer token from the session, the
// error shape {"error": {"code", "message", "field"}} turned into ApiError, and a 401 reported to
// the handler set with onUnauthorized (the app goes back to sign-in). An ApiError's message is
// always the catalogue's Chinese text for its code: the server's English message is kept only as
// serverMessage, for the console, and never reaches the page.
import { t, has } from './i18n.js';
import * as session from './session.js';

export const BASE = '/api/v1';

/**
 * An answer other than 2xx, or a network failure (status 0, code "network"). message is Chinese
 * (see localMessage); serverMessage is what the server said, for diagnosis only.
 */
export class ApiError extends Error {
  constructor(status, code, message, field, serverMessage) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field || null;
    this.serverMessage = serverMessage || '';
  }
}

/**
 * The Chinese message for an error code: the catalogue's apierror.<code>, else the message of a
 * known prefix (invalid_page → apierror.prefix.invalid_), else one by HTTP status.
 */
export function localMessage(status, code) {
  if (code && has('apierror.' + code)) return t('apierror.' + code);
  if (code && code.startsWith('invalid_')) return t('apierror.prefix.invalid_');
  return fallbackMessage(status);
}

/** The Chinese name of a field the API names in an error, or '' when the catalogue has none. */
export function fieldLabel(field) {
  if (!field) return '';
  if (has('apifield.' + field)) return t('apifield.' + field);
  const last = field.split('.').pop();
  return has('apifield.' + last) ? t('apifield.' + last) : '';
}

/** What a person reads for an error: "field: message" (in Chinese) when the field has a Chinese name, else the message. */
export function errorText(err) {
  if (!(err instanceof ApiError)) return t('error.unexpected');
  const f = fieldLabel(err.field);
  return f ? t('error.field', { field: f, message: err.message }) : err.message;
}

function apiError(status, e) {
  const code = e.code || 'http_' + status;
  if (e.message) console.info('api error', status, code, e.field || '', e.message);
  return new ApiError(status, code, localMessage(status, e.code), e.field, e.message);
}

let unauthorized = () => {};

/** Sets the function called when an authenticated call answers 401. */
export function onUnauthorized(fn) {
  unauthorized = fn;
}

/** Builds "?a=1&b=2" from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

function fallbackMessage(status) {
  switch (status) {
    case 403: return t('error.forbidden');
    case 404: return t('error.not_found');
    case 409: return t('error.conflict');
    case 401: return t('apierror.unauthorized');
    case 413: return t('error.too_large');
    case 429: return t('apierror.too_many_requests');
    case 422: return t('apierror.invalid');
    case 503: return t('apierror.unavailable');
    default: return status >= 500 ? t('apierror.internal') : t('error.http', { status });
  }
}

/**
 * Calls the API. opts: body (sent as JSON), headers, auth (default true: send the token and
 * treat 401 as a lost session), signal. Answers the decoded JSON (null for an empty body).
 */
export async function request(method, path, opts = {}) {
  const headers = { Accept: 'application/json', ...(opts.headers || {}) };
  const auth = opts.auth !== false;
  // Signed-in calls ride on the session cookie and, when they change data, carry the CSRF
  // token; the citizen's public calls send no cookie at all.
  if (auth && method !== 'GET' && method !== 'HEAD') {
    const csrf = session.csrfToken();
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res;
  try {
    res = await fetch(BASE + path, { method, headers, body, signal: opts.signal, credentials: auth ? 'same-origin' : 'omit' });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', t('error.network'));
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = apiError(res.status, (data && data.error) || {});
    if (res.status === 401 && opts.auth !== false && opts.auth !== 'login') {
      session.clear();
      unauthorized(err);
    }
    throw err;
  }
  return data;
}

export const get = (path, opts) => request('GET', path, opts);
export const post = (path, body, opts = {}) => request('POST', path, { ...opts, body });
export const del = (path, opts) => request('DELETE', path, opts);

/** Uploads a file as the request body (the attachments' API), with the session's CSRF token. */
export async function upload(path, file) {
  const headers = { Accept: 'application/json', 'Content-Type': file.type || 'application/octet-stream' };
  const csrf = session.csrfToken();
  if (csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(BASE + path, { method: 'POST', headers, body: file, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', t('error.network'));
  }
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (!res.ok) throw apiError(res.status, (data && data.error) || {});
  return data;
}

/**
 * Downloads a file answered by an authenticated GET (exports): fetches it with the token, then
 * saves it under the server's file name (Content-Disposition) or fallbackName.
 */
export async function download(path, fallbackName) {
  const headers = {};
  let res;
  try {
    res = await fetch(BASE + path, { headers, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', t('error.network'));
  }
  if (!res.ok) {
    let e = {};
    try { e = (await res.json()).error || {}; } catch { e = {}; }
    throw apiError(res.status, e);
  }
  const blob = await res.blob();
  const cd = res.headers.get('Content-Disposition') || '';
  const m = /filename="?([^";]+)"?/.exec(cd);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = m ? m[1] : fallbackName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

const enc = encodeURIComponent;

/** A fresh idempotency key: a UUID, or 32 random hex digits where randomUUID is missing. */
export function newIdempotencyKey() {
  if (globalThis.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  if (globalThis.crypto && crypto.getRandomValues) crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// The endpoints the UI uses, in one place.
export const endpoints = {
  demoUsers: () => get('/auth/demo-users', { auth: false }),
  // Same-origin credentials, so that the answer's session cookie is kept.
  demoLogin: (login) => post('/auth/demo-login', { login }, { auth: 'login' }),
  logout: () => post('/auth/logout', {}, { auth: 'login' }),
  oidcLoginURL: BASE + '/auth/oidc/login',
  me: () => get('/me'),
  actions: () => get('/actions'),
  banners: () => get('/system/banners'),
  workOrders: (params, signal) => get('/work-orders' + query(params), { signal }),
  workOrder: (id) => get('/work-orders/' + encodeURIComponent(id)),
  timeline: (id) => get('/work-orders/' + encodeURIComponent(id) + '/timeline'),
  act: (id, body, key) => post('/work-orders/' + encodeURIComponent(id) + '/actions', body, {
    headers: { 'Idempotency-Key': key },
  }),
  attachments: (id) => get('/work-orders/' + enc(id) + '/attachments'),
  attachmentPath: (id, aid) => '/work-orders/' + enc(id) + '/attachments/' + enc(aid),
  uploadAttachment: (id, file, note) => upload('/work-orders/' + enc(id) + '/attachments' + query({ filename: file.name, note }), file),
  evaluatorContact: (id, reason) => post('/work-orders/' + enc(id) + '/evaluator-contact', { reason }),
  exportOrdersPath: (params) => '/exports/work-orders' + query(params),
  // Citizens and the public: no token.
  rateCase: (token) => get('/rate/' + enc(token), { auth: false }),
  rate: (token, body) => post('/rate/' + enc(token), body, { auth: false }),
  track: (token) => get('/track/' + enc(token), { auth: false }),
  trackFeedback: (token, body) => post('/track/' + enc(token) + '/feedback', body, { auth: false }),
  publicResults: (month) => get('/public/results' + query({ month }), { auth: false }),
  // Administration.
  calendarYears: () => get('/calendar/years'),
  calendarYear: (year, unit) => get('/calendar/years/' + enc(year) + query({ org_unit: unit })),
  importCalendar: (body) => post('/calendar/years', body),
  overrides: (unit) => get('/calendar/overrides' + query({ unit })),
  setOverride: (body) => post('/calendar/overrides', body),
  removeOverride: (unit, date) => del('/calendar/overrides' + query({ unit, date })),
  users: (params) => get('/admin/users' + query(params)),
  createUser: (body) => post('/admin/users', body),
  setUserDisabled: (login, disabled) => post('/admin/users/' + enc(login) + (disabled ? '/disable' : '/enable'), {}),
  addRole: (login, body) => post('/admin/users/' + enc(login) + '/roles', body),
  removeRole: (login, role, unit) => del('/admin/users/' + enc(login) + '/roles/' + enc(role) + '/' + enc(unit)),
  policies: (params) => get('/admin/policies' + query(params)),
  addPolicy: (body) => post('/admin/policies', body),
  removePolicy: (rule) => del('/admin/policies' + query(rule)),
  units: () => get('/units'),
  staff: (params) => get('/staff' + query(params)),
  createUnit: (body) => post('/units', body),
  updateUnit: (code, body) => request('PATCH', '/units/' + enc(code), { body }),
  unitPolicy: (code) => get('/units/' + enc(code) + '/policy'),
  setUnitPolicy: (code, doc) => request('PUT', '/units/' + enc(code) + '/policy', { body: doc }),
  auditLog: (params) => get('/audit-log' + query(params)),
  auditExportPath: (params) => '/audit-log/export' + query(params),
  fraudFlags: (params) => get('/fraud-flags' + query(params)),
  ruleFraudFlag: (id, body) => post('/fraud-flags/' + enc(id) + '/ruling', body),
  piiAccess: (params) => get('/pii-access' + query(params)),
  statsUnits: (from, to) => get('/stats/units' + query({ from, to })),
  publications: (params) => get('/publications' + query(params)),
  publish: (body) => post('/publications', body),
  reports: (params) => get('/reports' + query(params)),
  makeReport: (body) => post('/reports', body),
  reportPath: (id) => '/reports/' + enc(id),
  notifications: (params) => get('/notifications' + query(params)),
  markNotificationsRead: (body) => post('/notifications/read', body),
};
