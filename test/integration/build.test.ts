import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import { treeFileSchema, type TreeNode } from '../../shared/contracts/tree-file';
import type { CoordinatorBindings } from '../../workers/common/env';
import { taskRecordsKey, taskTreeKey } from '../../workers/common/storage-keys';
import { api, eventually, recordLineReader } from './helpers';
import type { RunCounters, RunView as ApiRunView } from '../../shared/contracts/run-view';

/** A run as the API answers it once its RunLedger counted it (the test reads its counters). */
type RunView = ApiRunView & { counters: RunCounters };

const env = workerEnv as unknown as CoordinatorBindings;

function countNodes(node: TreeNode): number {
  return 1 + node.children.reduce((sum, c) => sum + countNodes(c), 0);
}

async function registerSim() {
  const put = await api('/v1/endpoints/sim', {
    method: 'PUT',
    json: {
      baseUrl: `${inject('simPolicyUrl')}/v1`,
      model: 'sim-policy',
      maxConcurrency: 8,
      apiKey: 'sk-secret-value',
    },
  });
  expect(put.status).toBe(200);
  const body = await put.json();
  expect(JSON.stringify(body)).not.toContain('sk-secret-value');
  expect(body).toMatchObject({ name: 'sim', hasApiKey: true });
}

async function waitForRun(id: string): Promise<RunView> {
  return eventually(
    async () => {
      const view = (await (await api(`/v1/runs/${id}`)).json()) as RunView;
      return ['completed', 'partial', 'failed'].includes(view.status) ? view : null;
    },
    1200,
    50,
  );
}

describe('a whole build inside workerd: search, critique, splice (sim-policy over loopback)', () => {
  it('searches, judges and splices every task, writing trees, records and index rows', async () => {
    await registerSim();
    const created = await api('/v1/runs', {
      method: 'POST',
      json: { tasks: [0, 1, 2], iterations: 3, width: 3, depth: 8, seed: 1 },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as RunView;
    const run = await waitForRun(id);
    expect(run.status).toBe('completed');
    expect(run.counters.tasksDone).toBe(3);
    expect(run.counters.failedJobs).toBe(0);
    expect(run.counters.policyCalls).toBeGreaterThan(3);

    let revisions = 0;
    for (const task of [0, 1, 2]) {
      const treeObject = await env.BUCKET.get(taskTreeKey(id, task));
      expect(treeObject).not.toBeNull();
      const tree = treeFileSchema.parse(await treeObject!.json());
      expect(tree.task).toBe(task);
      expect(countNodes(tree.root)).toBeGreaterThan(1);
      // Reference semantics: the root's visits equal the terminal backups, values within [0, visits].
      expect(tree.root.value).toBeLessThanOrEqual(tree.root.visits);
      const revisionText = await (await env.BUCKET.get(taskRecordsKey(id, task, 'revision')))!.text();
      const records = revisionText.split('\n').filter(Boolean).map(recordLineReader());
      revisions += records.length;
      for (const record of records) {
        expect(record.run_id).toBe(id);
        expect(record.task).toBe(task);
        expect(
          record.revise_log.some((m) => m.role === 'assistant' && m.content.includes('Action: wait')),
        ).toBe(true);
      }
    }
    expect(revisions).toBe(run.counters.revision);
    const indexRows = await env.DB.prepare(
      'SELECT kind, COUNT(*) AS n FROM trajectories WHERE run_id = ? GROUP BY kind',
    )
      .bind(id)
      .all<{ kind: string; n: number }>();
    const byKind = Object.fromEntries(indexRows.results.map((r) => [r.kind, r.n]));
    expect(byKind.revision ?? 0).toBe(run.counters.revision);
    expect(byKind.good ?? 0).toBe(run.counters.good);
  });
});
