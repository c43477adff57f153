import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadRun, runAndWait } from '../../cli/bench/build-run';
import {
  registerEndpoint,
  removeDir,
  type StackHandle,
  startScenarioStack,
  tempDir,
} from '../../cli/bench/fault-scenarios';
import { type SimPolicyServer, startSimPolicy } from '../../cli/sim-policy/server';
import type { RunSpecInput } from '../../shared/contracts/run-spec';

// Builds against servers with a real context limit (sim-policy answering over-long requests with
// vLLM's exact 400 body). The short form runs in `npm test`; AGENT_R_CONTEXT_FULL=1 runs the
// issue's figures: 10 default-world tasks at depth 20 against a 2048-token context.
const full = process.env.AGENT_R_CONTEXT_FULL === '1';
const CONTEXT = 2048;
/**
 * Context of the server without /tokenize: the short form's shallower trees meet the limit only
 * with a tighter one.
 */
const PLAIN_CONTEXT = full ? 2048 : 1536;
const LLAMA = 'meta-llama/Llama-3.1-8B-Instruct';
/** Llama 3 counts this world's text in fewer tokens than sim-policy's tokenizer: a tighter limit. */
const LLAMA_CONTEXT = full ? 1536 : 1100;
const simOptions = { latencyMs: 5, perTokenMs: 0.05, seed: 0 };
const timeoutMs = (full ? 20 : 8) * 60_000;
const spec: RunSpecInput = full
  ? { tasks: Array.from({ length: 10 }, (_, i) => i), depth: 20, jobTimeoutMs: 60_000 }
  : { tasks: [5, 6], iterations: 4, width: 3, depth: 20, jobTimeoutMs: 60_000 };

describe(`builds against a ${CONTEXT}-token context (${full ? 'full' : 'short'} form)`, () => {
  let workDir = '';
  let handle: StackHandle | null = null;
  let vllm: SimPolicyServer;
  let plain: SimPolicyServer;
  let llama: SimPolicyServer;
  let llamaUnnamed: SimPolicyServer;
  type Built = Awaited<ReturnType<typeof build>>;
  let perNode: Built;
  let perPair: Built;
  let noTokenize: Built;
  let library: Built;
  let libraryEstimate: Built;

  beforeAll(
    async () => {
      workDir = await tempDir('agent-r-context-');
      handle = await startScenarioStack(join(workDir, 'state'), simOptions);
      // Like vLLM: /tokenize and max_model_len. Like SGLang or a hosted API: neither.
      vllm = await startSimPolicy({ ...simOptions, contextLimit: CONTEXT });
      plain = await startSimPolicy({
        ...simOptions,
        contextLimit: PLAIN_CONTEXT,
        tokenize: false,
        reportMaxModelLen: false,
      });
      // Neither, but Llama 3.1's real tokenizer and chat template: once under its own id (counted
      // with the same tokenizer library), once under a name that does not tell (the estimate).
      const llamaServer = {
        ...simOptions,
        contextLimit: LLAMA_CONTEXT,
        tokenize: false,
        reportMaxModelLen: false,
      };
      llama = await startSimPolicy({ ...llamaServer, model: LLAMA });
      llamaUnnamed = await startSimPolicy({ ...llamaServer, model: 'policy', tokenizerModel: LLAMA });
      await registerEndpoint(handle.api, 'ctx-vllm', `${vllm.url}/v1`);
      await registerEndpoint(handle.api, 'ctx-plain', `${plain.url}/v1`);
      for (const [name, server, model] of [
        ['ctx-llama', llama, LLAMA],
        ['ctx-llama-unnamed', llamaUnnamed, 'policy'],
      ] as const)
        await handle.api.json('PUT', `/v1/endpoints/${name}`, {
          baseUrl: `${server.url}/v1`,
          model,
          maxConcurrency: 32,
          supportsN: true,
        });
      const builds = [
        () => build('ctx-vllm'),
        () => build('ctx-plain', { contextTokens: PLAIN_CONTEXT }),
        () => build('ctx-llama', { contextTokens: LLAMA_CONTEXT }),
        () => build('ctx-llama-unnamed', { contextTokens: LLAMA_CONTEXT }),
        // The heaviest (every pair re-judged) last.
        () => build('ctx-vllm', { judgeSampling: 'per-pair' }),
      ];
      // The short form builds all at once; the full one (50 trees of depth 20 in one local
      // workerd) one after the other, so the local stack keeps answering its API.
      const built: Built[] = [];
      if (full) for (const b of builds) built.push(await b());
      else built.push(...(await Promise.all(builds.map((b) => b()))));
      [perNode, noTokenize, library, libraryEstimate, perPair] = built as [Built, Built, Built, Built, Built];
    },
    240_000 + 5 * timeoutMs,
  );

  afterAll(async () => {
    await Promise.all([vllm?.close(), plain?.close(), llama?.close(), llamaUnnamed?.close()]);
    await handle?.stack.stop();
    await removeDir(workDir);
  }, 60_000);

  async function build(policy: string, extra: Partial<RunSpecInput> = {}) {
    const started = Date.now();
    const run = await runAndWait(handle!.api, { ...spec, policy, ...extra }, { timeoutMs });
    console.log(
      `built ${policy} ${extra.judgeSampling ?? ''} in ${Math.round((Date.now() - started) / 1000)} s`,
    );
    const dir = join(workDir, `${policy}-${extra.judgeSampling ?? 'per-node'}`);
    const manifest = await downloadRun(handle!.api, run.runId, spec.tasks, dir);
    const records = (await readFile(join(dir, 'revision.native.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map(
        (line) => JSON.parse(line) as { revise_feedback: { judgement: string; revision_feedback: string }[] },
      );
    return {
      manifest: manifest as typeof manifest & { tokenizer: string | null },
      counts: manifest.counts,
      records,
    };
  }

  it("with /tokenize and max_model_len: every prompt fits by the server's count, no job or judgement fails", () => {
    const { manifest, counts, records } = perNode;
    const stats = vllm.stats();
    console.log(
      `ctx-vllm: status ${manifest.status}, failed jobs ${counts.failed_jobs}, judge failures ${counts.judge_failures}, ` +
        `context retries ${counts.context_retries}, refusals ${stats.contextRefusals}, largest prompt ${stats.maxPromptTokens} ` +
        `tokens (+500 max tokens <= ${CONTEXT}), tokenize calls ${stats.tokenizeCalls}, revision records ${counts.revision}, ` +
        `judge calls ${counts.judge_calls} (reference pattern ${counts.reference_judge_calls}), tokenize calls per ` +
        `model request ${(stats.tokenizeCalls / Math.max(1, stats.requests)).toFixed(2)} (${stats.requests} requests)`,
    );
    expect(manifest.status).toBe('completed');
    expect(counts.failed_jobs).toBe(0);
    expect(counts.judge_failures).toBe(0);
    expect(manifest.tokenizer).toBe('server');
    // Counted with the server's own tokenizer, no request was ever over the context.
    expect(stats.contextRefusals).toBe(0);
    expect(counts.context_retries).toBe(0);
    expect(stats.maxPromptTokens + 500).toBeLessThanOrEqual(CONTEXT);
    // The limit was reached: without the budget, deep prompts would have been refused.
    expect(stats.maxPromptTokens + 500).toBeGreaterThan(CONTEXT * 0.8);
    expect(records.length).toBeGreaterThan(0);
    for (const record of records)
      for (const f of record.revise_feedback) expect(f.judgement).not.toBe('Failed');
  });

  it('without /tokenize: the 400s are read, prompts shrunk and sent again, and the build still completes', () => {
    const { manifest, counts } = noTokenize;
    const stats = plain.stats();
    console.log(
      `ctx-plain: status ${manifest.status}, failed jobs ${counts.failed_jobs}, judge failures ${counts.judge_failures}, ` +
        `context retries ${counts.context_retries} (= ${stats.contextRefusals} refusals of ${stats.requests} requests), ` +
        `largest answered prompt ${stats.maxPromptTokens}, revision records ${counts.revision}`,
    );
    expect(manifest.status).toBe('completed');
    expect(counts.failed_jobs).toBe(0);
    expect(counts.judge_failures).toBe(0);
    expect(manifest.tokenizer).toBe('estimate');
    // The 4-characters estimate undercounts this tokenizer: refusals happen and each is retried.
    expect(stats.contextRefusals).toBeGreaterThan(0);
    expect(counts.context_retries).toBe(stats.contextRefusals);
    expect(stats.maxPromptTokens + 500).toBeLessThanOrEqual(PLAIN_CONTEXT);
  });

  it("per-pair judge sampling makes the reference's judge calls on the same trees", () => {
    console.log(
      `judge calls: per-node ${perNode.counts.judge_calls} (reference pattern on its verdicts ` +
        `${perNode.counts.reference_judge_calls}), per-pair ${perPair.counts.judge_calls} (reference pattern on its ` +
        `verdicts ${perPair.counts.reference_judge_calls}); nodes ${perNode.manifest.counts.nodes} / ${perPair.manifest.counts.nodes}`,
    );
    expect(perPair.manifest.status).toBe('completed');
    expect(perPair.counts.failed_jobs).toBe(0);
    // The search does not depend on the judge: the same trees.
    expect(perPair.manifest.counts.nodes).toBe(perNode.manifest.counts.nodes);
    // Per pair, every pair judges its bad path up to its first Bad: exactly the reference's calls.
    expect(perPair.counts.judge_calls).toBe(perPair.counts.reference_judge_calls);
    expect(perPair.counts.judge_calls).toBeGreaterThan(perNode.counts.judge_calls);
    // Each pair's own judge texts reach its records (they were once keyed where they were lost).
    const judged = perPair.records.flatMap((r) => r.revise_feedback);
    expect(judged.length).toBeGreaterThan(0);
    expect(judged.filter((f) => f.revision_feedback === '')).toEqual([]);
  });

  it("without /tokenize but with a Llama 3 model id: counted by Llama 3's tokenizer library, no refusals", () => {
    const { manifest, counts } = library;
    const stats = llama.stats();
    const estimated = llamaUnnamed.stats();
    console.log(
      `ctx-llama: status ${manifest.status}, tokenizer ${manifest.tokenizer}, failed jobs ${counts.failed_jobs}, ` +
        `judge failures ${counts.judge_failures}, context retries ${counts.context_retries} (= ${stats.contextRefusals} ` +
        `refusals of ${stats.requests} requests), largest answered prompt ${stats.maxPromptTokens}, revision records ` +
        `${counts.revision}; the same server under a name that does not tell (${libraryEstimate.manifest.tokenizer}): ` +
        `${estimated.contextRefusals} refusals of ${estimated.requests} requests, largest answered prompt ` +
        `${estimated.maxPromptTokens}, failed jobs ${libraryEstimate.counts.failed_jobs}`,
    );
    expect(manifest.status).toBe('completed');
    expect(counts.failed_jobs).toBe(0);
    expect(counts.judge_failures).toBe(0);
    expect(manifest.tokenizer).toBe('library:llama3-tokenizer-js:llama3');
    expect(libraryEstimate.manifest.tokenizer).toBe('estimate');
    expect(libraryEstimate.manifest.status).toBe('completed');
    // The library counts as the server does (template included, never under): nothing is refused,
    // where the estimate against the same server was refused and had to retry.
    expect(stats.contextRefusals).toBe(0);
    expect(counts.context_retries).toBe(0);
    expect(estimated.contextRefusals).toBeGreaterThan(0);
    expect(libraryEstimate.counts.context_retries).toBe(estimated.contextRefusals);
    expect(stats.maxPromptTokens + 500).toBeLessThanOrEqual(LLAMA_CONTEXT);
    // The limit was reached: the budget did the shrinking.
    expect(stats.maxPromptTokens + 500).toBeGreaterThan(LLAMA_CONTEXT * 0.8);
  });
});
