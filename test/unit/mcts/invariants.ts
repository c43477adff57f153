import { expect } from 'vitest';
import { isComplete, type SearchState, toTreeFile } from '../../../shared/mcts';
import { treeFileSchema } from '../../../shared/contracts/tree-file';

/** A node whose own creation was backed up (terminal when created). */
function isBackedUpLeaf(state: SearchState, id: string): boolean {
  const n = state.nodes[Number(id)]!;
  return n.parentId !== null && (n.depth > state.config.maxDepth || n.done || n.failed);
}

/** The violated invariants of a state (complete or not); empty when all hold. */
export function findViolations(state: SearchState): string[] {
  const bad: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) bad.push(what);
  };
  const { nodes, config } = state;
  const subtreeVisits = new Array<number>(nodes.length).fill(0);
  const subtreeValue = new Array<number>(nodes.length).fill(0);
  // Children have larger ids than parents: one reverse sweep sums subtrees.
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    check(n.id === String(i), `node ${i}: id ${n.id}`);
    if (isBackedUpLeaf(state, n.id)) {
      subtreeVisits[i]! += 1;
      subtreeValue[i]! += n.reward;
    }
    if (n.parentId !== null) {
      const p = Number(n.parentId);
      const parent = nodes[p]!;
      check(p < i, `node ${i}: parent ${p} not older`);
      check(n.depth === parent.depth + 1, `node ${i}: depth`);
      check(parent.childIds.includes(n.id), `node ${i}: not listed by parent`);
      subtreeVisits[p]! += subtreeVisits[i]!;
      subtreeValue[p]! += subtreeValue[i]!;
    }
  }
  for (const n of nodes) {
    const i = Number(n.id);
    // Visits/value = count/sum of the terminal backups at or below the node.
    check(n.visits === subtreeVisits[i], `node ${i}: visits ${n.visits} != ${subtreeVisits[i]}`);
    check(Math.abs(n.value - subtreeValue[i]!) < 1e-9, `node ${i}: value ${n.value} != ${subtreeValue[i]}`);
    const responses = n.childIds.map((c) => nodes[Number(c)]!.response);
    check(new Set(responses).size === responses.length, `node ${i}: duplicate child responses`);
    check(n.childIds.length <= config.width, `node ${i}: more children than width`);
    check(n.expanded === n.childIds.length > 0, `node ${i}: expanded flag`);
    if (n.failed) check(n.reward === 0, `node ${i}: failed with reward`);
    if (n.error !== null) check(n.terminal && n.reward === 0 && !n.expanded, `node ${i}: failed expansion`);
    if (n.childIds.length > 0) {
      // Pruning: a node is terminal exactly when all of its children are.
      const allTerminal = n.childIds.every((c) => nodes[Number(c)]!.terminal);
      check(
        n.terminal === allTerminal,
        `node ${i}: terminal ${n.terminal}, children all terminal ${allTerminal}`,
      );
    }
    if (n.parentId !== null && n.depth > config.maxDepth) check(n.terminal, `node ${i}: too deep`);
  }
  check(nodes[0]!.visits === state.counters.backups, 'root visits != backups');

  // Jobs and descents agree; no node has two jobs.
  const jobNodes = Object.values(state.jobs).map((j) => j.nodeId);
  check(new Set(jobNodes).size === jobNodes.length, 'two jobs on one node');
  check(state.descents.length <= config.parallelism, 'too many descents');
  for (const [jobId, job] of Object.entries(state.jobs)) {
    const owner = state.descents.find((d) => d.id === job.descentId);
    check(owner?.status === 'expanding' && owner.jobId === jobId, `job ${jobId}: owner`);
    check(owner?.path[owner.path.length - 1] === job.nodeId, `job ${jobId}: owner path`);
    const node = nodes[Number(job.nodeId)]!;
    check(!node.expanded && !node.terminal, `job ${jobId}: node state`);
  }
  for (const d of state.descents) {
    if (d.status === 'waiting')
      check(jobNodes.includes(d.path[d.path.length - 1]!), `descent ${d.id}: waits on nothing`);
  }
  const { descentsStarted, descentsFinished } = state.counters;
  check(descentsStarted <= config.iterations, 'too many descents started');
  check(descentsStarted - descentsFinished === state.descents.length, 'descent counters');
  if (isComplete(state)) {
    check(Object.keys(state.jobs).length === 0, 'complete with jobs');
    if (!nodes[0]!.terminal) check(descentsStarted === config.iterations, 'complete too early');
  }
  return bad;
}

export function checkInvariants(state: SearchState, opts: { treeFile?: boolean } = {}): void {
  expect(findViolations(state)).toEqual([]);
  if (opts.treeFile ?? isComplete(state)) treeFileSchema.parse(toTreeFile(state, 0));
}
