import type { Curation, DataCard, DataCardSettings } from '../../shared/contracts/datacard';
import type { RunSpec } from '../../shared/contracts/run-spec';
import { type RecordFeatures, recordFeatures } from '../../shared/curation/features';
import { buildDataCard } from '../../shared/datacard';
import type { NativeRecord } from '../../shared/revision';
import type { CoreBindings } from './env';
import { type RecordKind, readRunRecords } from './records';

// A run's data card and its curated records. Curation happens when records are read: the stored
// records stay the reference's, a first pass computes each record's features (a few numbers, not
// the record) and the preset's choice, a second pass streams the records it keeps.

const ALL_KINDS: readonly RecordKind[] = ['revision', 'good'];

/** The run spec's curation; specs stored before the field existed read as `reference`. */
export function curationOf(spec: Pick<RunSpec, 'curation'>): Curation {
  return spec.curation ?? 'reference';
}

export function cardSettings(spec: RunSpec): DataCardSettings {
  return {
    model: spec.policy,
    judge: spec.judge ?? null,
    seed: spec.seed,
    alpha: spec.alpha,
    beta: spec.beta,
    transition: spec.transition,
    env: spec.env === 'agentgym' ? `agentgym:${spec.flavor ?? ''}` : `crafting:${spec.world}`,
  };
}

export async function runFeatures(
  env: CoreBindings,
  runId: string,
  tasks: readonly number[],
): Promise<RecordFeatures[]> {
  const out: RecordFeatures[] = [];
  for await (const record of readRunRecords(env, runId, tasks, ALL_KINDS)) out.push(recordFeatures(record));
  return out;
}

export async function runDataCard(
  env: CoreBindings,
  runId: string,
  spec: RunSpec,
  curation: Curation = curationOf(spec),
): Promise<{ card: DataCard; kept: RecordFeatures[] }> {
  return buildDataCard({
    scope: { kind: 'run', id: runId },
    records: await runFeatures(env, runId, spec.tasks),
    curation,
    settings: cardSettings(spec),
  });
}

/** The run's records of `kinds` that `curation` keeps, in stored order. */
export async function* curatedRunRecords(
  env: CoreBindings,
  runId: string,
  spec: RunSpec,
  kinds: readonly RecordKind[],
  curation: Curation = curationOf(spec),
): AsyncGenerator<NativeRecord> {
  if (curation === 'reference') {
    yield* readRunRecords(env, runId, spec.tasks, kinds);
    return;
  }
  const { kept } = await runDataCard(env, runId, spec, curation);
  const keep = new Set(kept.map((r) => r.id));
  for await (const record of readRunRecords(env, runId, spec.tasks, kinds))
    if (keep.has(record.id)) yield record;
}
