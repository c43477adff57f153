import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type DataCard, dataCardSchema } from '../../shared/contracts/datacard';
import { recordFeatures } from '../../shared/curation/features';
import { nativeRecordSchema } from '../../shared/revision';
import { api, eventually } from './helpers';
import type { RunCounters, RunView as ApiRunView } from '../../shared/contracts/run-view';

/** A run as the API answers it once its RunLedger counted it (the test reads its counters). */
type RunView = ApiRunView & { counters: RunCounters };

// A real build (sim-policy, workerd) read through the data card and the curated export.

let run: RunView;

beforeAll(async () => {
  const put = await api('/v1/endpoints/sim', {
    method: 'PUT',
    json: { baseUrl: `${inject('simPolicyUrl')}/v1`, model: 'sim-policy' },
  });
  expect(put.status).toBe(200);
  const created = await api('/v1/runs', {
    method: 'POST',
    json: { tasks: [5, 6, 7], iterations: 8, width: 4, depth: 10, seed: 3, curation: 'clean' },
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as RunView;
  run = await eventually(
    async () => {
      const view = (await (await api(`/v1/runs/${id}`)).json()) as RunView;
      return ['completed', 'partial', 'failed'].includes(view.status) ? view : null;
    },
    1200,
    50,
  );
  expect(run.status).toBe('completed');
}, 120_000);

async function card(query = ''): Promise<DataCard> {
  const response = await api(`/v1/runs/${run.id}/datacard${query}`);
  expect(response.status).toBe(200);
  return dataCardSchema.parse(await response.json());
}

async function exported(query: string) {
  const response = await api(`/v1/runs/${run.id}/dataset?format=native&kind=all${query}`);
  expect(response.status).toBe(200);
  return new TextDecoder()
    .decode(await response.arrayBuffer())
    .split('\n')
    .filter(Boolean)
    .map((line) => nativeRecordSchema.parse(JSON.parse(line)));
}

describe("a run's data card and curated records", () => {
  it("counts every stored record before curation and what the run spec's clean curation keeps after", async () => {
    const clean = await card();
    expect(clean.curation).toBe('clean');
    expect(clean.scope).toEqual({ kind: 'run', id: run.id });
    expect(clean.before.records).toBe(run.counters.revision + run.counters.good);
    expect(clean.before.revision).toBe(run.counters.revision);
    // The sim policy makes the mistakes the reference trains on.
    expect(clean.before.duplicates + clean.before.loop_records).toBeGreaterThan(0);
    expect(clean.after).toMatchObject({ duplicates: 0, loop_records: 0, first_action_repeats_error: 0 });
    expect(clean.curation_steps[0]!.before).toBe(clean.before.records);
    expect(clean.curation_steps.at(-1)!.after).toBe(clean.after.records);
    for (let i = 1; i < clean.curation_steps.length; i++)
      expect(clean.curation_steps[i]!.before).toBe(clean.curation_steps[i - 1]!.after);
    expect(clean.settings).toMatchObject({
      model: 'sim',
      seed: 3,
      alpha: 0.5,
      beta: 0.2,
      env: 'crafting:default',
    });

    const reference = await card('?curation=reference');
    expect(reference.after).toEqual(clean.before);
    expect(reference.curation_steps).toEqual([]);
  });

  it('exports exactly the records the card describes', async () => {
    const clean = await card();
    const records = await exported('');
    expect(records).toHaveLength(clean.after.records);
    const features = records.map(recordFeatures);
    expect(new Set(features.map((f) => f.contentKey)).size).toBe(records.length);
    expect(features.filter((f) => f.trainedRepeatsOfFailure > 0)).toEqual([]);
    expect(features.filter((f) => f.firstActionRepeatsError)).toEqual([]);
    expect(await exported('&curation=reference')).toHaveLength(clean.before.records);
  });

  it('renders datacard.md and refuses an unknown preset', async () => {
    const md = await api(`/v1/runs/${run.id}/datacard?format=md`);
    expect(md.status).toBe(200);
    expect(md.headers.get('content-type')).toContain('text/markdown');
    expect(await md.text()).toContain(`# Data card: run ${run.id}`);
    const bad = await api(`/v1/runs/${run.id}/datacard?curation=strict`);
    expect(bad.status).toBe(400);
    const badRun = await api('/v1/runs', { method: 'POST', json: { tasks: [1], curation: 'tidy' } });
    expect(badRun.status).toBe(400);
    expect((await api('/v1/runs/nope/datacard')).status).toBe(404);
  });
});

describe("an assembled dataset's curation and data card", () => {
  it('curates the pooled records, says so in the manifest and serves the card', async () => {
    const runCard = await card();
    const created = await api('/v1/datasets', {
      method: 'POST',
      json: { name: 'clean-one', runIds: [run.id], format: 'native', curation: 'clean', seed: 3 },
    });
    expect(created.status).toBe(201);
    const dataset = (await created.json()) as {
      id: string;
      manifest: { curation: string; counts: { records: number; revision: number; good: number } };
      links: { files: Record<string, string> };
    };
    expect(dataset.manifest.curation).toBe('clean');
    // The same preset and seed over the same records: the run's own clean card.
    expect(dataset.manifest.counts).toMatchObject({
      records: runCard.after.records,
      revision: runCard.after.revision,
      good: runCard.after.good,
    });
    const cardResponse = await api(`/v1/datasets/${dataset.id}/datacard`);
    expect(cardResponse.status).toBe(200);
    const datasetCard = dataCardSchema.parse(await cardResponse.json());
    expect(datasetCard.scope).toEqual({ kind: 'dataset', id: dataset.id });
    expect(datasetCard.after).toEqual(runCard.after);
    expect(datasetCard.curation_steps).toEqual(runCard.curation_steps);
    const md = await api(`/v1/datasets/${dataset.id}/datacard?format=md`);
    expect(await md.text()).toContain(`# Data card: dataset ${dataset.id}`);

    const plain = await api('/v1/datasets', {
      method: 'POST',
      json: { name: 'reference-one', runIds: [run.id], format: 'native', dedupe: false },
    });
    const plainView = (await plain.json()) as { manifest: { curation: string; counts: { records: number } } };
    expect(plainView.manifest.curation).toBe('reference');
    expect(plainView.manifest.counts.records).toBe(runCard.before.records);
    const bad = await api('/v1/datasets', {
      method: 'POST',
      json: { name: 'x', runIds: [run.id], curation: 'strict' },
    });
    expect(bad.status).toBe(400);
  });
});
