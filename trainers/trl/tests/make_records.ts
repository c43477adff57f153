import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatRecord } from '../../../shared/formats/export';
import type { NativeRecord } from '../../../shared/revision/native-record';
import { createRng, type Rng } from '../../../shared/random';
import { spliceTask } from '../../../shared/revision/splice-task';
import type { TreeNode } from '../../../shared/contracts/tree-file';
import { lateErrorRecord, sampleRecords } from '../../../test/unit/formats/fixtures';
import { randomTree, rootPrefix } from '../../../test/unit/revision/tree-builder';

// Writes the trainer tests' records: `native.jsonl` (agent-r's native records, the loss flags
// the mask test checks against) and `trl.jsonl` (the same records through our TRL exporter,
// what the companion trains on). Hand-built trees plus seeded random ones, spliced by the real
// splicer. Usage: node --import tsx trainers/trl/tests/make_records.ts OUT_DIR

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: make_records.ts OUT_DIR\n');
  process.exit(2);
}

/** Distinct, sentence-like texts per node, so a wrongly trained turn cannot pass for another. */
function wordy(node: TreeNode, rng: Rng): void {
  const items = ['oak planks', 'stick', 'iron ingot', 'crafting table', 'golden apple', 'torch'];
  const item = items[rng.int(items.length)];
  node.response = `Thought: I need ${item} (${node.id}).\nAction: get 1 ${item}`;
  node.observation = `Got 1 ${item} at ${node.id}.`;
  for (const child of node.children) wordy(child, rng);
}

const records: NativeRecord[] = [];
const { revision, good } = sampleRecords();
records.push(revision, good, lateErrorRecord());
const rng = createRng(21);
for (let t = 0; records.length < 24 && t < 200; t++) {
  const tree = randomTree(rng, t);
  for (const child of tree.root.children) wordy(child, rng);
  const result = spliceTask(tree, { runId: 'trl-fixture', rootPrefix, env: 'textcraft' }, { seed: t });
  records.push(...result.revision.slice(0, 2), ...result.good.slice(0, 1));
}
const jsonl = (lines: unknown[]) => lines.map((l) => `${JSON.stringify(l)}\n`).join('');
writeFileSync(join(out, 'native.jsonl'), jsonl(records.flatMap((r) => formatRecord(r, 'native'))));
writeFileSync(join(out, 'trl.jsonl'), jsonl(records.flatMap((r) => formatRecord(r, 'trl'))));
process.stdout.write(`${records.length} records\n`);
