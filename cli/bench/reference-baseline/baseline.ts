import { createCraftingSession } from '../../../shared/env/crafting/engine';
import type { World } from '../../../shared/env/crafting/world';
import type { EnvSession } from '../../../shared/env/types';
import { type ChatClient, createChatClient } from '../../../shared/inference/chat-client';
import type { EndpointInput } from '../../../shared/inference/endpoint';
import { hashToSeed } from '../../../shared/random';
import {
  childOfStep,
  type ExpansionChild,
  type ExpansionRequest,
  runReferenceSearch,
  toTreeFile,
} from '../../../shared/mcts';
import { buildVerifierMessages, parseJudgement } from '../../../shared/prompts/verifier';
import { collectTaskPairs, judgeInputsFor, spliceTask } from '../../../shared/revision';
import {
  actionForRun,
  normalizeResponse,
  policyMessagesForRun,
  rootPrefixForRun,
} from '../../../shared/run-conversation';
import { type RunSpec, type RunSpecInput, runSpecSchema } from '../../../shared/contracts/run-spec';
import type { TreeFile, TreeNode } from '../../../shared/contracts/tree-file';
import { getBuiltInWorld } from '../../../shared/worlds';

/**
 * The reference implementation's CALL PATTERN (reference/agent-r.md sections 3-5), rebuilt on
 * the project's own pure modules so that it sends the same prompts with the same seeds to the
 * same endpoint as a build, and differs only in how the work is scheduled:
 *
 * - one task at a time (the reference's outer loop);
 * - MCTS with one expansion at a time (`runReferenceSearch`, parallelism 1);
 * - every expansion draws its `width` samples as `width` HTTP requests with n = 1, one after
 *   the other (the reference loops over samples; no `n`);
 * - the environment is restored for EVERY sampled child by `reset(task)` and replaying all
 *   actions from the root (the reference's HTTP environments cannot be cloned: no snapshots);
 * - after the search, the first-error judge runs PER PAIR: for each (good, bad) pair in the
 *   reference's (shuffled) order, the bad path's steps are judged in order until the first Bad,
 *   one request each, and nothing is reused between pairs (the same step is judged again for
 *   every pair that contains it);
 * - then pairs are spliced (cheap, in-process).
 *
 * This is a measurement tool (the "before" of the benchmark), not product code.
 */

export interface BaselineOptions {
  /** The policy (and judge) endpoint: e.g. `{ name, baseUrl: simUrl + '/v1', model: 'sim-policy' }`. */
  endpoint: EndpointInput;
  /** The build's spec (tasks, iterations, width, depth, seed, alpha, beta, ...). */
  spec: RunSpecInput;
  /** The crafting world (default: the spec's built-in world). */
  world?: World;
  /**
   * How repeated judge requests are handled. `call` (default, faithful): every repeat is sent.
   * `replay-timing`: a repeat of a step already judged in this task is NOT sent; its measured
   * time is added to the task's wall time instead. Valid because a repeat is the identical
   * request (same prompt, same seed): the simulator answers it identically in the same time.
   * For `--quick` benchmarks only, and reported as such.
   */
  judgeRepeats?: 'call' | 'replay-timing';
  /**
   * Tasks measured at once (default 1 = strictly one after another). With more, each task
   * still runs its own calls strictly one at a time and its wall time is measured alone; the
   * baseline's wall time is the SUM of the task walls (what running them one after another
   * takes). Only sound while the endpoint never queues (tasks at once <= its capacity).
   */
  tasksAtOnce?: number;
  /** Makes the env session (tests count resets and steps with it); default the crafting engine. */
  openSession?: (world: World) => EnvSession;
  log?: (line: string) => void;
}

export interface BaselineTaskResult {
  task: number;
  /** Measured wall time of the task (search + judge + splice), plus replayed judge time if any. */
  wallMs: number;
  searchMs: number;
  judgeMs: number;
  expansions: number;
  policyCalls: number;
  /** Judge requests of the reference's pattern (made + replayed). */
  judgeCalls: number;
  judgeCallsReplayed: number;
  /** Env resets and steps (every child: reset + replay + its own step). */
  envResets: number;
  envSteps: number;
  nodes: number;
  pairs: number;
  revision: number;
  good: number;
  /** Judge calls the same pairs need when judgements are shared per node (what a build makes). */
  sharedJudgeCalls: number;
  tree: TreeFile;
}

export interface BaselineResult {
  tasks: BaselineTaskResult[];
  /** Sum of the task walls: the reference's wall time for these tasks. */
  wallMs: number;
  /** Elapsed time of this measurement (equals wallMs when tasksAtOnce is 1, up to bookkeeping). */
  elapsedMs: number;
  policyCalls: number;
  judgeCalls: number;
  judgeCallsReplayed: number;
  revision: number;
  good: number;
  tasksAtOnce: number;
  judgeRepeats: 'call' | 'replay-timing';
}

interface TaskContext {
  spec: RunSpec;
  client: ChatClient;
  world: World;
  openSession: (world: World) => EnvSession;
  judgeRepeats: 'call' | 'replay-timing';
}

async function runTask(ctx: TaskContext, task: number): Promise<BaselineTaskResult> {
  const { spec, client } = ctx;
  const started = performance.now();
  const session = ctx.openSession(ctx.world);
  let policyCalls = 0;
  let envResets = 0;
  let envSteps = 0;
  let expansions = 0;

  const first = await session.reset(task);
  envResets += 1;

  const expand = async (request: ExpansionRequest): Promise<ExpansionChild[]> => {
    expansions += 1;
    const messages = policyMessagesForRun(spec, request.path);
    const baseSeed = hashToSeed(spec.seed, task, request.nodeId);
    const replay = request.path.slice(1).map((step) => step.action);
    const children: ExpansionChild[] = [];
    for (let i = 0; i < request.width; i++) {
      const sampled = await client.sample({
        messages,
        n: 1,
        temperature: spec.temperature,
        maxTokens: spec.maxTokens,
        seed: baseSeed + i,
      });
      policyCalls += 1;
      const response = normalizeResponse(sampled.texts[0] ?? '');
      // No snapshots: back to the node by reset + replaying every action from the root.
      await session.reset(task);
      envResets += 1;
      for (const action of replay) {
        await session.step(action);
        envSteps += 1;
      }
      const action = actionForRun(spec, response);
      const result = await session.step(action);
      envSteps += 1;
      children.push(childOfStep(response, action, result));
    }
    return children;
  };

  const search = await runReferenceSearch(
    {
      iterations: spec.iterations,
      width: spec.width,
      maxDepth: spec.depth,
      c: spec.c,
      seed: spec.seed + task,
    },
    { observation: first.observation },
    expand,
  );
  await session.close();
  const searchMs = performance.now() - started;

  // The judge, per pair, in the reference's pair order; nothing shared between pairs.
  const judgeStarted = performance.now();
  const tree = toTreeFile(search, task);
  const pairing = {
    alpha: spec.alpha,
    beta: spec.beta,
    seed: spec.seed,
    ...(spec.maxPairsPerTask !== undefined ? { maxPairsPerTask: spec.maxPairsPerTask } : {}),
  };
  const { pairs } = collectTaskPairs(tree, pairing);
  let judgeCalls = 0;
  let judgeCallsReplayed = 0;
  let replayedMs = 0;
  const timings = new Map<string, { judgement: 'good' | 'bad' | 'uncertain'; ms: number }>();
  const feedback = new Map<string, string>();
  if (spec.transition === 'model') {
    for (const pair of pairs) {
      for (let step = 1; step < pair.bad.nodes.length; step++) {
        const node = pair.bad.nodes[step] as TreeNode;
        judgeCalls += 1;
        const known = timings.get(node.id);
        let judgement: 'good' | 'bad' | 'uncertain';
        if (known && ctx.judgeRepeats === 'replay-timing') {
          judgeCallsReplayed += 1;
          replayedMs += known.ms;
          judgement = known.judgement;
        } else {
          const inputs = judgeInputsFor(tree, node.id);
          const callStarted = performance.now();
          const sampled = await client.sample({
            messages: buildVerifierMessages(inputs),
            n: 1,
            temperature: spec.temperature,
            maxTokens: spec.maxTokens,
            seed: hashToSeed(spec.seed, 'judge', task, node.id),
          });
          const text = sampled.texts[0] ?? '';
          judgement = parseJudgement(text);
          if (!timings.has(node.id)) timings.set(node.id, { judgement, ms: performance.now() - callStarted });
          feedback.set(node.id, text);
        }
        // Kept on the node for splicing (the simulator judges a repeated request identically).
        node.judgement = judgement;
        if (judgement === 'bad') break;
      }
    }
  }
  const spliced = spliceTask(
    tree,
    {
      runId: 'reference-baseline',
      rootPrefix: rootPrefixForRun(spec, first.observation),
      model: spec.policy,
    },
    { ...pairing, transition: spec.transition, unjudged: 'uncertain' },
    (nodeId) => feedback.get(nodeId),
  );
  const judgeMs = performance.now() - judgeStarted + replayedMs;

  return {
    task,
    wallMs: performance.now() - started + replayedMs,
    searchMs,
    judgeMs,
    expansions,
    policyCalls,
    judgeCalls,
    judgeCallsReplayed,
    envResets,
    envSteps,
    nodes: search.nodes.length,
    pairs: spliced.pairs,
    revision: spliced.revision.length,
    good: spliced.good.length,
    sharedJudgeCalls: spliced.judgeCalls,
    tree,
  };
}

/** Runs the reference's call pattern over the spec's tasks and measures it. */
export async function runReferenceBaseline(options: BaselineOptions): Promise<BaselineResult> {
  const spec = runSpecSchema.parse(options.spec);
  if (spec.env !== 'crafting')
    throw new Error('the reference baseline drives the built-in crafting environment');
  const world = options.world ?? getBuiltInWorld(spec.world);
  if (!world) throw new Error(`unknown built-in world "${spec.world}"`);
  const client = createChatClient({ maxConcurrency: 1, ...options.endpoint });
  const ctx: TaskContext = {
    spec,
    client,
    world,
    openSession: options.openSession ?? ((w) => createCraftingSession(w)),
    judgeRepeats: options.judgeRepeats ?? 'call',
  };
  const tasksAtOnce = Math.max(1, Math.min(options.tasksAtOnce ?? 1, spec.tasks.length));
  const started = performance.now();
  const results: BaselineTaskResult[] = [];
  const queue = [...spec.tasks];
  const worker = async () => {
    for (let task = queue.shift(); task !== undefined; task = queue.shift()) {
      const result = await runTask(ctx, task);
      results.push(result);
      options.log?.(
        `reference baseline: task ${task} in ${(result.wallMs / 1000).toFixed(1)} s ` +
          `(${result.policyCalls} policy + ${result.judgeCalls} judge calls)`,
      );
    }
  };
  await Promise.all(Array.from({ length: tasksAtOnce }, worker));
  results.sort((a, b) => a.task - b.task);
  const sum = (pick: (r: BaselineTaskResult) => number) => results.reduce((total, r) => total + pick(r), 0);
  return {
    tasks: results,
    wallMs: sum((r) => r.wallMs),
    elapsedMs: performance.now() - started,
    policyCalls: sum((r) => r.policyCalls),
    judgeCalls: sum((r) => r.judgeCalls),
    judgeCallsReplayed: sum((r) => r.judgeCallsReplayed),
    revision: sum((r) => r.revision),
    good: sum((r) => r.good),
    tasksAtOnce,
    judgeRepeats: ctx.judgeRepeats,
  };
}
