import type { NativeRecord } from '../../../shared/revision/native-record';
import { spliceTask } from '../../../shared/revision/splice-task';
import type { TreeNode } from '../../../shared/contracts/tree-file';
import { judge, rootPrefix, step, treeOf } from '../revision/tree-builder';

// A crafting task whose records show every problem the `clean` curation handles, built by the
// real splicer from a tree with the crafting engine's observations:
//
// root -> a1 get 1 oak log
//           |-> g2 craft 4 oak planks -> g3 craft 1 stick (reward 1)                 good path G
//           |-> b2 get 4 oak timber [Could not find] (judged bad)
//           |     |-> b3a get 4 oak timber [Could not find] (reward 0)             bad path A
//           |     \-> b3b inventory (reward 0)                                       bad path B
//           \-> r2 (other thought) get 4 oak timber [Could not find]
//                 -> r3 get 4 oak timber [Could not find] -> r4 craft 1 stick (reward 1)  good path R
// A and B are cut after b2 (the same prefix), so with one reflection sentence each splices into
// the same record with G: an exact duplicate. With R the first trained action after the
// reflection is b2's action (the judged error), and R's trained part repeats a rejected action.

const act = (
  id: string,
  thought: string,
  action: string,
  observation: string,
  props: Partial<TreeNode> = {},
  children: TreeNode[] = [],
) =>
  step(id, { response: `Thought: ${thought}\nAction: ${action}`, action, observation, ...props }, children);

const NOT_FOUND = 'Could not find oak timber';

export function craftingTree(task = 3) {
  const tree = treeOf(
    [
      act('a1', 'I need a log.', 'get 1 oak log', 'Got 1 oak log', {}, [
        act(
          'g2',
          'Planks next.',
          'craft 4 oak planks using 1 oak log',
          'Crafted 4 minecraft:oak_planks',
          {},
          [
            act('g3', 'Now the stick.', 'craft 1 stick using 2 oak planks', 'Crafted 4 minecraft:stick', {
              reward: 1,
              done: true,
            }),
          ],
        ),
        act('b2', 'Timber maybe.', 'get 4 oak timber', NOT_FOUND, {}, [
          act('b3a', 'Try again.', 'get 4 oak timber', NOT_FOUND),
          act('b3b', 'Check.', 'inventory', 'Inventory: [minecraft:oak_log] (1) '),
        ]),
        act('r2', 'Timber is what I need.', 'get 4 oak timber', NOT_FOUND, {}, [
          act('r3', 'Once more.', 'Get 4 oak timber.', NOT_FOUND, {}, [
            act('r4', 'Craft it.', 'craft 1 stick using 2 oak planks', 'Crafted 4 minecraft:stick', {
              reward: 1,
              done: true,
            }),
          ]),
        ]),
      ]),
    ],
    task,
  );
  judge(tree, { a1: 'good', b2: 'bad', b3a: 'bad', b3b: 'bad' });
  return tree;
}

export function craftingRecords(
  task = 3,
  runId = 'run-c',
): { revision: NativeRecord[]; good: NativeRecord[] } {
  const result = spliceTask(
    craftingTree(task),
    // Each task its own goal text, so two tasks never share a conversation.
    { runId, rootPrefix: taskPrefix(task), env: 'crafting' },
    { seed: 1, revisionSentences: ['I took a wrong turn.'] },
  );
  return { revision: result.revision, good: result.good };
}

export function taskPrefix(task: number) {
  return rootPrefix.map((m, i) =>
    i === rootPrefix.length - 1 ? { ...m, content: `${m.content} (task ${task})` } : m,
  );
}

/** The revision record of bad path `bad` (leaf id) and good path `good`. */
export function pairRecord(records: readonly NativeRecord[], good: string, bad: string): NativeRecord {
  const found = records.find((r) => r.good_leaf === good && r.bad_leaf === bad);
  if (!found) throw new Error(`no record for (${good}, ${bad})`);
  return found;
}
