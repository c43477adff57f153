import type { Curation, CurationSettings, DataCard } from '../../shared/contracts/datacard';
import type { RunSpec } from '../../shared/contracts/run-spec';
import { buildDataCard, dataCardMarkdown } from '../../shared/datacard';
import type { DatasetSource } from '../../shared/formats';
import { cardSettings, runFeatures } from './datacard';
import type { CoreBindings } from './env';
import { type RecordKind, readRunRecords } from './records';
import { exportKey } from './storage-keys';

// Curation of an assembled dataset: the preset runs once over the records of all its runs
// (features only, seeded with the dataset's seed), and each run's source yields the records it
// keeps. The data card describes the pool before and after.

export interface PooledRun {
  runId: string;
  spec: RunSpec;
}

export async function curatedDatasetSources(
  env: CoreBindings,
  datasetId: string,
  pooled: readonly PooledRun[],
  kinds: readonly RecordKind[],
  curation: Curation,
  options: CurationSettings & { seed: number },
): Promise<{ card: DataCard; sources: DatasetSource[] }> {
  const features = [];
  for (const { runId, spec } of pooled)
    for (const f of await runFeatures(env, runId, spec.tasks)) if (kinds.includes(f.kind)) features.push(f);
  const first = pooled[0]!.spec;
  const models = new Set(pooled.map((p) => p.spec.policy));
  const { card, kept } = buildDataCard({
    scope: { kind: 'dataset', id: datasetId },
    records: features,
    curation,
    curationOptions: options,
    settings: {
      ...cardSettings(first),
      model: models.size === 1 ? first.policy : null,
      env: [...new Set(pooled.map((p) => cardSettings(p.spec).env))].join(','),
      seed: options.seed,
    },
  });
  const keep = curation === 'reference' ? null : new Set(kept.map((f) => f.id));
  const sources: DatasetSource[] = pooled.map(({ runId, spec }) => ({
    name: runId,
    role: 'agent',
    async *open() {
      for await (const record of readRunRecords(env, runId, spec.tasks, kinds))
        if (!keep || keep.has(record.id)) yield record;
    },
  }));
  return { card, sources };
}

/** Stores the dataset's card as datacard.json and datacard.md next to its files. */
export async function putDatasetCard(env: CoreBindings, datasetId: string, card: DataCard): Promise<void> {
  await env.BUCKET.put(exportKey(datasetId, 'datacard.json'), `${JSON.stringify(card, null, 2)}\n`, {
    httpMetadata: { contentType: 'application/json' },
  });
  await env.BUCKET.put(exportKey(datasetId, 'datacard.md'), dataCardMarkdown(card), {
    httpMetadata: { contentType: 'text/markdown; charset=utf-8' },
  });
}
