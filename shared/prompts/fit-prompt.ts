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
 */
export async function smallestFittingDrop(
  prompt: ShrinkablePrompt,
  budget: number,
  count: (messages: ChatMessage[]) => Promise<number>,
  minDrop = 0,
): Promise<FittedPrompt> {
  const at = async (drop: number) => {
    const messages = prompt.build(drop);
    return { messages, drop, tokens: await count(messages) };
  };
  const low = Math.min(Math.max(0, minDrop), prompt.maxDrop);
  const first = await at(low);
  if (first.tokens <= budget) return { ...first, fits: true };
  const last = low === prompt.maxDrop ? first : await at(prompt.maxDrop);
  if (last.tokens > budget) return { ...last, fits: false };
  // Invariant: `lo` does not fit, `hi` fits.
  let lo = low;
  let hi = last;
  while (hi.drop - lo > 1) {
    const mid = await at(Math.floor((lo + hi.drop) / 2));
    if (mid.tokens <= budget) hi = mid;
    else lo = mid.drop;
  }
  return { ...hi, fits: true };
}
