import { createRng, deriveSeed } from '../random';
import type { RecordFeatures } from './features';

// The curation rules, each a pure function from the records (their features) to the ones it
// keeps. Every rule keeps the input order of what it keeps and gives the same answer for any
// input order (ties are broken by record id), so a preset's outcome depends only on the records
// and the seed.

type Rule<O = void> = (records: readonly RecordFeatures[], options: O) => RecordFeatures[];

const byId = (a: RecordFeatures, b: RecordFeatures): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function keepOnly(records: readonly RecordFeatures[], kept: ReadonlySet<string>): RecordFeatures[] {
  return records.filter((r) => kept.has(r.id));
}

function groupBy<K>(
  records: readonly RecordFeatures[],
  key: (r: RecordFeatures) => K,
): Map<K, RecordFeatures[]> {
  const groups = new Map<K, RecordFeatures[]>();
  for (const record of records) {
    const k = key(record);
    const group = groups.get(k);
    if (group) group.push(record);
    else groups.set(k, [record]);
  }
  return groups;
}

/**
 * `dedupe`: exact duplicates (the same turns, texts and trained turns) are kept once, the copy
 * with the smallest record id. Bad paths that share their prefix up to the first error splice
 * into the same record with the same good path; the reference writes each of them.
 */
export const removeDuplicates: Rule = (records) => {
  const kept = new Set<string>();
  for (const group of groupBy(records, (r) => r.contentKey).values()) kept.add([...group].sort(byId)[0]!.id);
  return keepOnly(records, kept);
};

/**
 * `no-failure-loops`: drops a record when a trained turn repeats the action right before it after
 * the environment rejected that action (`get 4 oak timber` -> `Could not find oak timber` ->
 * `get 4 oak timber`): training on it teaches the loop Agent-R sets out to remove.
 */
export const dropFailureLoops: Rule = (records) => records.filter((r) => r.trainedRepeatsOfFailure === 0);

/**
 * `no-error-repeat`: drops a revision record whose first trained action after the reflection is
 * the very action the judge marked as the error (the good path took it with other words): the
 * record would teach "this was wrong" followed by doing it again.
 */
export const dropErrorRepeats: Rule = (records) => records.filter((r) => !r.firstActionRepeatsError);

/**
 * `shortest-partner`: for each bad path, keeps the `perBadPath` revision records whose good
 * partner leaves the shortest trained suffix (fewest trained turns; ties by record id). Good
 * records pass through.
 */
export const preferShortestPartners: Rule<{ perBadPath: number }> = (records, { perBadPath }) => {
  const kept = new Set<string>(records.filter((r) => r.kind !== 'revision').map((r) => r.id));
  const revisions = records.filter((r) => r.kind === 'revision');
  for (const group of groupBy(revisions, (r) => `${r.task}\u0000${r.badLeaf}`).values()) {
    const ranked = [...group].sort((a, b) => a.trainedTurns - b.trainedTurns || byId(a, b));
    for (const r of ranked.slice(0, perBadPath)) kept.add(r.id);
  }
  return keepOnly(records, kept);
};

/**
 * `cap-per-task`: at most `maxPerTask` records of each kind per task, drawn by a seeded shuffle
 * (one stream per task and kind), so no task dominates the data. Revision records are drawn
 * round-robin over their bad paths, so the cap keeps the variety of mistakes.
 */
export const capPerTask: Rule<{ maxPerTask: number; seed: number }> = (records, { maxPerTask, seed }) => {
  const kept = new Set<string>();
  for (const [key, group] of groupBy(records, (r) => `${r.task}\u0000${r.kind}`)) {
    const shuffled = createRng(deriveSeed(seed, 'cap', key)).shuffle([...group].sort(byId));
    for (const r of roundRobin(shuffled, (r) => r.badLeaf ?? r.id).slice(0, maxPerTask)) kept.add(r.id);
  }
  return keepOnly(records, kept);
};

/** Interleaves the groups (in order of first appearance), each group keeping its order. */
function roundRobin(
  records: readonly RecordFeatures[],
  key: (r: RecordFeatures) => string,
): RecordFeatures[] {
  const queues = [...groupBy(records, key).values()];
  const out: RecordFeatures[] = [];
  for (let round = 0; out.length < records.length; round++) {
    for (const queue of queues) {
      const r = queue[round];
      if (r) out.push(r);
    }
  }
  return out;
}
