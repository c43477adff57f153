import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataCardSchema } from '../../shared/contracts/datacard';
import { contentHash } from '../../shared/formats/assemble';
import { exportManifestSchema } from '../../shared/formats/manifest';
import { nativeLineSchema, nativeLineToExample } from '../../shared/formats/native';
import { type TestTrainer, startTestTrainer } from '../../tools/test-trainer/server';
import { type RealServer, realServersMissing, startRealServer } from '../helpers/agentgym-servers';
import { type ServeProcess, startServe } from '../helpers/cli-process';
import type { LoopView as LoopJson } from '../../shared/contracts/loops';

// The paper's training mix inside the loop, with real processes: `agent-r serve` (every worker
// under wrangler dev + sim-policy), the REAL AgentGym TextCraft server (../shared/vendor) and the
// test trainer (tools/test-trainer). Each iteration builds two specs -- the default crafting world
// and TextCraft -- and assembles ONE dataset from both runs: `clean` curation, de-duplicated, mixed
// with uploaded general chat data at eta 0.2 (records). The trainer must receive that dataset.

const missing = realServersMissing();
if (missing) console.warn(`SKIPPED: the multi-environment loop e2e test needs ../shared/vendor: ${missing}`);

const SECRET = 'e2e-mix-trainer-secret-0123456789';
const ETA = 0.2;
const GENERAL = 3000;

/** Distinct general chat conversations (OpenAI messages), one JSONL line each. */
const generalChat = () =>
  Array.from({ length: GENERAL }, (_, i) =>
    JSON.stringify({
      messages: [
        { role: 'user', content: `What is ${i} plus ${i + 1}? Answer in one sentence.` },
        { role: 'assistant', content: `${i} plus ${i + 1} is ${2 * i + 1}.` },
      ],
    }),
  ).join('\n');

describe.skipIf(missing !== null)(
  'a loop over two environments with general data (serve + TextCraft + trainer)',
  () => {
    const home = mkdtempSync(join(tmpdir(), 'agent-r-loop-mix-'));
    let serve: ServeProcess | null = null;
    let trainer: TestTrainer | null = null;
    let textcraft: RealServer | null = null;

    const call = async <T>(method: string, path: string, body?: unknown, type = 'application/json') => {
      const response = await fetch(`${serve!.apiUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${serve!.token}`,
          ...(body === undefined ? {} : { 'content-type': type }),
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      expect(response.ok, `${method} ${path}: ${response.status} ${text}`).toBe(true);
      return JSON.parse(text) as T;
    };

    beforeAll(async () => {
      trainer = await startTestTrainer({ secret: SECRET, keepData: true });
      [serve, textcraft] = await Promise.all([
        startServe([], { AGENT_R_HOME: home }),
        startRealServer('textcraft'),
      ]);
    }, 240_000);

    afterAll(async () => {
      await serve?.stop('SIGTERM');
      await textcraft?.kill();
      await trainer?.close();
      rmSync(home, { recursive: true, force: true });
    });

    it('delivers one curated, mixed dataset of both environments per iteration', async () => {
      const started = Date.now();
      const upload = await call<{ key: string; records: number }>(
        'PUT',
        '/v1/datasets/general-chat/arith',
        generalChat(),
        'application/x-ndjson',
      );
      expect(upload.records).toBe(GENERAL);
      const search = { iterations: 2, width: 2, depth: 5, seed: 1 };
      const created = await call<LoopJson>('POST', '/v1/loops', {
        name: 'mix',
        policy: 'sim',
        build: search,
        builds: [
          { env: 'crafting', world: 'default', tasks: [0, 1] },
          { env: 'agentgym', flavor: 'textcraft', envServer: textcraft!.url, tasks: [3, 4] },
        ],
        dataset: { curation: 'clean', generalChatKey: upload.key, eta: ETA, etaBasis: 'records' },
        iterations: 2,
        trainerUrl: trainer!.url,
        trainerSecret: SECRET,
      });
      expect(created.iterations[0]?.runIds).toHaveLength(2);

      let loop = created;
      while (!['completed', 'failed'].includes(loop.status) && Date.now() - started < 6 * 60_000) {
        await new Promise((r) => setTimeout(r, 2000));
        loop = await call<LoopJson>('GET', `/v1/loops/${created.id}`).catch((error: Error) => {
          throw new Error(
            `${error.message} (${error.cause}); serve printed:\n${serve!.output().slice(-6000)}`,
          );
        });
      }
      expect(loop.status, JSON.stringify(loop)).toBe('completed');
      console.log(
        `loop over two environments: ${loop.iterations.length} iterations in ${Date.now() - started} ms`,
      );

      const jobs = trainer!.jobs();
      expect(jobs.map((j) => [j.index, j.error, j.callbackStatus])).toEqual([
        [1, null, 200],
        [2, null, 200],
      ]);
      expect(trainer!.rejected()).toBe(0);
      for (const it of loop.iterations) {
        expect(it.status).toBe('completed');
        const job = jobs.find((j) => j.index === it.index)!;
        // ONE dataset per iteration, assembled from both build runs.
        expect(it.datasetId).toMatch(/^ds/);
        expect(job.datasetId).toBe(it.datasetId);
        const payload = job.payload!;
        expect(payload.dataset?.runIds).toEqual(it.runIds);
        expect(payload.runs?.map((r) => [r.id, r.env])).toEqual([
          [it.runIds[0], 'crafting:default'],
          [it.runIds[1], 'agentgym:textcraft'],
        ]);

        // The manifest describes the assembled dataset: source runs, curation, the mix.
        const manifest = exportManifestSchema.parse(payload.manifest);
        expect(manifest.run_ids).toEqual(it.runIds);
        expect(manifest.curation).toBe('clean');
        expect(manifest.envs.sort()).toEqual(['agentgym:textcraft', 'crafting:default']);
        expect(manifest.mixing).toMatchObject({ eta: ETA, eta_basis: 'records' });

        // The delivered records: both environments, general data at the eta share, no duplicate.
        const examples = job.nativeRecords!.map((r) => nativeLineToExample(nativeLineSchema.parse(r)));
        const agent = examples.filter((e) => e.kind !== 'general');
        const general = examples.filter((e) => e.kind === 'general');
        const byEnv = new Map<string, number>();
        for (const e of agent) byEnv.set(e.env ?? '?', (byEnv.get(e.env ?? '?') ?? 0) + 1);
        // Records name their environment as the splicer labels it (crafting:<world>, or the flavor).
        expect([...byEnv.keys()].sort()).toEqual(['crafting:default', 'textcraft']);
        expect(agent.length).toBe(manifest.counts.revision + manifest.counts.good);
        expect(general.length).toBe(manifest.counts.general);
        expect(general.length).toBe(Math.round((agent.length * (1 - ETA)) / ETA));
        expect(general.length).toBeLessThan(GENERAL); // the share, not all the data there was
        const achieved = agent.length / examples.length;
        expect(Math.abs(achieved - ETA)).toBeLessThan(1 / examples.length);
        expect(manifest.mixing?.achieved_eta).toBeCloseTo(achieved, 6);
        expect(new Set(examples.map(contentHash)).size).toBe(examples.length);
        expect(new Set(examples.map((e) => e.id)).size).toBe(examples.length);

        // The data card is the dataset's: clean curation over both runs' pooled records.
        const card = dataCardSchema.parse(payload.datacard);
        expect(card.scope).toEqual({ kind: 'dataset', id: it.datasetId });
        expect(card.curation).toBe('clean');
        expect(card.after.records).toBe(agent.length);
        expect(card.after.duplicates).toBe(0);
        expect(card.after.loop_records).toBe(0);
        expect(card.general).toBe(general.length);
        expect(card.before.records).toBeGreaterThanOrEqual(card.after.records);
        expect(new Set(card.by_task.map((t) => t.env))).toEqual(new Set(byEnv.keys()));
        // The trainer trained on the dataset (every example has a trained turn: the openai file keeps all).
        expect(job.openaiLines).toBe(examples.length);
        expect(it.notes?.examples).toBe(examples.length);
        console.log(
          `iteration ${it.index}: runs ${[...byEnv].map(([e, n]) => `${e}=${n}`).join(' ')}, general ${general.length}, ` +
            `dataset ${examples.length}, eta ${achieved.toFixed(4)}, agent records before/after clean ` +
            `${card.before.records}/${card.after.records} (duplicates ${card.before.duplicates}, loops ` +
            `${card.before.loop_records}), steps ${card.curation_steps.map((s) => `${s.rule} -${s.removed}`).join(', ')}`,
        );
      }
      // The second iteration built with the model the trainer made from the first dataset.
      expect(jobs[1]?.payload?.policy.model).toBe(jobs[0]?.model);
    }, 420_000);
  },
);
