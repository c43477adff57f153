import type { ChatMessage } from '../chat';

/**
 * A prompt that can be shortened: `build(drop)` is the prompt with `drop` old steps left out
 * (0 = all of them kept), for `drop` from 0 to `maxDrop`; every larger drop is no longer.
 */
export interface ShrinkablePrompt {
  build(drop: number): ChatMessage[];
  maxDrop: number;
}

export interface FittedPrompt {
  messages: ChatMessage[];
  drop: number;
  /** The prompt's tokens as the counter counts them. */
  tokens: number;
  /** False when even `maxDrop` is over the budget (the prompt is then the shortest one). */
  fits: boolean;
}

/**
 * The fewest dropped steps (at least `minDrop`) whose prompt fits `budget` tokens. Tokens shrink
 * as more steps go, so a binary search needs about log2(steps) counts; the common case (the whole
 * prompt fits) costs one.
 *
 * With `local`, a count that asks nobody (each step's text counted once and cached), an expensive
 * `count` (the server's /tokenize) is asked about two prompts in the usual case: the whole one and,
 * when that is over, the shrink the local count predicts, scaled to the exact count of the whole
 * prompt. That shrink may leave out a step more than the exact minimum; a prediction that still
 * does not fit continues with the binary search above it.
 */
export async function smallestFittingDrop(
  prompt: ShrinkablePrompt,
  budget: number,
  count: (messages: ChatMessage[]) => Promise<number>,
  minDrop = 0,
  local?: (messages: ChatMessage[]) => number,
): Promise<FittedPrompt> {
  const at = async (drop: number) => {
    const messages = prompt.build(drop);
    return { messages, drop, tokens: await count(messages) };
  };
  const low = Math.min(Math.max(0, minDrop), prompt.maxDrop);
  const first = await at(low);
  if (first.tokens <= budget) return { ...first, fits: true };
  let lo = low;
  if (local && low < prompt.maxDrop) {
    const guess = await at(predictedDrop(prompt, budget, first, local));
    if (guess.tokens <= budget) return { ...guess, fits: true };
    if (guess.drop === prompt.maxDrop) return { ...guess, fits: false };
    lo = guess.drop;
  }
  const last = lo === prompt.maxDrop ? first : await at(prompt.maxDrop);
  if (last.tokens > budget) return { ...last, fits: false };
  // Invariant: `lo` does not fit, `hi` fits.
  let hi = last;
  while (hi.drop - lo > 1) {
    const mid = await at(Math.floor((lo + hi.drop) / 2));
    if (mid.tokens <= budget) hi = mid;
    else lo = mid.drop;
  }
  return { ...hi, fits: true };
}

/**
 * The fewest drops above `over.drop` whose local count, scaled by exact / local of `over`, fits;
 * `maxDrop` when none does. Dropped steps are plain text, so the scale carries over.
 */
function predictedDrop(
  prompt: ShrinkablePrompt,
  budget: number,
  over: { messages: ChatMessage[]; drop: number; tokens: number },
  local: (messages: ChatMessage[]) => number,
): number {
  const localOver = Math.max(1, local(over.messages));
  const scale = over.tokens / localOver;
  for (let drop = over.drop + 1; drop < prompt.maxDrop; drop++) {
    const predicted = over.tokens - scale * (localOver - local(prompt.build(drop)));
    if (predicted <= budget) return drop;
  }
  return prompt.maxDrop;
}
