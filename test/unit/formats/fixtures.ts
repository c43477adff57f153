import type { LossMessage } from '../../../shared/revision/conversation';
import type { NativeRecord } from '../../../shared/revision/native-record';
import { spliceTask } from '../../../shared/revision/splice-task';
import { generalChatToExample } from '../../../shared/formats/general-chat';
import type { TrainingExample } from '../../../shared/formats/training-example';
import { judge, rootPrefix, step, treeOf } from '../revision/tree-builder';

// root -> s1 -> s2 -> g3 -> g4 (1) | b3 -> b4 (0); s2 judged bad, so t' = 2 sits inside the
// shared prefix and the good suffix re-takes nothing but g3, g4 (branch point 3 = t'+1).
export function sampleRecords(): { revision: NativeRecord; good: NativeRecord } {
  const tree = treeOf([
    step('s1', {}, [
      step('s2', {}, [step('g3', {}, [step('g4', { reward: 1 })]), step('b3', {}, [step('b4')])]),
    ]),
  ]);
  judge(tree, { s1: 'good', s2: 'bad' });
  const result = spliceTask(tree, { runId: 'run-x', rootPrefix, env: 'textcraft' }, { seed: 1 });
  const revision = result.revision[0];
  const good = result.good[0];
  if (!revision || !good) throw new Error('fixture tree produced no records');
  return { revision, good };
}

/** A revision record whose first error lies after the branch point (bad steps b3 kept). */
export function lateErrorRecord(): NativeRecord {
  const tree = treeOf([
    step('s1', {}, [
      step('s2', {}, [step('g3', {}, [step('g4', { reward: 1 })]), step('b3', {}, [step('b4')])]),
    ]),
  ]);
  judge(tree, { s1: 'good', s2: 'good', b3: 'bad' });
  const record = spliceTask(tree, { runId: 'run-x', rootPrefix, env: 'textcraft' }, { seed: 1 }).revision[0];
  if (!record) throw new Error('no record');
  return record;
}

export function generalExample(): TrainingExample {
  return generalChatToExample({
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Capital of France?' },
      { role: 'assistant', content: 'Paris.' },
      { role: 'user', content: 'And of Italy?' },
      { role: 'assistant', content: 'Rome.' },
    ],
  });
}

/** The assistant turns a trainer sees, in order, with whether each is trained. */
export function expectedMask(messages: readonly LossMessage[]): { content: string; trained: boolean }[] {
  let end = messages.length;
  while (end > 0 && messages[end - 1]?.role !== 'assistant') end--;
  return messages
    .slice(0, end)
    .filter((m) => m.role === 'assistant')
    .map((m) => ({ content: m.content, trained: m.loss === true }));
}
