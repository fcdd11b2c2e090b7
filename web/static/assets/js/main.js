// The application shell: top bar with the role-aware menu and the user, the banner area, and the
// routes. Signed-out visitors go to #/login; a 401 from any call sends them back there.
import { h, mount } from './dom.js';
import { t, has, label, setLocale } from './i18n.js';
import { endpoints, onUnauthorized, ApiError, errorText } from './api.js';
import { applyServerTable } from './actions.js';
import { clearDrafts } from './forms.js';
import * as router from './router.js';
import * as session from './session.js';
import loginPage from './pages/login.js';
import inboxPage from './pages/inbox.js';
import orderPage from './pages/order.js';
import { homePage, notFoundPage } from './pages/home.js';
import queuesPage from './pages/queues.js';
import boardPage from './pages/board.js';
import calendarPage from './pages/calendar.js';
import auditPage from './pages/audit.js';
import adminPage from './pages/admin.js';
import dashboardPage from './pages/dashboard.js';
import resultsPage from './pages/results.js';
import ratePage from './pages/rate.js';
import trackPage from './pages/track.js';
import notificationsPage from './pages/notifications.js';
import publishingPage from './pages/publishing.js';
import { bellIcon } from './icons.js';

const BANNER_MS = 60000;
const PUBLIC = ['/login', '/auth/callback', '/results'];
// Citizens' and the public's pages: no sign-in, no staff menu.
const CITIZEN = /^\/(rate|track)\/[^/]+$/;

function isPublic(path) {
  return PUBLIC.includes(path) || CITIZEN.test(path);
}

const dismissed = new Set();
let bannerTimer = null;

// Menu entries: a page appears only for the roles that may use it.
const MENU = [
  { path: '/inbox', match: /^\/(inbox|orders\/)/, roles: session.INBOX_ROLES,
    label: () => t(session.hasRole('administrator', 'supervisor', 'auditor') ? 'nav.inbox' : 'nav.inbox_officer') },
  { path: '/queues/dispatch', match: /^\/queues/, roles: ['administrator'], label: () => t('nav.queues') },
  { path: '/board', match: /^\/board/, roles: ['supervisor', 'administrator'], label: () => t('nav.board') },
  { path: '/dashboard', match: /^\/dashboard/, roles: ['administrator', 'supervisor', 'auditor'], label: () => t('nav.dashboard') },
  { path: '/publishing', match: /^\/publishing/, roles: ['administrator', 'supervisor', 'auditor'], label: () => t('nav.publishing') },
  { path: '/audit', match: /^\/audit/, roles: ['auditor', 'sysadmin', 'administrator'], label: () => t('nav.audit') },
  { path: '/calendar', match: /^\/calendar/, roles: ['administrator', 'sysadmin', 'supervisor', 'auditor'], label: () => t('nav.calendar') },
  { path: '/admin/users', match: /^\/admin/, roles: ['administrator', 'sysadmin'], label: () => t('nav.admin') },
  { path: '/results', match: /^\/results/, roles: session.INBOX_ROLES.concat(['sysadmin']), label: () => t('nav.results') },
];

// Elderly-friendly (shilaohua) display settings: large text and high contrast, each a toggle button remembered in this
// browser (localStorage) and applied as a class on <html> before the first page renders.
const DISPLAY = [
  { key: 'redress.large_text', cls: 'large-text', label: 'display.large_text' },
  { key: 'redress.high_contrast', cls: 'high-contrast', label: 'display.high_contrast' },
];

function remembered(key) {
  try {
    return window.localStorage.getItem(key) === '1';
  } catch {
    return false;
  }
}

function applyDisplay() {
  for (const d of DISPLAY) document.documentElement.classList.toggle(d.cls, remembered(d.key));
}

function displaySettings() {
  return h('div.a11y', { role: 'group', 'aria-label': t('display.settings') },
    DISPLAY.map((d) => h('button.a11y-toggle', {
      type: 'button', 'aria-pressed': String(remembered(d.key)), dataset: { display: d.cls },
      onclick: (ev) => {
        const on = !remembered(d.key);
        try {
          window.localStorage.setItem(d.key, on ? '1' : '0');
        } catch {
          // Private mode without storage: the setting lasts for this page only.
        }
        document.documentElement.classList.toggle(d.cls, on);
        ev.currentTarget.setAttribute('aria-pressed', String(on));
      },
    }, t(d.label))));
}

function shell() {
  const app = document.getElementById('app');
  mount(app,
    h('a.skip', { href: '#main', onclick: (ev) => { ev.preventDefault(); document.getElementById('main').focus(); } }, t('app.skip')),
    h('header.topbar',
      h('a.brand', { href: '#/' },
        h('img', { src: '/assets/img/emblem.svg', alt: '', width: 28, height: 28 }),
        h('span.brand-name', t('app.name'))),
      h('nav#nav.nav', { 'aria-label': t('nav.main') }),
      displaySettings(),
      h('div#user.user')),
    h('div#banners.banners', { role: 'region', 'aria-label': t('banner.region'), 'aria-live': 'polite' }),
    h('main#main', { tabindex: -1 }));
}

function renderNav() {
  const nav = document.getElementById('nav');
  const userBox = document.getElementById('user');
  const u = session.user();
  if (!u || !session.signedIn()) {
    mount(nav);
    mount(userBox);
    return;
  }
  const { path } = router.current();
  mount(nav, MENU.filter((m) => session.hasRole(...m.roles)).map((m) =>
    h('a', { href: '#' + m.path, 'aria-current': m.match.test(path) ? 'page' : undefined }, m.label())));
  const roles = (u.roles || []).map((r) => t('role.at_unit', {
    role: label('role', r.role), unit: (r.unit && (r.unit.name || r.unit.code)) || '' }));
  mount(userBox,
    session.hasRole(...session.INBOX_ROLES) ? bell() : null,
    h('span.user-name', { title: roles.join('\n') }, u.name || u.login),
    h('span.user-roles', roles[0] || ''),
    h('button.btn.btn-small.btn-ghost', { type: 'button', onclick: signOut }, t('nav.signout')));
}

// The notification bell: a link to the notification centre with the unread count, refreshed
// with the banners and whenever the centre changes it (unreadchange).
let unread = null;

function bellLabel() {
  return unread ? t('notice.bell_unread', { n: unread }) : t('notice.bell');
}

function bell() {
  const { path } = router.current();
  return h('a.bell', { href: '#/notifications', 'aria-label': bellLabel(), title: bellLabel(),
    'aria-current': path === '/notifications' ? 'page' : undefined },
  bellIcon(20),
  unread ? h('span.bell-count', { 'aria-hidden': 'true' }, unread > 99 ? '99+' : String(unread)) : null);
}

function setUnread(n) {
  unread = Number(n) || 0;
  const old = document.querySelector('#user .bell');
  if (old) old.replaceWith(bell());
}

async function loadUnread() {
  if (!session.signedIn() || !session.hasRole(...session.INBOX_ROLES)) return;
  try {
    const res = await endpoints.notifications({ page_size: 1 });
    setUnread(res && res.unread);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    // The badge is advisory: a failing call must not break the page.
  }
}

function signOut() {
  // The server clears the HttpOnly session cookie; the page forgets its flag either way.
  endpoints.logout().catch(() => {});
  session.clear();
  clearDrafts();
  stopBanners();
  renderNav();
  router.go('/login', { signed_out: 1 });
}

async function loadBanners() {
  const box = document.getElementById('banners');
  if (!session.signedIn()) {
    mount(box);
    return;
  }
  try {
    const list = await endpoints.banners();
    // Whose banners these are (the browser tests wait on it before counting them).
    box.dataset.for = (session.user() && session.user().login) || '';
    const items = (Array.isArray(list) ? list : []).filter((b) => !dismissed.has(b.code + '|' + b.message));
    mount(box, items.map((b) => {
      const level = ['error', 'warning', 'info'].includes(b.level) ? b.level : 'info';
      const key = b.code + '|' + b.message;
      // The catalogue's words for the code, filled with its data; never the server's English.
      const text = b.code && has('banner.code.' + b.code) ? t('banner.code.' + b.code, b.data || {}) : t('banner.unknown');
      return h('div.banner', { class: 'banner-' + level, dataset: { code: b.code || '' } },
        h('strong.banner-level', label('banner.level', level)),
        h('span.banner-text', text),
        level === 'error' ? null : h('button.banner-close', {
          type: 'button', 'aria-label': t('banner.dismiss'), title: t('banner.dismiss'),
          onclick: () => { dismissed.add(key); loadBanners(); },
        }, '\u00d7'));
    }));
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    // Banners are advisory: an endpoint that is missing or failing must not break the page.
  }
}

function startBanners() {
  stopBanners();
  loadBanners();
  loadUnread();
  bannerTimer = setInterval(() => { loadBanners(); loadUnread(); }, BANNER_MS);
}

function stopBanners() {
  if (bannerTimer) clearInterval(bannerTimer);
  bannerTimer = null;
  const box = document.getElementById('banners');
  if (box) {
    mount(box);
    delete box.dataset.for;
  }
}

/** Loads /me once per session; answers false when signed out. */
async function ensureUser() {
  if (!session.signedIn()) return false;
  if (session.user() && session.user().roles) return true;
  const me = await endpoints.me();
  session.setUser(me);
  // The server's table of actions drives the forms' rules; the built-in table stands in
  // when it cannot be read.
  try {
    applyServerTable(await endpoints.actions());
  } catch (err) {
    console.warn('actions table', err);
  }
  renderNav();
  startBanners();
  return true;
}

/** Wraps a page that needs a signed-in user. */
function authed(page) {
  return async (outlet, ctx) => {
    try {
      if (!(await ensureUser())) {
        router.go('/login', { next: ctx.path }, true);
        return undefined;
      }
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return undefined;
      mount(outlet, h('div.notice.notice-error', { role: 'alert' }, errorText(err)));
      return undefined;
    }
    renderNav();
    return page(outlet, ctx);
  };
}

function titled(key, page) {
  return (outlet, ctx) => {
    document.title = t(key) + ' - ' + t('app.name');
    return page(outlet, ctx);
  };
}

/** Wraps a page for citizens and the public: no staff menu, no banners, no session needed. */
function citizen(page) {
  return (outlet, ctx) => {
    document.body.classList.toggle('public', !session.signedIn());
    if (!session.signedIn()) {
      stopBanners();
      renderNav();
    }
    return page(outlet, ctx);
  };
}

function home(outlet, ctx) {
  if (session.hasRole('officer', 'unit_leader', 'auditor')) {
    router.go('/inbox', undefined, true);
    return undefined;
  }
  if (session.hasRole('administrator')) {
    router.go('/queues/dispatch', undefined, true);
    return undefined;
  }
  if (session.hasRole('supervisor')) {
    router.go('/board', undefined, true);
    return undefined;
  }
  if (session.hasRole('sysadmin')) {
    router.go('/admin/users', undefined, true);
    return undefined;
  }
  return homePage(outlet, ctx);
}

// A refused sign-in through the identity provider comes back to #/auth/callback?error=<code>
// (a successful one goes straight to its page, signed in by cookie): the sign-in page says why.
function oidcCallback(outlet, { query }) {
  router.go('/login', query.error ? { oidc_error: query.error } : undefined, true);
}

function boot() {
  setLocale('zh-CN');
  applyDisplay();
  document.title = t('app.name');
  shell();
  onUnauthorized(() => {
    stopBanners();
    renderNav();
    const { path } = router.current();
    if (!isPublic(path)) router.go('/login', { expired: 1, next: path }, true);
  });
  // A signed-out visitor of a deep link (a bookmark, a link shared in chat) signs in and comes
  // back to it: the target travels as next.
  router.guard((path, query) => (isPublic(path) || session.signedIn() ? true
    : { path: '/login', query: { next: router.link(path, query).slice(1) } }));
  router.route('/login', (outlet, ctx) => {
    stopBanners();
    renderNav();
    document.title = t('login.title') + ' - ' + t('app.name');
    return loginPage(outlet, ctx);
  });
  router.route('/auth/callback', oidcCallback);
  router.route('/', authed(home));
  router.route('/inbox', authed((outlet, ctx) => {
    document.title = t('inbox.title') + ' - ' + t('app.name');
    return inboxPage(outlet, ctx);
  }));
  router.route('/orders/:id', authed(orderPage));
  router.route('/queues/:queue', authed(queuesPage));
  router.route('/board', authed(titled('board.title', boardPage)));
  router.route('/dashboard', authed(dashboardPage));
  router.route('/calendar', authed(calendarPage));
  router.route('/audit', authed(auditPage));
  router.route('/audit/:tab', authed(auditPage));
  router.route('/admin/:tab', authed(adminPage));
  router.route('/notifications', authed(notificationsPage));
  router.route('/publishing', authed(publishingPage));
  window.addEventListener('unreadchange', (ev) => setUnread(ev.detail.unread));
  router.route('/results', citizen(resultsPage));
  router.route('/rate/:token', citizen(ratePage));
  router.route('/track/:token', citizen(trackPage));
  router.otherwise(authed(notFoundPage));
  window.addEventListener('routechange', (ev) => {
    if (!isPublic(ev.detail.path)) document.body.classList.remove('public');
    if (session.user()) renderNav();
  });
  router.start();
}

boot();
