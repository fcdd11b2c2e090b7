// The signed-in session: the bearer token in sessionStorage (one tab, gone when the tab closes)
// and the caller's /me answer, cached in memory.
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

const NEXT = 'redress.next';

/** Keeps the page to return to across the identity provider's redirect (a hash path). */
export function keepNext(path) {
  const s = store();
  if (!s) return;
  if (path && path.startsWith('/')) s.setItem(NEXT, path);
  else s.removeItem(NEXT);
}

/** Answers and forgets the page kept by keepNext, or null. */
export function takeNext() {
  const s = store();
  if (!s) return null;
  const v = s.getItem(NEXT);
  s.removeItem(NEXT);
  return v && v.startsWith('/') ? v : null;
}

/** The bearer token, or null when signed out or expired. */
export function token() {
  const s = store();
  if (!s) return null;
  const tok = s.getItem(KEY);
  const exp = s.getItem(EXPIRES);
  if (tok && exp && Date.parse(exp) <= Date.now()) {
    clear();
    return null;
  }
  return tok;
}

/** Stores a new token (and its expiry, RFC 3339, if known). */
export function signIn(tok, expiresAt) {
  const s = store();
  if (s) {
    s.setItem(KEY, tok);
    if (expiresAt) s.setItem(EXPIRES, expiresAt);
    else s.removeItem(EXPIRES);
  }
  me = null;
}

/** Forgets the token and the user. */
export function clear() {
  const s = store();
  if (s) {
    s.removeItem(KEY);
    s.removeItem(EXPIRES);
  }
  me = null;
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
