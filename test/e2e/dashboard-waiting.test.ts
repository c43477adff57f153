import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../cli/stack';
import { type SimPolicyServer, startSimPolicy } from '../../cli/sim-policy/server';
import type { TaskWait } from '../../shared/contracts/run-view';
import { CHROMIUM_PATH, chromiumAvailable, type HeadlessBrowser, launchChromium } from '../helpers/browser';

const hasChromium = chromiumAvailable();

// The run page shows, per unfinished task, what it waits for and since when (GET /v1/runs/:id
// `waiting`), so a user can tell a slow endpoint from a wedged task. Real stack, real Chromium.
describe.skipIf(!hasChromium)(
  `dashboard: what unfinished tasks wait for${hasChromium ? '' : ` (skipped: ${CHROMIUM_PATH} is absent)`}`,
  () => {
    const home = mkdtempSync(join(tmpdir(), 'agent-r-dash-waiting-'));
    let stack: LocalStack | null = null;
    let slow: SimPolicyServer | null = null;
    let browser: HeadlessBrowser | null = null;
    let headers: Record<string, string> = {};

    const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
      const response = await fetch(`${stack!.apiUrl}${path}`, { ...init, headers });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    };

    beforeAll(async () => {
      stack = await startLocalStack({ stateDir: join(home, 'state') });
      headers = { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' };
      // An endpoint that takes 5 s per answer: tasks spend their time waiting on it.
      slow = await startSimPolicy({ latencyMs: 5000 });
      await api('/v1/endpoints/slow', {
        method: 'PUT',
        body: JSON.stringify({ baseUrl: `${slow.url}/v1`, model: 'sim-policy', maxConcurrency: 1 }),
      });
      browser = await launchChromium();
    }, 240_000);

    afterAll(async () => {
      await browser?.close();
      await slow?.close();
      await stack?.stop();
      rmSync(home, { recursive: true, force: true });
    });

    it('lists each unfinished task with what it waits for and since when; the list goes once the run ends', async () => {
      const { id } = await api<{ id: string }>('/v1/runs', {
        method: 'POST',
        body: JSON.stringify({ tasks: [0, 1, 2], iterations: 2, width: 2, depth: 4, policy: 'slow' }),
      });
      const page = await browser!.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${stack!.apiUrl}/`);
      await page.getByLabel('API token').fill(stack!.token);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.goto(`${stack!.apiUrl}/#/runs/${encodeURIComponent(id)}`);

      const table = page.getByRole('table', { name: 'Unfinished tasks: what each waits for' });
      // Once a consumer reports on a job (its heartbeat), the page says so.
      await expect
        .poll(() => table.locator('td.waiting-for').allTextContents(), { timeout: 60_000, interval: 500 })
        .toContainEqual(expect.stringMatching(/^expand job .* \(attempt 1\): a consumer is working on it/));
      const rows = await table.locator('tbody tr').evaluateAll((trs) =>
        trs.map((tr) => ({
          task: Number(tr.getAttribute('data-task')),
          cells: [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''),
        })),
      );
      const { waiting } = await api<{ waiting: TaskWait[] }>(`/v1/runs/${id}`);
      console.log(`waiting rows: ${rows.map((r) => r.cells.join(' | ')).join(' || ')}`);
      // The rows are the API's: the same tasks, each waiting for the same kind of thing.
      expect(rows.map((r) => r.task).sort()).toEqual(waiting.map((w) => w.task).sort());
      for (const row of rows) {
        expect(row.cells[0]).toBe(`task ${row.task}`);
        expect(row.cells[2]).toMatch(/^(expand|judge|splice) job|environment reset|its tree/);
        expect(row.cells[3]).toMatch(/^\d+(s|m \d\ds) ago$/);
      }
      await page.screenshot({ path: join(home, 'waiting.png') });

      await api(`/v1/runs/${id}/cancel`, { method: 'POST' });
      await expect.poll(() => table.isHidden(), { timeout: 30_000, interval: 500 }).toBe(true);
      expect(errors).toEqual([]);
    }, 180_000);
  },
);
