import type { Rng } from '../random';

/**
 * Our own pool of short first-person reflections spliced in where the bad path is cut
 * (the reference ships ten of its own; this wording is ours). Runs may supply their own.
 */
export const defaultRevisionSentences: readonly string[] = [
  'My last few steps went wrong; I should step back and try another way.',
  'This is not working out. Let me rethink my plan before acting again.',
  'I took a wrong turn somewhere. I will go back to what the task asks and start over from there.',
  'Those actions did not get me closer to the goal, so I need a different approach.',
  'I made a mistake a moment ago. Let me correct my course.',
  'Looking back, my recent actions were off track. I will reconsider and proceed more carefully.',
  'That did not go as planned. I should change my strategy.',
  'I see now that my approach was flawed; time to revise it.',
  'Something in my last steps was wrong. Let me reflect and pick a better action.',
  'I have been heading in the wrong direction. I will reset my thinking and try again.',
];

export function drawRevisionSentence(
  rng: Pick<Rng, 'int'>,
  pool: readonly string[] = defaultRevisionSentences,
): string {
  if (pool.length === 0) throw new Error('the revision sentence pool is empty');
  return pool[rng.int(pool.length)] as string;
}
