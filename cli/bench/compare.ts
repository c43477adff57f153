import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Comparing two builds' output directories (trees/*.json, revision/good native records) and
 * checking a tree's visit bookkeeping: how the fault and resume scenarios prove that a disturbed
 * build produced exactly what an undisturbed one does.
 */

/**
 * Fields of a native record that name the run (or the endpoint), not the data. `provenance` names
 * the endpoint, its URL and the commit, which differ between two runs of the same data (the fault
 * scenarios build through another endpoint on purpose).
 */
export const RUN_IDENTITY_FIELDS = ['id', 'run_id', 'model', 'provenance'] as const;

/** A record line without the fields that differ between two runs of the same data. */
export function normaliseRecordLine(line: string): string {
  const record = JSON.parse(line) as Record<string, unknown>;
  for (const field of RUN_IDENTITY_FIELDS) delete record[field];
  return JSON.stringify(record);
}

export interface MultisetDiff {
  /** Lines of `expected` missing from `actual` (counted with multiplicity). */
  lost: number;
  /** Lines of `actual` beyond what `expected` has (extra copies or unknown lines). */
  extra: number;
  /** Lines present more than once in `actual` while `expected` has them once (duplicates). */
  duplicated: number;
}

export function multisetDiff(expected: readonly string[], actual: readonly string[]): MultisetDiff {
  const counts = new Map<string, number>();
  for (const line of expected) counts.set(line, (counts.get(line) ?? 0) + 1);
  const seen = new Map<string, number>();
  let extra = 0;
  let duplicated = 0;
  for (const line of actual) {
    const n = (seen.get(line) ?? 0) + 1;
    seen.set(line, n);
    const want = counts.get(line) ?? 0;
    if (n > want) {
      extra++;
      if (want > 0 || n > 1) duplicated++;
    }
  }
  let lost = 0;
  for (const [line, want] of counts) lost += Math.max(0, want - (seen.get(line) ?? 0));
  return { lost, extra, duplicated };
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

export interface RecordFileComparison {
  file: string;
  expected: number;
  actual: number;
  /** Equal as multisets after normalisation (order may differ: tasks finish in any order). */
  identical: boolean;
  /** Byte-for-byte equal after normalisation and in the same order. */
  sameOrder: boolean;
  diff: MultisetDiff;
}

export function compareRecordTexts(file: string, expected: string, actual: string): RecordFileComparison {
  const a = lines(expected).map(normaliseRecordLine);
  const b = lines(actual).map(normaliseRecordLine);
  const diff = multisetDiff(a, b);
  const sortedA = [...a].sort();
  const sortedB = [...b].sort();
  return {
    file,
    expected: a.length,
    actual: b.length,
    identical: sortedA.length === sortedB.length && sortedA.every((line, i) => line === sortedB[i]),
    sameOrder: a.length === b.length && a.every((line, i) => line === b[i]),
    diff,
  };
}

export interface RunDirComparison {
  /** Tree files that differ (byte for byte) or exist on one side only. */
  treesDiffering: string[];
  treesCompared: number;
  records: RecordFileComparison[];
  identical: boolean;
  lost: number;
  duplicated: number;
}

/** Compares trees/*.json byte for byte and the native record files as normalised multisets. */
export async function compareRunDirs(expectedDir: string, actualDir: string): Promise<RunDirComparison> {
  const list = async (dir: string) => (await readdir(join(dir, 'trees')).catch(() => [])).sort();
  const expectedTrees = await list(expectedDir);
  const actualTrees = await list(actualDir);
  const names = [...new Set([...expectedTrees, ...actualTrees])].sort();
  const treesDiffering: string[] = [];
  for (const name of names) {
    const a = await readFile(join(expectedDir, 'trees', name), 'utf8').catch(() => null);
    const b = await readFile(join(actualDir, 'trees', name), 'utf8').catch(() => null);
    if (a === null || b === null || a !== b) treesDiffering.push(name);
  }
  const records: RecordFileComparison[] = [];
  for (const file of ['revision.native.jsonl', 'good.native.jsonl']) {
    const a = await readFile(join(expectedDir, file), 'utf8').catch(() => '');
    const b = await readFile(join(actualDir, file), 'utf8').catch(() => '');
    records.push(compareRecordTexts(file, a, b));
  }
  return {
    treesDiffering,
    treesCompared: names.length,
    records,
    identical: treesDiffering.length === 0 && names.length > 0 && records.every((r) => r.identical),
    lost: records.reduce((sum, r) => sum + r.diff.lost, 0),
    duplicated: records.reduce((sum, r) => sum + r.diff.duplicated, 0),
  };
}

/** The Contract's tree node, plus the optional fields the search adds. */
export interface TreeNodeLike {
  id: string;
  response: string;
  reward: number;
  terminal: boolean;
  visits: number;
  value: number;
  error?: string;
  children: TreeNodeLike[];
}

/**
 * Visit bookkeeping of a finished tree (reference backup: a terminal child adds one visit and
 * its reward to itself and every ancestor, once): an inner node's visits and value are the sums
 * of its children's; a leaf that was created terminal has exactly one visit worth its reward; an
 * unexpanded or failed leaf has none; siblings never repeat a response. Returns the problems.
 */
export function treeInvariantProblems(root: TreeNodeLike, maxNodes = 1_000_000): string[] {
  const problems: string[] = [];
  const stack: TreeNodeLike[] = [root];
  const ids = new Set<string>();
  for (let visited = 0; stack.length > 0; visited++) {
    if (visited >= maxNodes) {
      problems.push(`more than ${maxNodes} nodes`);
      break;
    }
    const node = stack.pop() as TreeNodeLike;
    if (ids.has(node.id)) problems.push(`node ${node.id} appears twice`);
    ids.add(node.id);
    if (node.children.length > 0) {
      const visits = node.children.reduce((sum, c) => sum + c.visits, 0);
      const value = node.children.reduce((sum, c) => sum + c.value, 0);
      if (node.visits !== visits)
        problems.push(`node ${node.id}: visits ${node.visits} != children's ${visits}`);
      if (Math.abs(node.value - value) > 1e-6)
        problems.push(`node ${node.id}: value ${node.value} != children's ${value}`);
      const responses = new Set<string>();
      for (const child of node.children) {
        if (responses.has(child.response)) problems.push(`node ${node.id}: two children with one response`);
        responses.add(child.response);
        stack.push(child);
      }
    } else if (node.terminal && node.error === undefined && node !== root) {
      if (node.visits !== 1) problems.push(`terminal leaf ${node.id}: ${node.visits} visits (expected 1)`);
      if (Math.abs(node.value - node.reward) > 1e-9)
        problems.push(`terminal leaf ${node.id}: value ${node.value} != reward ${node.reward}`);
    } else if (node.visits !== 0) {
      problems.push(`leaf ${node.id} (${node.error ? 'failed' : 'unexpanded'}): ${node.visits} visits`);
    }
  }
  return problems;
}

/** Invariant problems of every tree file in `dir/trees`, prefixed with the file name. */
export async function treeDirProblems(dir: string): Promise<{ trees: number; problems: string[] }> {
  const names = (await readdir(join(dir, 'trees')).catch(() => [])).sort();
  const problems: string[] = [];
  for (const name of names) {
    const tree = JSON.parse(await readFile(join(dir, 'trees', name), 'utf8')) as { root: TreeNodeLike };
    for (const problem of treeInvariantProblems(tree.root)) problems.push(`${name}: ${problem}`);
  }
  return { trees: names.length, problems };
}
