import type { z } from 'zod';

/** Edit distance (insertions, deletions, substitutions, adjacent swaps) between two short strings. */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (rows[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = rows[i] as number[];
      const above = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (above[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (above[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = best;
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/** The closest of `known` to `word`, when close enough to be a likely typo (or a prefix of it). */
export function closest(word: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(word.length / 3));
  if (bestDistance <= limit) return best;
  const prefixed = [...known].filter((k) => word.length >= 3 && k.startsWith(word));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** Long flags named in a command's help text (`--name`), for "did you mean". */
export function flagsInHelp(help: string): string[] {
  return [...new Set([...help.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1] as string))];
}

/** A clear message for node's parseArgs "Unknown option '--x'" error, with the closest known flag. */
export function unknownFlagMessage(message: string, help: string): string | undefined {
  const match = /Unknown option '(-{1,2})([^']+)'/.exec(message);
  if (!match) return undefined;
  const given = match[2] as string;
  const suggestion = closest(given, flagsInHelp(help));
  return `unknown option ${match[1]}${given}${suggestion ? ` (did you mean --${suggestion}?)` : ''}`;
}

/** One schema issue in the user's words, e.g. "--width must be a whole number, got 2.5". */
export function describeIssue(issue: z.core.$ZodIssue, where: string, given?: unknown): string {
  const got = given === undefined ? '' : `, got ${JSON.stringify(given)}`;
  const value = issue as unknown as {
    minimum?: unknown;
    maximum?: unknown;
    inclusive?: boolean;
    expected?: unknown;
    origin?: unknown;
  };
  const numeric = value.origin === 'number' || value.origin === 'int' || value.origin === 'bigint';
  switch (issue.code) {
    case 'invalid_type':
      if (value.expected === 'int') return `${where} must be a whole number${got}`;
      if (value.expected === 'number') return `${where} must be a number${got}`;
      return `${where}: ${issue.message}${got}`;
    case 'too_small':
      if (numeric)
        return `${where} must be ${value.inclusive === false ? 'more than' : 'at least'} ${value.minimum}${got}`;
      return `${where}: ${issue.message}`;
    case 'too_big':
      if (numeric)
        return `${where} must be ${value.inclusive === false ? 'less than' : 'at most'} ${value.maximum}${got}`;
      return `${where}: ${issue.message}`;
    default:
      return `${where}: ${issue.message}${got}`;
  }
}
