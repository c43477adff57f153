import { describe, expect, it } from 'vitest';
import {
  type ExpansionChild,
  type ExpansionRequest,
  runSearchLocally,
  toTreeFile,
} from '../../../shared/mcts';
import {
  compareRecordTexts,
  multisetDiff,
  normaliseRecordLine,
  type TreeNodeLike,
  treeInvariantProblems,
} from '../../../cli/bench/compare';

/** A small random-looking but deterministic search: rewards depend on the path. */
async function searchedTree() {
  const expand = async (req: ExpansionRequest): Promise<ExpansionChild[]> => {
    const depth = req.path.length - 1;
    return ['a', 'b', 'c', 'a'].map((r, i) => {
      const response = `${r}${depth}`;
      const done = depth >= 2 && (req.nodeId.length + i) % 3 === 0;
      return {
        response,
        action: response,
        observation: `obs ${response}`,
        reward: done ? (i % 2) * 1 : 0,
        done,
      };
    });
  };
  const state = await runSearchLocally(
    { iterations: 6, width: 4, maxDepth: 4, seed: 3 },
    { observation: 'start' },
    expand,
  );
  return toTreeFile(state, 0);
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

describe('tree visit bookkeeping', () => {
  it('accepts a tree the search produced', async () => {
    const tree = await searchedTree();
    expect(tree.root.visits).toBeGreaterThan(0);
    expect(treeInvariantProblems(tree.root as TreeNodeLike)).toEqual([]);
  });

  it('catches a terminal child backed up twice', async () => {
    const tree = clone(await searchedTree()) as { root: TreeNodeLike };
    // Find a terminal leaf and count its visit again along its path (a duplicated result).
    const path: TreeNodeLike[] = [];
    const find = (node: TreeNodeLike, trail: TreeNodeLike[]): boolean => {
      if (node.children.length === 0 && node.terminal && node.visits === 1) {
        path.push(...trail, node);
        return true;
      }
      return node.children.some((c) => find(c, [...trail, node]));
    };
    expect(find(tree.root, [])).toBe(true);
    for (const node of path) node.visits += 1;
    const problems = treeInvariantProblems(tree.root);
    expect(problems.some((p) => p.includes('visits'))).toBe(true);
  });

  it('catches a child applied twice (two siblings with one response)', async () => {
    const tree = clone(await searchedTree()) as { root: TreeNodeLike };
    const parent = tree.root;
    const twin = clone(parent.children[0]!);
    twin.id = `${twin.id}-copy`;
    parent.children.push(twin);
    parent.visits += twin.visits;
    parent.value += twin.value;
    expect(treeInvariantProblems(tree.root).some((p) => p.includes('one response'))).toBe(true);
  });
});

describe('record comparison', () => {
  const record = (task: number, runId: string) =>
    JSON.stringify({
      task_num: String(task),
      id: `${runId}-${task}`,
      run_id: runId,
      model: 'sim',
      provenance: { endpoints: { policy: { name: runId === 'run_a' ? 'sim' : 'sim-faulty' } } },
      task,
      revise_log: [],
    });

  it('ignores the fields that name the run, not the data', () => {
    expect(normaliseRecordLine(record(1, 'run_a'))).toBe(normaliseRecordLine(record(1, 'run_b')));
    expect(normaliseRecordLine(record(1, 'run_a'))).not.toBe(normaliseRecordLine(record(2, 'run_a')));
  });

  it('compares files as multisets and counts lost and duplicated lines', () => {
    const a = [record(1, 'x'), record(2, 'x'), record(3, 'x')].join('\n');
    const reordered = [record(3, 'y'), record(1, 'y'), record(2, 'y')].join('\n');
    const same = compareRecordTexts('f', a, reordered);
    expect(same).toMatchObject({
      identical: true,
      sameOrder: false,
      diff: { lost: 0, duplicated: 0, extra: 0 },
    });

    const broken = [record(1, 'y'), record(1, 'y'), record(2, 'y')].join('\n');
    const diff = compareRecordTexts('f', a, broken);
    expect(diff.identical).toBe(false);
    expect(diff.diff).toEqual({ lost: 1, duplicated: 1, extra: 1 });
  });

  it('multisetDiff counts multiplicity', () => {
    expect(multisetDiff(['a', 'a', 'b'], ['a', 'b', 'b', 'c'])).toEqual({ lost: 1, extra: 2, duplicated: 1 });
  });
});
