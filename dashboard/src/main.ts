// The dashboard's entry: the shell (header, navigation, login) and the routes.
import { LOGOUT_EVENT, session } from './api';
import { h, notice } from './dom';
import { Router, type View } from './router';
import { datasetsView } from './views/datasets';
import { loginView } from './views/login';
import { revisionView } from './views/revision';
import { runView } from './views/run';
import { runsView } from './views/runs';
import { treeView } from './views/tree-page';

/** Every page of the dashboard (hash paths; see router.ts for the links to them). */
export const routeTable: [path: string, view: View][] = [
  ['/runs', runsView],
  ['/runs/:id', runView],
  ['/runs/:id/tasks/:task', treeView],
  ['/runs/:id/revisions/:record', revisionView],
  ['/datasets', datasetsView],
];

/** The nav entries, matched against the first path segment. */
const sections = [
  { href: '#/runs', label: 'Runs', match: /^\/runs/ },
  { href: '#/datasets', label: 'Datasets & iterations', match: /^\/datasets/ },
];

function start(): void {
  const root = document.getElementById('app');
  if (!root) return;
  const main = h('main', { id: 'main', tabindex: '-1' });
  const navLinks = sections.map((s) => h('a', { href: s.href }, s.label));
  const logout = h(
    'button',
    {
      type: 'button',
      class: 'link-button',
      onclick: () => {
        session.clear();
        showLogin();
      },
    },
    'Log out',
  );
  const header = h(
    'header',
    { class: 'top' },
    h('a', { class: 'brand', href: '#/runs', 'aria-label': 'agent-r home' }, 'agent-r'),
    h('nav', { 'aria-label': 'Sections' }, navLinks),
    h('span', { class: 'spacer' }),
    logout,
  );
  const skip = h('a', { class: 'skip-link', href: '#main', onclick: skipToMain }, 'Skip to content');
  root.replaceChildren(skip, header, main);

  const router = new Router(main, ({ main: m }) => {
    m.append(
      h('h1', { tabindex: '-1' }, 'Not found'),
      notice('There is no page at this address.'),
      h('a', { href: '#/runs' }, 'Back to the runs'),
    );
  });
  for (const [path, view] of routeTable) router.add(path, view);

  function skipToMain(event: Event): void {
    event.preventDefault();
    main.focus();
  }

  function markNav(): void {
    const { path } = router.current();
    navLinks.forEach((a, i) => {
      if (sections[i]!.match.test(path)) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
  }

  async function route(focus: boolean): Promise<void> {
    if (!session.token()) return showLogin();
    header.hidden = false;
    markNav();
    await router.render();
    if (focus) main.querySelector<HTMLElement>('h1')?.focus();
  }

  function showLogin(message?: string): void {
    router.stop();
    header.hidden = true;
    loginView(main, message, () => void route(true));
  }

  window.addEventListener('hashchange', () => void route(true));
  window.addEventListener(LOGOUT_EVENT, (event) =>
    showLogin(`The server refused the token: ${(event as CustomEvent<string>).detail}`),
  );
  void route(false);
}

// Imported outside a browser (the tests read routeTable), it only defines.
if (typeof document !== 'undefined') start();
