// Hash routing: "#/orders/{id}?tab=x". Routes are patterns with :name parts; a page is a function
// (outlet, {params, query, path}) that renders into outlet and may answer a cleanup function
// (or a promise of one), called before the next page renders (timers, aborted fetches).
const routes = [];
let notFound = null;
let cleanup = null;
let generation = 0;
let before = () => true;

/** Registers a page for a pattern such as "/orders/:id". */
export function route(pattern, page) {
  const names = [];
  const re = new RegExp('^' + pattern.replace(/:(\w+)/g, (m, n) => {
    names.push(n);
    return '([^/]+)';
  }) + '/?$');
  routes.push({ re, names, page });
}

export function otherwise(page) {
  notFound = page;
}

/**
 * Sets a guard (path, query) => true to go on, or where to go instead: a path, or {path, query}
 * (e.g. the sign-in page with the target to come back to).
 */
export function guard(fn) {
  before = fn;
}

/** The current location as {path, query}. */
export function current() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const i = raw.indexOf('?');
  const path = i < 0 ? raw : raw.slice(0, i);
  const query = Object.fromEntries(new URLSearchParams(i < 0 ? '' : raw.slice(i + 1)));
  return { path: path || '/', query };
}

/** Builds a hash link: link('/inbox', {page: 2}) → "#/inbox?page=2". */
export function link(path, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return '#' + path + (s ? '?' + s : '');
}

/** Navigates; replace avoids a history entry. */
export function go(path, query, replace = false) {
  const target = link(path, query);
  if (location.hash === target) {
    render();
  } else if (replace) {
    history.replaceState(null, '', target);
    render();
  } else {
    location.hash = target;
  }
}

/** Re-renders the current route. */
export async function render() {
  const outlet = document.getElementById('main');
  const { path, query } = current();
  const verdict = before(path, query);
  if (verdict !== true) {
    if (verdict && typeof verdict === 'object') go(verdict.path, verdict.query, true);
    else go(verdict, undefined, true);
    return;
  }
  const gen = ++generation;
  if (typeof cleanup === 'function') {
    try {
      cleanup();
    } catch (err) {
      console.warn(err);
    }
  }
  cleanup = null;
  let page = notFound;
  let params = {};
  for (const r of routes) {
    const m = r.re.exec(path);
    if (m) {
      page = r.page;
      r.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
      break;
    }
  }
  window.dispatchEvent(new CustomEvent('routechange', { detail: { path, query } }));
  const result = await page(outlet, { params, query, path });
  if (gen !== generation) {
    if (typeof result === 'function') result();
    return;
  }
  cleanup = result;
}

export function start() {
  window.addEventListener('hashchange', render);
  return render();
}
