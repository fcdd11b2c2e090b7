// The signed-in session: a flag with its expiry shared by the browser's tabs (the token itself
// is an HttpOnly cookie) and the caller's /me answer, cached in memory.
const KEY = 'redress.token';
const EXPIRES = 'redress.expires_at';

let me = null;

function store() {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

// The session itself is an HttpOnly cookie the server sets at sign-in (never readable here, so
// a script injected into the page cannot steal it); this module keeps only when it expires, in
// localStorage, so that every tab of the browser knows it is signed in and a link opened in a
// new tab needs no second sign-in.
const MARK = 'redress.session_expires';

function shared() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

// After a sign-in through the identity provider the server sets the HttpOnly session cookie
// and sends the browser straight to the page it came for; this short-lived readable cookie
// (the session's expiry, no secret) tells the page that it is now signed in.
const HANDOFF = 'redress_signed_in';

function takeHandOff() {
  const m = new RegExp('(?:^|;\\s*)' + HANDOFF + '=([^;]+)').exec(document.cookie || '');
  if (!m) return;
  document.cookie = HANDOFF + '=; Max-Age=0; Path=/; SameSite=Lax';
  signIn(null, decodeURIComponent(m[1]));
}

/** Whether this browser holds a session that has not expired (as far as the page knows). */
export function signedIn() {
  takeHandOff();
  const s = shared();
  const exp = s && s.getItem(MARK);
  if (!exp) return false;
  if (Date.parse(exp) <= Date.now()) {
    clear();
    return false;
  }
  return true;
}

/** Kept for the callers that ask for a token: the page has none, only a signed-in flag. */
export const token = signedIn;

/** Records a new sign-in (the token stays in the server's cookie; only the expiry is kept). */
export function signIn(_token, expiresAt) {
  const s = shared();
  const exp = expiresAt && !Number.isNaN(Date.parse(expiresAt)) ? expiresAt : new Date(Date.now() + 8 * 3600 * 1000).toISOString();
  if (s) s.setItem(MARK, exp);
  const old = store();
  if (old) { old.removeItem(KEY); old.removeItem(EXPIRES); }
  me = null;
}

/** Forgets the session and the user (the server's cookie is cleared by POST /auth/logout). */
export function clear() {
  const s = shared();
  if (s) s.removeItem(MARK);
  const old = store();
  if (old) { old.removeItem(KEY); old.removeItem(EXPIRES); }
  me = null;
}

/** The CSRF token the server set beside the session cookie, for requests that change data. */
export function csrfToken() {
  const m = /(?:^|;\s*)redress_csrf=([^;]+)/.exec(document.cookie || '');
  return m ? decodeURIComponent(m[1]) : '';
}

export function user() {
  return me;
}

export function setUser(u) {
  me = u;
}

/** The caller's distinct role names. */
export function roleNames(u = me) {
  return [...new Set(((u && u.roles) || []).map((r) => r.role))];
}

export function hasRole(...names) {
  const mine = roleNames();
  return names.some((n) => mine.includes(n));
}

/** Roles that may open the work-order inbox. */
export const INBOX_ROLES = ['officer', 'unit_leader', 'administrator', 'supervisor', 'auditor'];
