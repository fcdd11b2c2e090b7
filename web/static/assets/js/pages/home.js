// The landing page for signed-in users whose roles have no page yet, and the unknown-route page.
import { h, mount } from '../dom.js';
import { t, label } from '../i18n.js';
import * as session from '../session.js';

export function homePage(outlet) {
  const u = session.user() || { roles: [] };
  mount(outlet, h('section.page',
    h('h1', t('home.title')),
    h('div.notice.notice-info', t('home.no_pages')),
    h('p', t('home.roles')),
    h('ul.role-list', (u.roles || []).map((r) => h('li',
      t('role.at_unit', { role: label('role', r.role), unit: (r.unit && (r.unit.name || r.unit.code)) || '' }))))));
}

export function notFoundPage(outlet) {
  mount(outlet, h('section.page',
    h('h1', t('error.title')),
    h('p', t('error.route')),
    h('a.btn', { href: '#/' }, t('error.go_home'))));
}
