import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../cli/stack';
import { buildDashboard, dashboardFiles } from '../../dashboard/build';
// The dashboard's own modules (importing main.ts also puts every page in this typecheck).
import { routeTable } from '../../dashboard/src/main';
import { compileRoute, link } from '../../dashboard/src/router';
import { autoCollapse, layoutTree } from '../../dashboard/src/tree/layout';
import { TreeModel } from '../../dashboard/src/tree/model';
import { flattenNumbers } from '../../dashboard/src/views/eval-metrics';
import { segmentsOf } from '../../dashboard/src/views/revision';
import type { NativeRecord } from '../../shared/revision';
import type { TreeFile, TreeNode } from '../../shared/contracts/tree-file';
import { CHROMIUM_PATH, chromiumAvailable, type HeadlessBrowser, launchChromium } from '../helpers/browser';
import { projectRoot } from '../helpers/cli-process';

const screenshots = join(projectRoot, 'test-results');

describe('dashboard bundle and logic', () => {
  it('every link the pages make leads to a page', () => {
    const patterns = routeTable.map(([path]) => compileRoute(path).pattern);
    const links = [
      link.runs(),
      link.runs('running'),
      link.run('run_x'),
      link.tree('run_x', 3),
      link.tree('run_x', 3, 'rec', 'bad'),
      link.revision('run_x', 'rec'),
      link.datasets(),
    ];
    for (const href of links) {
      const path = href.replace(/^#/, '').split('?')[0]!;
      expect(
        patterns.some((p) => p.test(path)),
        href,
      ).toBe(true);
    }
  });

  const leaf = (id: string, depth: number, reward: number, children: TreeNode[] = []): TreeNode => ({
    id,
    depth,
    response: `r${id}`,
    action: `a${id}`,
    observation: `o${id}`,
    reward,
    done: children.length === 0,
    terminal: children.length === 0,
    visits: children.length === 0 ? 1 : children.length,
    value: reward,
    judgement: null,
    children,
  });

  it('keeps big trees to a drawing budget, opening the most visited branches first', () => {
    // Root with 10 children; child 1 is the most visited and has 10 children of its own.
    const busy = leaf(
      '1',
      1,
      0,
      Array.from({ length: 10 }, (_, i) => leaf(String(20 + i), 2, 1)),
    );
    busy.visits = 50;
    const root = leaf('0', 0, 0, [
      busy,
      ...Array.from({ length: 9 }, (_, i) => leaf(String(2 + i), 1, 0, [leaf(String(40 + i), 2, 0)])),
    ]);
    const model = TreeModel.fromFile({ task: 0, root });
    expect(model.size).toBe(1 + 10 + 10 + 9);
    expect(autoCollapse(model, 1000).size).toBe(0);
    const collapsed = autoCollapse(model, 21);
    expect(collapsed.has('1')).toBe(false);
    expect(collapsed.size).toBe(9);
    const layout = layoutTree(model, collapsed, model.subtreeSizes());
    expect(layout.order.length).toBe(21);
    expect(layout.hidden.get('2')).toBe(1);
  });

  it('applies live nodes: new children, newer counts, stale and orphan updates', () => {
    const model = TreeModel.fromFile({ task: 0, root: leaf('0', 0, 0, [leaf('1', 1, 0)]) });
    const base = {
      response: '',
      action: 'x',
      observation: '',
      reward: 0,
      done: false,
      terminal: false,
      value: 0,
      judgement: null,
    };
    expect(model.upsert({ ...base, id: '2', parentId: '1', depth: 2, visits: 0 })).toBe('added');
    expect(model.get('1')!.children).toEqual(['2']);
    expect(model.upsert({ ...base, id: '1', parentId: '0', depth: 1, visits: 3 })).toBe('updated');
    expect(model.upsert({ ...base, id: '1', parentId: '0', depth: 1, visits: 2 })).toBe('stale');
    expect(model.get('1')!.visits).toBe(3);
    expect(model.upsert({ ...base, id: '9', parentId: '8', depth: 3, visits: 0 })).toBe('orphan');
  });

  it('splits a revision record into task, bad prefix, reflection and good suffix', () => {
    const turns = [
      { role: 'user', content: 'instruction' },
      { role: 'assistant', content: 'Ok.', loss: false },
      { role: 'user', content: 'first observation' },
      { role: 'assistant', content: 'Thought: a\nAction: get 1 log', loss: false },
      { role: 'user', content: 'Got 1 log' },
      { role: 'assistant', content: 'Thought: b\nAction: craft x', loss: false },
      { role: 'user', content: 'Could not craft' },
      { role: 'assistant', content: 'Thought: wrong\nAction: wait', loss: true },
      { role: 'user', content: 'ok.' },
      { role: 'assistant', content: 'Thought: c\nAction: craft y', loss: true },
      { role: 'user', content: 'Crafted y' },
    ] as NativeRecord['revise_log'];
    const parts = segmentsOf({
      kind: 'revision',
      revise_log: turns,
      first_error_step: 2,
      branch_step: 2,
    } as NativeRecord);
    expect(parts.map((p) => [p.segment, p.turns.length])).toEqual([
      ['task', 3],
      ['bad', 4],
      ['reflection', 2],
      ['good', 2],
    ]);
  });

  it('reads eval metrics of any nesting', () => {
    const flat = flattenNumbers({ successRate: 0.5, loops: { share: 0.2, byLength: { 1: 3 } }, perTask: [] });
    expect([...flat]).toEqual([
      ['successRate', 0.5],
      ['loops.share', 0.2],
      ['loops.byLength.1', 3],
    ]);
  });
});

const hasChromium = chromiumAvailable();
if (!hasChromium)
  console.warn(`dashboard browser test skipped: ${CHROMIUM_PATH} is absent (apt-get install chromium)`);

function countNodes(node: TreeNode): number {
  return 1 + node.children.reduce((n, c) => n + countNodes(c), 0);
}

function findNode(node: TreeNode, id: string): TreeNode | null {
  if (node.id === id) return node;
  for (const c of node.children) {
    const found = findNode(c, id);
    if (found) return found;
  }
  return null;
}

function pathTo(root: TreeNode, id: string): TreeNode[] {
  if (root.id === id) return [root];
  for (const c of root.children) {
    const rest = pathTo(c, id);
    if (rest.length) return [root, ...rest];
  }
  return [];
}

describe.skipIf(!hasChromium)(
  `dashboard in headless Chromium${hasChromium ? '' : ` (skipped: ${CHROMIUM_PATH} is absent)`}`,
  () => {
    const home = mkdtempSync(join(tmpdir(), 'agent-r-dashboard-'));
    const previousHome = process.env.AGENT_R_HOME;
    let stack: LocalStack | null = null;
    let browser: HeadlessBrowser | null = null;
    let headers: Record<string, string> = {};
    let runId = '';

    const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
      const response = await fetch(`${stack!.apiUrl}${path}`, {
        ...init,
        headers: { ...headers, ...init.headers },
      });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    };
    const waitForRun = async (id: string) => {
      for (let i = 0; i < 600; i++) {
        const { status } = await api<{ status: string }>(`/v1/runs/${id}`);
        if (['completed', 'partial', 'failed', 'cancelled'].includes(status)) return status;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`run ${id} did not finish`);
    };
    const shot = (page: Page, name: string) =>
      page.screenshot({ path: join(screenshots, `dashboard-${name}.png`) });

    beforeAll(async () => {
      mkdirSync(screenshots, { recursive: true });
      process.env.AGENT_R_HOME = home;
      stack = await startLocalStack({ stateDir: join(home, 'state') });
      headers = { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' };
      const run = await api<{ id: string }>('/v1/runs', {
        method: 'POST',
        body: JSON.stringify({ tasks: [0, 1], iterations: 2, width: 3, depth: 6 }),
      });
      runId = run.id;
      expect(await waitForRun(runId)).toBe('completed');
      browser = await launchChromium();
    });

    afterAll(async () => {
      await browser?.close();
      await stack?.stop();
      if (previousHome === undefined) delete process.env.AGENT_R_HOME;
      else process.env.AGENT_R_HOME = previousHome;
      rmSync(home, { recursive: true, force: true });
    });

    it("serves this build's dashboard through the worker under wrangler dev (static assets, worker first)", async () => {
      // startLocalStack built dashboard/dist; a fresh build of dashboard/src must be what is served.
      const built = await buildDashboard();
      const hash = (JSON.parse(built.get(dashboardFiles.build)!) as { hash: string }).hash;
      const page = await fetch(`${stack!.apiUrl}/`);
      expect(await page.text()).toBe(built.get(dashboardFiles.page));
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      const script = await fetch(`${stack!.apiUrl}/dashboard/${hash}/app.js`);
      expect(await script.text()).toBe(built.get(dashboardFiles.js));
      expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      // run_worker_first: the asset directory's own paths never bypass the worker's routes.
      for (const path of ['/index.html', `/${dashboardFiles.js}`, `/${dashboardFiles.build}`]) {
        const response = await fetch(`${stack!.apiUrl}${path}`, { redirect: 'manual' });
        expect(response.status, path).toBe(404);
        expect(await response.json(), path).toMatchObject({ error: { code: 'not_found' } });
      }
    });

    it('logs in, lists the runs, draws a tree with a pair, shows a revision and downloads', async () => {
      const { apiUrl, token } = stack!;
      const page = await browser!.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));

      // Login: a form; the token goes to sessionStorage, never into the address.
      await page.goto(`${apiUrl}/`);
      await page.getByLabel('API token').fill(token);
      await shot(page, 'login');
      await page.getByRole('button', { name: 'Log in' }).click();
      const row = page.locator(`tr[data-run-id="${runId}"]`);
      await row.waitFor();
      expect(page.url()).not.toContain(token);
      expect(await page.evaluate(() => sessionStorage.getItem('agent-r.token'))).toBe(token);

      // Runs list: counters as the API reports them; the status filter hides and shows rows.
      const view = await api<{ counters: { revision: number; good: number; nodes: number } }>(
        `/v1/runs/${runId}`,
      );
      await expect.poll(() => row.locator('.badge').textContent()).toBe('completed');
      const cells = await row.locator('td').allTextContents();
      expect(cells[3]).toBe(String(view.counters.nodes));
      expect(cells[7]).toBe(String(view.counters.revision));
      expect(cells[8]).toBe(String(view.counters.good));
      await shot(page, 'runs');
      await page.getByLabel('Status').selectOption('failed');
      expect(await row.count()).toBe(0);
      await page.getByLabel('Status').selectOption('');
      expect(await row.count()).toBe(1);

      // The run's page, then the tree of task 0: one drawn node per node of the tree file.
      await row.getByRole('link', { name: runId }).click();
      await page.getByRole('link', { name: 'task 0: done' }).waitFor();
      await shot(page, 'run');
      // The data card on demand: the records' numbers as the API computes them, and its charts.
      await page.getByRole('button', { name: 'Show the data card' }).click();
      const card = await api<{ after: { records: number; distinct: number } }>(`/v1/runs/${runId}/datacard`);
      const cardRow = page.locator('.datacard tr', { hasText: 'distinct conversations' });
      await expect
        .poll(() => cardRow.locator('td').allTextContents())
        .toEqual([
          'distinct conversations',
          card.after.distinct.toLocaleString('en-US'),
          card.after.distinct.toLocaleString('en-US'),
        ]);
      expect(await page.locator('.datacard svg.chart').count()).toBeGreaterThanOrEqual(5);
      await page.getByRole('link', { name: 'task 0: done' }).click();
      const tree = await api<TreeFile>(`/v1/runs/${runId}/tasks/0/tree`);
      const total = countNodes(tree.root);
      await page.locator('svg.tree g.node').first().waitFor();
      await expect.poll(() => page.locator('svg.tree g.node').count()).toBe(total);
      expect(await page.locator('svg.tree').getAttribute('data-nodes')).toBe(String(total));

      // Keyboard: focus the tree, arrows move the selection, the details follow.
      await page.locator('svg.tree').focus();
      await page.keyboard.press('ArrowDown');
      expect(await page.locator('svg.tree').getAttribute('aria-activedescendant')).toBe('tn-0');
      await page.keyboard.press('ArrowDown');
      const firstChild = tree.root.children[0]!;
      await expect.poll(() => page.locator('.details code.action').textContent()).toBe(firstChild.action);

      // A (good, bad) pair: both paths highlighted, the judged first error marked.
      const { trajectories } = await api<{ trajectories: { id: string; kind: string }[] }>(
        `/v1/runs/${runId}/trajectories?task=0&kind=revision&limit=500`,
      );
      expect(trajectories.length).toBeGreaterThan(0);
      const record = await api<NativeRecord>(`/v1/runs/${runId}/trajectories/${trajectories[0]!.id}`);
      await page.getByLabel('Highlight a pair').selectOption(record.id);
      await page.locator('.mark-first-error').waitFor();
      const bad = pathTo(tree.root, record.bad_leaf!);
      const good = pathTo(tree.root, record.good_leaf);
      expect(await page.locator('g.node.on-bad').count()).toBe(bad.length);
      expect(await page.locator('g.node.on-good').count()).toBe(good.length);
      const firstError = bad[record.first_error_step!]!;
      expect(await page.locator('svg.tree').getAttribute('aria-activedescendant')).toBe(
        `tn-${firstError.id}`,
      );
      await expect.poll(() => page.locator('.details code.action').textContent()).toBe(firstError.action);
      await shot(page, 'tree');

      // Clicking a node shows its thought, action and observation.
      const leaf = findNode(tree.root, record.good_leaf)!;
      await page.locator(`#tn-${leaf.id}`).click();
      await expect.poll(() => page.locator('.details h2').textContent()).toBe(`Node ${leaf.id}`);
      const detailText = (await page.locator('.details').textContent()) ?? '';
      expect(detailText).toContain(leaf.observation);
      expect(detailText).toContain(leaf.action);

      // The revision record: bad prefix, reflection, good suffix; trained turns marked.
      await page.getByRole('link', { name: 'open the record' }).click();
      await page.locator('.segment.seg-reflection').waitFor();
      expect(await page.locator('.segment.seg-bad .turn.role-assistant').count()).toBe(
        record.first_error_step,
      );
      expect(await page.locator('.segment.seg-reflection .turn.trained').textContent()).toContain('wait');
      const trained = record.revise_log.filter((t) => t.role === 'assistant' && t.loss === true).length;
      expect(await page.locator('.turn[data-loss="true"]').count()).toBe(trained);
      expect(await page.locator('.segment.seg-bad .turn[data-loss="true"]').count()).toBe(0);
      await shot(page, 'revision');
      await page.getByRole('link', { name: 'Bad path in the tree' }).click();
      await page.locator('.mark-first-error').waitFor();
      expect(await page.locator('svg.tree').getAttribute('aria-activedescendant')).toBe(
        `tn-${record.bad_leaf}`,
      );

      // Datasets: sizes per run and downloads (fetch + blob, bearer header) in every format.
      await page.getByRole('link', { name: 'Datasets & iterations' }).click();
      await page.getByRole('button', { name: `Download ${runId} as openai JSONL` }).waitFor();
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: `Download ${runId} as openai JSONL` }).click(),
      ]);
      const file = await download.path();
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines.length).toBe(view.counters.revision + view.counters.good);
      expect(JSON.parse(lines[0]!)).toHaveProperty('messages');
      await shot(page, 'datasets');
      expect(errors).toEqual([]);
      await page.close();
    });

    it('grows a running task tree live over the WebSocket (ticket, not token, in the URL)', async () => {
      const { apiUrl, token } = stack!;
      const run = await api<{ id: string }>('/v1/runs', {
        method: 'POST',
        body: JSON.stringify({ tasks: [2], iterations: 12, width: 3, depth: 8 }),
      });
      const page = await browser!.context.newPage();
      const frames: string[] = [];
      const sockets: string[] = [];
      page.on('websocket', (ws) => {
        sockets.push(ws.url());
        ws.on('framereceived', (f) => frames.push(String(f.payload)));
      });
      await page.goto(`${apiUrl}/`);
      await page.evaluate((t) => sessionStorage.setItem('agent-r.token', t), token);
      await page.goto(`${apiUrl}/#/runs/${run.id}/tasks/2`);
      const svg = page.locator('svg.tree');
      await expect.poll(() => svg.getAttribute('data-live'), { timeout: 20_000 }).toMatch(/live|stopped/);

      // Counts seen while the search runs, without any reload.
      const seen = new Set<number>();
      let status = '';
      for (let i = 0; i < 600 && status !== 'done'; i++) {
        seen.add(await page.locator('svg.tree g.node').count());
        status = (await page.locator('.page-head .badge').textContent()) ?? '';
        await page.waitForTimeout(100);
      }
      expect(status).toBe('done');
      await waitForRun(run.id);
      const tree = await api<TreeFile>(`/v1/runs/${run.id}/tasks/2/tree`);
      await page.getByRole('button', { name: 'Expand all' }).click();
      await expect.poll(() => page.locator('svg.tree g.node').count()).toBe(countNodes(tree.root));
      await shot(page, 'live');

      expect(sockets.length).toBeGreaterThan(0);
      for (const url of sockets) {
        expect(url).toContain('/live?ticket=');
        expect(url).not.toContain(token);
      }
      const messages = frames.filter((f) => f.startsWith('{')).map((f) => JSON.parse(f) as { type: string });
      expect(messages[0]?.type).toBe('hello');
      expect(messages.some((m) => m.type === 'nodes')).toBe(true);
      expect(seen.size).toBeGreaterThan(1);

      // A socket without a valid ticket is refused.
      const refused = await page.evaluate(
        (url) =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(url);
            ws.onopen = () => resolve('open');
            ws.onerror = () => resolve('refused');
          }),
        `${apiUrl.replace('http', 'ws')}/v1/runs/${run.id}/tasks/2/live?ticket=forged.ticket`,
      );
      expect(refused).toBe('refused');
      await page.close();
    });
  },
);
