import { z } from 'zod';
import { estimateTokens } from '../prompts/policy-messages';
import { isTrained } from '../revision/conversation';
import type { NativeRecord } from '../revision/native-record';
import { createRng, deriveSeed } from '../random';
import { stableHashNumber } from '../revision/stable-hash';
import { generalChatToExample } from './general-chat';
import { asExample, type TrainingExample } from './training-example';

// Dataset assembly across runs: revision + good records pooled over environments, optional
// general chat data mixed so agent data is a fraction eta of the whole (paper: 0.2),
// de-duplicated, shuffled and split with a seed.
//
// Memory: the first pass keeps two numbers per record (source/ordinal key and a 53-bit
// content hash), never the records. Writing a shuffled split re-reads the sources: each
// window of `bufferSize` output positions takes one pass over the sources it needs and
// holds at most `bufferSize` records, so memory is O(records * 16 bytes + bufferSize records)
// and the number of passes is ceil(split size / bufferSize). Sources must therefore yield
// the same items in the same order on every open() (files in R2 do); a changed source is
// detected by its hash and reported.

export interface DatasetSource {
  name: string;
  /** 'agent': revision/good records (the eta part); 'general': user chat data (the 1 - eta part). */
  role: 'agent' | 'general';
  open(): AsyncIterable<NativeRecord | TrainingExample> | Iterable<NativeRecord | TrainingExample>;
}

/** A general-chat source from raw JSON objects (OpenAI `messages` or ShareGPT `conversations`). */
export function generalChatSource(
  name: string,
  openRaw: () => AsyncIterable<unknown> | Iterable<unknown>,
): DatasetSource {
  return {
    name,
    role: 'general',
    async *open() {
      for await (const raw of openRaw()) yield generalChatToExample(raw);
    },
  };
}

export const assemblyConfigSchema = z.object({
  /** Fraction of the final dataset that is agent data; 1 mixes in no general data. */
  eta: z.number().gt(0).max(1).default(0.2),
  /**
   * What eta counts: `records` (default; agent records / all records) or `tokens` (agent tokens /
   * all tokens, tokens estimated as characters / 4 over every turn): general examples are added
   * in seeded order until their tokens reach agent tokens x (1 - eta) / eta.
   */
  etaBasis: z.enum(['records', 'tokens']).default('records'),
  seed: z.number().int().default(0),
  validationFraction: z.number().min(0).max(1).default(0),
  dedupe: z.boolean().default(true),
  bufferSize: z.number().int().min(1).default(10_000),
});
export type AssemblyConfigInput = z.input<typeof assemblyConfigSchema>;

export interface AssemblyStats {
  revision: number;
  good: number;
  /** General records chosen for the mix, and how many were offered. */
  general: number;
  generalAvailable: number;
  duplicatesRemoved: number;
  train: number;
  validation: number;
  /**
   * Agent share actually reached, in the config's etaBasis: higher than asked when general data
   * runs short; with tokens, lower by at most the last general example's share.
   */
  achievedEta: number;
}

export interface AssembledDataset {
  stats: AssemblyStats;
  train(): AsyncGenerator<TrainingExample>;
  validation(): AsyncGenerator<TrainingExample>;
}

const SOURCE_STRIDE = 2 ** 32;

/** Identity of a training example for de-duplication: its turns and which of them are trained. */
export function contentHash(example: TrainingExample): number {
  return stableHashNumber(JSON.stringify(example.messages.map((m) => [m.role, m.content, isTrained(m)])));
}

interface Ref {
  key: number;
  hash: number;
  tokens: number;
}

const exampleTokens = (example: TrainingExample): number =>
  example.messages.reduce((sum, m) => sum + estimateTokens(m.content), 0);

const byHashThenKey = (a: Ref, b: Ref): number => a.hash - b.hash || a.key - b.key;

export async function assembleDataset(
  sources: readonly DatasetSource[],
  configInput: AssemblyConfigInput = {},
): Promise<AssembledDataset> {
  const config = assemblyConfigSchema.parse(configInput);
  const agent: Ref[] = [];
  const general: Ref[] = [];
  const seen = new Set<number>();
  const tally = { revision: 0, good: 0, duplicatesRemoved: 0 };
  for (let s = 0; s < sources.length; s++) {
    const source = sources[s] as DatasetSource;
    let ordinal = 0;
    for await (const item of source.open()) {
      const example = asExample(item);
      const isGeneral = example.kind === 'general';
      if (isGeneral !== (source.role === 'general')) {
        throw new Error(`source "${source.name}" (${source.role}) yielded a ${example.kind} example`);
      }
      const ref = {
        key: s * SOURCE_STRIDE + ordinal++,
        hash: contentHash(example),
        tokens: exampleTokens(example),
      };
      if (config.dedupe && seen.has(ref.hash)) {
        tally.duplicatesRemoved++;
        continue;
      }
      seen.add(ref.hash);
      if (isGeneral) general.push(ref);
      else {
        agent.push(ref);
        tally[example.kind === 'revision' ? 'revision' : 'good']++;
      }
    }
  }
  // Sorting by content first makes the outcome independent of source order.
  const size = config.etaBasis === 'tokens' ? (r: Ref) => r.tokens : () => 1;
  const agentSize = agent.reduce((sum, r) => sum + size(r), 0);
  const wanted = config.eta >= 1 ? 0 : Math.round((agentSize * (1 - config.eta)) / config.eta);
  const shuffled = createRng(deriveSeed(config.seed, 'general')).shuffle(general.sort(byHashThenKey));
  const chosen: Ref[] = [];
  let chosenSize = 0;
  for (const ref of shuffled) {
    if (chosenSize >= wanted) break;
    chosen.push(ref);
    chosenSize += size(ref);
  }
  const all = createRng(deriveSeed(config.seed, 'order')).shuffle([...agent, ...chosen].sort(byHashThenKey));
  const validationCount = Math.round(all.length * config.validationFraction);
  const validation = all.slice(0, validationCount);
  const train = all.slice(validationCount);
  seen.clear();
  return {
    stats: {
      ...tally,
      general: chosen.length,
      generalAvailable: general.length,
      train: train.length,
      validation: validation.length,
      achievedEta: agentSize + chosenSize === 0 ? 1 : agentSize / (agentSize + chosenSize),
    },
    train: () => materialize(sources, train, config.bufferSize),
    validation: () => materialize(sources, validation, config.bufferSize),
  };
}

/** Yields the referenced records in `order`, one window of `bufferSize` at a time. */
async function* materialize(
  sources: readonly DatasetSource[],
  order: readonly Ref[],
  bufferSize: number,
): AsyncGenerator<TrainingExample> {
  for (let start = 0; start < order.length; start += bufferSize) {
    const window = order.slice(start, start + bufferSize);
    const slot = new Map<number, number>();
    const lastOrdinal = new Map<number, number>();
    window.forEach((ref, i) => {
      slot.set(ref.key, i);
      const s = Math.floor(ref.key / SOURCE_STRIDE);
      lastOrdinal.set(s, Math.max(lastOrdinal.get(s) ?? 0, ref.key % SOURCE_STRIDE));
    });
    const buffer: (TrainingExample | undefined)[] = new Array(window.length);
    for (const [s, last] of lastOrdinal) {
      const source = sources[s] as DatasetSource;
      let ordinal = 0;
      for await (const item of source.open()) {
        const i = slot.get(s * SOURCE_STRIDE + ordinal);
        if (i !== undefined) {
          const example = asExample(item);
          if (contentHash(example) !== window[i]?.hash)
            throw new Error(`source "${source.name}" changed between passes`);
          buffer[i] = example;
        }
        if (++ordinal > last) break;
      }
    }
    for (let i = 0; i < buffer.length; i++) {
      const example = buffer[i];
      if (!example) throw new Error(`a source ended early: record ${window[i]?.key} is missing`);
      yield example;
    }
  }
}
