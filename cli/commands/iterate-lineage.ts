import type { ApiClient } from '../api-client';
import type { CliIo } from '../command';
import type { LoopConfig, LoopView } from '../../shared/contracts/loops';

// A loop's lineage as the CLI shows it: the GET /v1/loops/ID body, its table, and following a loop
// until it settles.

/** GET /v1/loops/ID as the CLI reads it: the contract's view, whose `config` is the stored LoopConfig. */
export type LoopJson = LoopView & { config: Pick<LoopConfig, 'iterations'> };

const pct = (v: number | null | undefined) =>
  v === null || v === undefined ? '-' : `${(v * 100).toFixed(0)}%`;
const fixed = (v: number | null | undefined, d = 2) => (v === null || v === undefined ? '-' : v.toFixed(d));

/** The lineage as a table. */
export function formatLineage(loop: LoopJson): string {
  const header = [
    'it',
    'status',
    'alpha',
    'policy',
    'revision/good',
    '1st err',
    'success',
    'reward',
    'loops',
    'revises',
    'recovery',
  ];
  const rows = loop.iterations.map((it) => [
    String(it.index),
    it.status,
    String(it.alpha),
    it.policy.model ?? it.policy.endpoint,
    it.run?.counts ? `${it.run.counts.revision}/${it.run.counts.good}` : '-',
    fixed(it.run?.firstErrorStep, 1),
    it.eval ? (it.eval.status === 'running' ? '...' : pct(it.eval.successRate)) : '-',
    fixed(it.eval?.averageReward),
    pct(it.eval?.loopShare),
    pct(it.eval?.revisionShare),
    pct(it.eval?.recoverySuccessRate),
  ]);
  if (loop.final) {
    const e = loop.final.eval;
    rows.push([
      'final',
      '',
      '',
      loop.final.endpoint,
      '',
      '',
      e ? (e.status === 'running' ? '...' : pct(e.successRate)) : '-',
      fixed(e?.averageReward),
      pct(e?.loopShare),
      pct(e?.revisionShare),
      pct(e?.recoverySuccessRate),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const notes = loop.iterations
    .filter((it) => it.error || it.trainerDelivery?.lastError)
    .map(
      (it) => `  iteration ${it.index}: ${it.error ?? `trainer delivery: ${it.trainerDelivery?.lastError}`}`,
    );
  return [
    `loop ${loop.id} "${loop.name}": ${loop.status} (${loop.iterations.length}/${loop.config.iterations} iterations)${loop.error ? ` -- ${loop.error}` : ''}`,
    line(header),
    ...rows.map(line),
    ...notes,
    '',
  ].join('\n');
}

const settled = (loop: LoopJson) =>
  loop.status === 'failed' ||
  loop.status === 'waiting' ||
  (loop.status === 'completed' && loop.final?.eval?.status !== 'running');

/** Follows a loop until it completes (final eval included), fails or waits for `next`. */
export async function follow(api: ApiClient, id: string, io: CliIo, maxMinutes = 24 * 60): Promise<LoopJson> {
  let last = '';
  const deadline = Date.now() + maxMinutes * 60_000;
  for (;;) {
    const loop = await api.json<LoopJson>('GET', `/v1/loops/${id}`);
    const text = formatLineage(loop);
    if (text !== last) {
      io.stderr.write(text);
      last = text;
    }
    if (settled(loop) || Date.now() > deadline) return loop;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export function finish(loop: LoopJson, io: CliIo, json: boolean | undefined): number {
  if (json) io.stdout.write(`${JSON.stringify(loop)}\n`);
  else io.stdout.write(formatLineage(loop));
  return loop.status === 'failed' ? 1 : 0;
}
