import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { localBin, projectRoot } from '../../cli/project';
import { type LocalStack, startLocalStack } from '../../cli/stack';

// The gateway's reconciler is a cron trigger, which `wrangler dev` never fires by itself: the local
// stack (cli/reconcile-ticks.ts) fires it on a period. Real wrangler dev, real D1 and Queues; the
// stuck state is the one a crash leaves (a delivery row written, its queue message never sent; a
// dataset whose assembling request died), written into the stopped stack's D1 with wrangler.

const run = promisify(execFile);

/** A loopback webhook receiver: deliveries counted by their x-agent-r-delivery id. */
async function startReceiver() {
  const got = new Map<string, number>();
  const server = createServer((req, res) => {
    const id = String(req.headers['x-agent-r-delivery'] ?? '');
    req.resume();
    req.on('end', () => {
      got.set(id, (got.get(id) ?? 0) + 1);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    count: (id: string) => got.get(id) ?? 0,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function d1(stateDir: string, sql: string): Promise<void> {
  const args = ['d1', 'execute', 'DB', '--local', '--persist-to', stateDir, '-c', 'wrangler.toml'];
  await run(localBin('wrangler'), [...args, '--command', sql], {
    cwd: projectRoot,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1' },
  });
}

async function until<T>(what: string, check: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== null) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
}

describe('the local stack runs the reconciler by itself', () => {
  const home = mkdtempSync(join(tmpdir(), 'agent-r-reconcile-'));
  const stateDir = join(home, 'state');
  let stack: LocalStack | null = null;
  let receiver: Awaited<ReturnType<typeof startReceiver>> | null = null;

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('repairs a delivery whose queue message was lost and a dataset left building, with no call', async () => {
    receiver = await startReceiver();
    stack = await startLocalStack({ stateDir, sim: false });
    const call = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
      const response = await fetch(`${stack!.apiUrl}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${stack!.token}`, 'content-type': 'application/json' },
      });
      expect(response.ok, `${path}: ${response.status}`).toBe(true);
      return (await response.json()) as T;
    };
    const hook = await call<{ id: string }>('/v1/webhooks', {
      method: 'POST',
      body: JSON.stringify({ url: receiver.url, events: ['eval.completed'] }),
    });
    await stack.stop();
    stack = null;

    // Six minutes old (past the 5-minute grace) and 31 minutes old (past the 30-minute limit).
    const now = Date.now();
    const delivery = `dlv_lost${crypto.randomUUID().slice(0, 8)}`;
    const dataset = `ds_died${crypto.randomUUID().slice(0, 8)}`;
    await d1(
      stateDir,
      `INSERT INTO webhook_deliveries (id, webhook_id, event, payload, status, attempts, created_at, updated_at)
       VALUES ('${delivery}', '${hook.id}', 'eval.completed', '{"marker":"lost"}', 'pending', 0, ${now - 6 * 60_000}, ${now - 6 * 60_000});
       INSERT INTO datasets (id, name, format, run_ids, manifest, status, created_at)
       VALUES ('${dataset}', 'died', 'native', '[]', '{}', 'building', ${now - 31 * 60_000});`,
    );

    // A shorter period than the cron's minute keeps the test short; nothing here calls the reconciler.
    stack = await startLocalStack({ stateDir, sim: false, reconcileEveryMs: 2000 });
    const started = Date.now();
    await until(
      'the lost delivery arrives',
      async () => (receiver!.count(delivery) > 0 ? true : null),
      60_000,
    );
    const log = await until(
      'the delivery is marked delivered',
      async () => {
        const rows = await call<{ deliveries: { id: string; status: string; attempts: number }[] }>(
          `/v1/webhooks/${hook.id}/deliveries`,
        );
        const row = rows.deliveries.find((d) => d.id === delivery);
        return row?.status === 'delivered' ? row : null;
      },
      30_000,
    );
    expect(log.attempts).toBe(1);
    const view = await until(
      'the dataset is failed',
      async () => {
        const ds = await call<{ status: string; error: string | null }>(`/v1/datasets/${dataset}`);
        return ds.status === 'failed' ? ds : null;
      },
      60_000,
    );
    // 31 minutes old at the insert, plus the restart.
    expect(view.error).toMatch(/still building after 3[1-9] min/);
    console.log(`reconciled ${Date.now() - started} ms after the stack was up`);
    // Later ticks leave a delivered delivery alone: it arrived once.
    await new Promise((r) => setTimeout(r, 6000));
    expect(receiver.count(delivery)).toBe(1);
  }, 300_000);
});
