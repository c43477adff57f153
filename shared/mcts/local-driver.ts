import type { SearchConfigInput } from './config';
import { inFlightExpansions, nextExpansions } from './descent';
import { applyExpansion, failExpansion } from './expansion';
import type { ExpansionChild, ExpansionRequest } from './protocol';
import { createSearch, isComplete, type SearchState } from './state';

// An in-process driver: loops nextExpansions -> expand -> apply/fail until the search is
// complete. Concurrency comes from the search itself (at most `parallelism` jobs out).

export type Expand = (request: ExpansionRequest) => Promise<readonly ExpansionChild[]>;

export interface DriveOptions {
  /** Called with every request as it is issued (e.g. to log the order of expansions). */
  onRequest?: (request: ExpansionRequest) => void;
  /** Safety bound on applied results (default 1,000,000). */
  maxResults?: number;
}

type Outcome = { jobId: string; children: readonly ExpansionChild[] } | { jobId: string; error: string };

function settle(request: ExpansionRequest, expand: Expand): Promise<Outcome> {
  return expand(request).then(
    (children) => ({ jobId: request.jobId, children }),
    (err: unknown) => ({ jobId: request.jobId, error: err instanceof Error ? err.message : String(err) }),
  );
}

/**
 * Drives an existing search (fresh or resumed: outstanding jobs are re-sent) to completion,
 * applying results in the order they settle. An `expand` that throws becomes a failed expansion with the error's message.
 */
export async function driveSearch(
  state: SearchState,
  expand: Expand,
  opts: DriveOptions = {},
): Promise<SearchState> {
  const maxResults = opts.maxResults ?? 1_000_000;
  const inFlight = new Map<string, Promise<Outcome>>();
  // A resumed state may have jobs out already: (re)send them first.
  for (const req of inFlightExpansions(state)) {
    opts.onRequest?.(req);
    inFlight.set(req.jobId, settle(req, expand));
  }
  for (let results = 0; results <= maxResults; results++) {
    for (const req of nextExpansions(state)) {
      opts.onRequest?.(req);
      inFlight.set(req.jobId, settle(req, expand));
    }
    if (inFlight.size === 0) {
      if (isComplete(state)) return state;
      throw new Error('search: stalled with no job in flight');
    }
    const outcome = await Promise.race(inFlight.values());
    inFlight.delete(outcome.jobId);
    if ('error' in outcome) failExpansion(state, outcome.jobId, outcome.error);
    else applyExpansion(state, outcome.jobId, outcome.children);
  }
  throw new Error(`search: more than ${maxResults} results`);
}

/** Creates a search and drives it to completion in-process. */
export function runSearchLocally(
  config: SearchConfigInput,
  root: { observation: string },
  expand: Expand,
  opts?: DriveOptions,
): Promise<SearchState> {
  return driveSearch(createSearch(config, root), expand, opts);
}

/**
 * The reference's call pattern: one task at a time, expansion requests served strictly one
 * at a time, in the reference's order. It is `runSearchLocally` with `parallelism` 1; run
 * tasks one after another to match the reference's outer loop.
 */
export function runReferenceSearch(
  config: SearchConfigInput,
  root: { observation: string },
  expand: Expand,
  opts?: DriveOptions,
): Promise<SearchState> {
  return runSearchLocally({ ...config, parallelism: 1 }, root, expand, opts);
}
