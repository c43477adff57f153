import { createInternedJsonlWriter } from '../../../shared/formats/interned-jsonl';
import type { JobResult, SpliceJob, SplicePage } from '../../../shared/contracts/jobs';
import type { TreeFile } from '../../../shared/contracts/tree-file';
import { type SearchNode, treeFileOfNodes } from '../../../shared/mcts';
import { spliceTaskRecords } from '../../../shared/revision';
import { rootPrefixForRun } from '../../../shared/run-conversation';
import { type CoreBindings, taskTreeStub } from '../../common/env';
import { putJsonl } from '../../common/r2-jsonl';
import { type JobContext, JobSuperseded } from '../../common/job-context';
import { provenanceOf } from '../../common/provenance';
import { IndexChunks, indexRowFor, taskIndexStatements } from '../../common/record-index';
import { taskRecordsKey, taskTreeKey } from '../../common/storage-keys';

function envLabel(job: SpliceJob): string {
  return job.spec.env === 'crafting' ? `crafting:${job.spec.world}` : (job.spec.flavor ?? 'agentgym');
}

/** The finished tree and its judge feedback, as a splice reads them. */
export interface SpliceInput {
  tree: TreeFile;
  feedback: Record<string, string>;
}

/** Bounds the page loop (a page holds at least one node; trees are capped far below this). */
const MAX_PAGES = 1_000_000;

/** How often a writing splice renews its permit (a third of the lease, see tree-writes.ts). */
const PERMIT_RENEW_MS = 3_000;

/**
 * The TaskTree's write permit for one splice attempt: `step` before each write (JobSuperseded
 * when refused: the task was cancelled or the attempt superseded), renewed in the background
 * while a step runs, so a cancel waits for the step and not for a writer that died.
 */
function writePermit(env: CoreBindings, job: SpliceJob, context?: JobContext) {
  // Outside a queue consumer (tools, tests of the splice alone) there is no permit to take.
  if (!context) return { step: async (_what: string) => {}, done: () => {} };
  const stub = taskTreeStub(env, job.runId, job.task);
  const renew = setInterval(
    () => void stub.renewWrite(job.jobId, job.attempt).catch(() => false),
    PERMIT_RENEW_MS,
  );
  return {
    step: async (what: string) => {
      if (!(await stub.beginWrite(job.jobId, job.attempt))) throw new JobSuperseded(what);
    },
    done: () => clearInterval(renew),
  };
}

/** Reads the finished tree from its TaskTree a page at a time (no single RPC carries all of it). */
export async function readTreeInPages(env: CoreBindings, job: SpliceJob): Promise<SpliceInput> {
  const stub = taskTreeStub(env, job.runId, job.task);
  const nodes: SearchNode[] = [];
  const feedback: Record<string, string> = {};
  let from: number | null = 0;
  for (let page = 0; from !== null && page < MAX_PAGES; page++) {
    const got: SplicePage | null = await stub.splicePage(job.jobId, job.attempt, from);
    if (!got) throw new JobSuperseded('reading the tree');
    nodes.push(...got.nodes);
    Object.assign(feedback, got.feedback);
    from = got.next;
  }
  return { tree: treeFileOfNodes(nodes, job.task), feedback };
}

/**
 * Pairs, cuts and splices one finished tree, then writes the records (R2, one JSONL per kind,
 * replaced whole), the tree file, and the index rows (D1, replaced for this task in one batch).
 * Records are built one at a time and streamed to R2 in parts, so memory holds the tree and one
 * part, not the records. Repeating it gives the same files and rows: a redelivered job
 * duplicates nothing.
 */
export async function spliceTree(
  env: CoreBindings,
  job: SpliceJob,
  context?: JobContext,
  readInput: () => Promise<SpliceInput> = () => readTreeInPages(env, job),
): Promise<JobResult> {
  const { spec } = job;
  const provenance = await provenanceOf(env, spec, job.models ?? {});
  const { tree, feedback } = await readInput();
  const records = spliceTaskRecords(
    tree,
    {
      runId: job.runId,
      // Replayed `startFrom` steps belong to every record's conversation (not trained).
      rootPrefix: [
        ...rootPrefixForRun(spec, job.firstObservation),
        ...(job.prefix ?? []).flatMap((step) => [
          { role: 'assistant' as const, content: step.response },
          { role: 'user' as const, content: step.observation },
        ]),
      ],
      env: envLabel(job),
      model: job.models?.policy ?? spec.policy,
      provenance,
    },
    {
      alpha: spec.alpha,
      beta: spec.beta,
      seed: spec.seed,
      maxPairsPerTask: spec.maxPairsPerTask,
      transition: spec.transition,
      revisionSentences: spec.revisionSentences,
      unjudged: 'uncertain',
    },
    (nodeId) => feedback[nodeId],
    job.pairJudgements,
  );
  // A cancelled task (or a superseded attempt) writes nothing: each write step takes the
  // TaskTree's write permit first, which a cancel refuses and waits for (tree-writes.ts).
  const permit = writePermit(env, job, context);
  await permit.step('records');
  const index = new IndexChunks();
  let next = records.next();
  // The records of one kind as interned JSONL lines, each indexed as it goes by.
  async function* linesOf(kind: 'revision' | 'good'): AsyncGenerator<string> {
    const writer = createInternedJsonlWriter();
    for (let line = 0; !next.done && next.value.kind === kind; line++) {
      index.add(indexRowFor(next.value.record, line));
      yield writer.line(next.value.record);
      next = records.next();
    }
  }
  try {
    for (const kind of ['revision', 'good'] as const) {
      const key = taskRecordsKey(job.runId, job.task, kind);
      await putJsonl(env.BUCKET, key, linesOf(kind));
    }
    if (!next.done) throw new Error('splice: records came out of order');
    await env.BUCKET.put(taskTreeKey(job.runId, job.task), JSON.stringify(tree), {
      httpMetadata: { contentType: 'application/json' },
    });
    await permit.step('the index rows');
    await env.DB.batch(taskIndexStatements(env.DB, job.runId, job.task, index.done()));
  } finally {
    permit.done();
  }
  const counts = next.value;

  return {
    kind: 'splice',
    revision: counts.revision,
    good: counts.good,
    pairs: counts.pairs,
    referenceJudgeCalls: counts.referenceJudgeCalls,
    skipped: counts.skipped,
  };
}
