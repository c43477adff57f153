// Hash routes (the server only serves `/`): #/runs, #/runs/<id>, #/runs/<id>/tasks/<task>,
// #/runs/<id>/revisions/<record>, #/datasets. The token never appears in a URL.

import { type Child, h } from './dom';

export interface ViewContext {
  main: HTMLElement;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Runs when the user navigates away (timers, sockets). */
  onLeave(fn: () => void): void;
  /** False once the user navigated away: late answers must not touch the page. */
  alive(): boolean;
}

export type View = (ctx: ViewContext) => void | Promise<void>;

interface Route {
  pattern: RegExp;
  names: string[];
  view: View;
}

/** `/runs/:id` -> a pattern matching `/runs/<anything but a slash>`, and the parameter names. */
export function compileRoute(path: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = path.replace(/:([a-z]+)/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { pattern: new RegExp(`^${source}$`), names };
}

export class Router {
  private readonly routes: Route[] = [];
  private leave: (() => void)[] = [];
  private generation = 0;

  constructor(
    private readonly main: HTMLElement,
    private readonly notFound: View,
  ) {}

  add(path: string, view: View): this {
    this.routes.push({ ...compileRoute(path), view });
    return this;
  }

  current(): { path: string; query: URLSearchParams } {
    const raw = location.hash.replace(/^#/, '') || '/runs';
    const [path = '/runs', query = ''] = raw.split('?');
    return { path: path === '/' ? '/runs' : path, query: new URLSearchParams(query) };
  }

  /** Renders the view of the current hash, after cleaning up the previous one. */
  async render(): Promise<void> {
    for (const fn of this.leave.splice(0)) {
      try {
        fn();
      } catch (error) {
        console.error(error);
      }
    }
    const generation = ++this.generation;
    const { path, query } = this.current();
    let view = this.notFound;
    const params: Record<string, string> = {};
    for (const route of this.routes) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      route.names.forEach((name, i) => {
        params[name] = decodeURIComponent(match[i + 1] ?? '');
      });
      view = route.view;
      break;
    }
    this.main.replaceChildren();
    await view({
      main: this.main,
      params,
      query,
      onLeave: (fn) => this.leave.push(fn),
      alive: () => generation === this.generation,
    });
  }

  stop(): void {
    this.generation++;
    for (const fn of this.leave.splice(0)) fn();
  }
}

/** Updates the hash's query without re-rendering (a selection worth bookmarking). */
export function replaceQuery(values: Record<string, string | null>): void {
  const raw = location.hash.replace(/^#/, '');
  const [path = '/runs', query = ''] = raw.split('?');
  const params = new URLSearchParams(query);
  for (const [key, value] of Object.entries(values)) {
    if (value === null) params.delete(key);
    else params.set(key, value);
  }
  const text = params.toString();
  history.replaceState(null, '', `#${path}${text ? `?${text}` : ''}`);
}

export const link = {
  runs: (status?: string) => `#/runs${status ? `?status=${encodeURIComponent(status)}` : ''}`,
  run: (id: string) => `#/runs/${encodeURIComponent(id)}`,
  tree: (id: string, task: number, pair?: string, focus?: 'good' | 'bad') =>
    `#/runs/${encodeURIComponent(id)}/tasks/${task}${
      pair ? `?pair=${encodeURIComponent(pair)}${focus ? `&focus=${focus}` : ''}` : ''
    }`,
  revision: (id: string, record: string) =>
    `#/runs/${encodeURIComponent(id)}/revisions/${encodeURIComponent(record)}`,
  datasets: () => '#/datasets',
};

/** The breadcrumb of a run's pages: Runs / RUN / `here` (on the run's own page: Runs / RUN). */
export function runCrumbs(runId: string, here?: string): HTMLElement {
  const tail: Child[] =
    here === undefined ? [runId] : [h('a', { href: link.run(runId) }, runId), ' / ', here];
  return h(
    'nav',
    { class: 'crumbs', 'aria-label': 'Breadcrumb' },
    h('a', { href: link.runs() }, 'Runs'),
    ' / ',
    tail,
  );
}
