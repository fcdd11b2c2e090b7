// Sign-in: the demo users as a picker grouped by role (development and demo only), or the
// unified identity (OIDC) button when the server has no demo users (404 in production).
import { h, mount } from '../dom.js';
import { t, label } from '../i18n.js';
import { endpoints, ApiError, errorText, localMessage, query as queryString } from '../api.js';
import * as session from '../session.js';

const ROLE_ORDER = ['officer', 'unit_leader', 'administrator', 'supervisor', 'auditor', 'integration', 'sysadmin'];

function oidcBlock(hint, next) {
  return h('div.oidc',
    hint ? h('p.muted', t('login.oidc_hint')) : null,
    // The identity provider's round trip loses the fragment: the server keeps the deep link
    // and sends the browser back to it, signed in.
    h('a.btn.btn-primary.btn-lg', { href: endpoints.oidcLoginURL + queryString({ next: next && next.startsWith('/') ? next : '' }) }, t('login.oidc')));
}

/** Groups users by role: [{role, entries:[{user, unit}]}], in ROLE_ORDER, unknown roles last. */
export function groupByRole(users) {
  const groups = new Map();
  for (const u of users || []) {
    for (const r of u.roles || []) {
      if (!groups.has(r.role)) groups.set(r.role, []);
      groups.get(r.role).push({ user: u, unit: r.unit });
    }
  }
  const rank = (r) => (ROLE_ORDER.indexOf(r) < 0 ? 99 : ROLE_ORDER.indexOf(r));
  return [...groups.entries()].sort((a, b) => rank(a[0]) - rank(b[0])).map(([role, entries]) => ({ role, entries }));
}

export default function loginPage(outlet, { query }) {
  let alive = true;
  const status = h('div.form-error', { role: 'alert', hidden: true });
  const body = h('div.login-body', h('p.muted', t('common.loading')));
  const notice = query.oidc_error ? h('div.notice.notice-error', { role: 'alert' }, t('login.oidc_failed', { message: localMessage(401, query.oidc_error) }))
    : query.expired ? h('div.notice.notice-warning', t('login.expired'))
    : query.signed_out ? h('div.notice.notice-info', t('login.signed_out')) : null;
  mount(outlet, h('section.login', { 'aria-labelledby': 'login-title' },
    h('div.login-card',
      h('h1#login-title', t('app.name')),
      h('p.subtitle', t('login.subtitle')),
      notice, status, body)));

  const signIn = async (login, btn) => {
    status.hidden = true;
    for (const b of outlet.querySelectorAll('button.user-pick')) b.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    try {
      const res = await endpoints.demoLogin(login);
      session.signIn(res.token, res.expires_at);
      location.hash = query.next && query.next.startsWith('/') ? '#' + query.next : '#/';
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      status.textContent = t('login.failed', { message: errorText(err) });
      status.hidden = false;
      for (const b of outlet.querySelectorAll('button.user-pick')) b.disabled = false;
      btn.removeAttribute('aria-busy');
    }
  };

  endpoints.demoUsers().then((users) => {
    if (!alive) return;
    const groups = groupByRole(users);
    if (groups.length === 0) {
      mount(body, h('p.muted', t('login.demo_empty')), oidcBlock(false, query.next));
      return;
    }
    mount(body,
      h('h2', t('login.demo_title')),
      h('p.muted', t('login.demo_hint')),
      groups.map((g) => h('section.role-group', { 'aria-label': label('role', g.role) },
        h('h3', label('role', g.role)),
        h('ul.user-list', g.entries.map(({ user, unit }) => h('li',
          h('button.user-pick', {
            type: 'button',
            'aria-label': t('login.as', { name: user.name, login: user.login }),
            onclick: (ev) => signIn(user.login, ev.currentTarget),
          },
          h('span.user-name', user.name),
          h('span.user-login', user.login),
          h('span.user-unit', (unit && unit.name) || (unit && unit.code) || ''))))))));
  }).catch((err) => {
    if (!alive) return;
    if (err instanceof ApiError && err.status === 404) {
      mount(body, oidcBlock(true, query.next));
      return;
    }
    status.textContent = errorText(err);
    status.hidden = false;
    mount(body, oidcBlock(false, query.next));
  });

  return () => { alive = false; };
}
