import {
  applyExpansion,
  createRngState,
  type ExpansionChild,
  type ExpansionRequest,
  failExpansion,
  inFlightExpansions,
  isComplete,
  mixSeeds,
  nextExpansions,
  nextRandom,
  type RngState,
  randomIndex,
  type SearchConfig,
  type SearchState,
  uctScore,
} from '../../../shared/mcts';

/** A scripted policy + environment: children as a function of the responses so far. */
export type Script = (key: string) => ExpansionChild[];

/** Path key of a request: the responses from the root, joined by '/' (root: ''). */
export function keyOf(req: ExpansionRequest): string {
  return req.path
    .slice(1)
    .map((s) => s.response)
    .join('/');
}

/** Key of a node in a state. */
export function nodeKey(state: SearchState, id: string): string {
  const parts: string[] = [];
  let cur = state.nodes[Number(id)]!;
  while (cur.parentId !== null) {
    parts.push(cur.response);
    cur = state.nodes[Number(cur.parentId)]!;
  }
  return parts.reverse().join('/');
}

/** Shorthand for a scripted child. */
export function child(response: string, extra: Partial<ExpansionChild> = {}): ExpansionChild {
  return {
    response,
    action: `do ${response}`,
    observation: `saw ${response}`,
    reward: 0,
    done: false,
    ...extra,
  };
}

/** A script from a table; unknown keys are a test bug. */
export function tableScript(table: Record<string, ExpansionChild[]>): Script {
  return (key) => {
    const children = table[key];
    if (!children) throw new Error(`script has no entry for '${key}'`);
    return children;
  };
}

export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** A random but fixed tree: each key's children derive from (treeSeed, key) only. */
export function randomScript(treeSeed: number, width: number, pDone = 0.15, pFailed = 0.1): Script {
  return (key) => {
    const rng = createRngState(mixSeeds(treeSeed, hashString(key)));
    const out: ExpansionChild[] = [];
    for (let i = 0; i < width; i++) {
      // Few distinct letters so duplicate responses are common.
      const letter = 'abcde'[randomIndex(rng, Math.min(5, width + 1))]!;
      const done = nextRandom(rng) < pDone;
      const failed = nextRandom(rng) < pFailed;
      const reward = [0, 0.25, 0.5, 1][randomIndex(rng, 4)]!;
      out.push(child(letter, { done, failed, reward: done ? reward : reward * 0.1 }));
    }
    return out;
  };
}

/**
 * Drives a state synchronously. `pick` chooses which outstanding job's result arrives next
 * (default: the oldest). Returns the expansion order as path keys.
 */
export function runSync(
  state: SearchState,
  script: Script,
  opts: {
    pick?: (pending: ExpansionRequest[]) => number;
    onStep?: (pending: ExpansionRequest[]) => void;
  } = {},
): string[] {
  const order: string[] = [];
  // A resumed state may already have jobs out.
  const pending: ExpansionRequest[] = inFlightExpansions(state);
  for (let guard = 0; guard < 100_000; guard++) {
    for (const req of nextExpansions(state)) {
      order.push(keyOf(req));
      pending.push(req);
    }
    opts.onStep?.(pending);
    if (pending.length === 0) {
      if (!isComplete(state)) throw new Error('stalled');
      return order;
    }
    const [req] = pending.splice(opts.pick ? opts.pick(pending) : 0, 1);
    const r = applyExpansion(state, req!.jobId, script(keyOf(req!)));
    if (!r.accepted) throw new Error(`job ${req!.jobId} not accepted`);
  }
  throw new Error('runSync: too many steps');
}

export { failExpansion };

// ---------------------------------------------------------------------------------------
// An independent, object-based port of the reference loop (recursive nodes, expand then
// select until select returns nothing), used to check the state machine step by step.

interface RefNode {
  key: string;
  parent: RefNode | null;
  depth: number;
  children: RefNode[];
  visits: number;
  value: number;
  terminal: boolean;
  reward: number;
}

export interface RefResult {
  order: string[];
  stats: Map<string, { visits: number; value: number; terminal: boolean }>;
  iterationsRun: number;
}

export function referenceSearch(config: SearchConfig, script: Script): RefResult {
  const rng: RngState = createRngState(config.seed);
  const order: string[] = [];
  const all: RefNode[] = [];
  const root: RefNode = {
    key: '',
    parent: null,
    depth: 0,
    children: [],
    visits: 0,
    value: 0,
    terminal: false,
    reward: 0,
  };
  all.push(root);

  const backprop = (start: RefNode, reward: number) => {
    for (let n: RefNode | null = start; n; n = n.parent) {
      n.visits += 1;
      n.value += reward;
      n.terminal = n.children.every((c) => c.terminal);
    }
  };
  const expand = (node: RefNode) => {
    if (node.children.length > 0) return;
    order.push(node.key);
    const seen = new Set<string>();
    for (const s of script(node.key)) {
      if (seen.has(s.response)) continue;
      seen.add(s.response);
      const depth = node.depth + 1;
      const failed = s.failed === true;
      const c: RefNode = {
        key: node.key === '' ? s.response : `${node.key}/${s.response}`,
        parent: node,
        depth,
        children: [],
        visits: 0,
        value: 0,
        terminal: depth > config.maxDepth || s.done || failed,
        reward: failed ? 0 : s.reward,
      };
      node.children.push(c);
      all.push(c);
    }
    for (const c of node.children) if (c.terminal) backprop(c, c.reward);
  };
  const bestChild = (node: RefNode): RefNode | null => {
    let best = Number.NEGATIVE_INFINITY;
    let cands: RefNode[] = [];
    for (const c of node.children) {
      if (c.terminal) continue;
      const score = uctScore(c.value, c.visits, node.visits, config.c);
      if (score > best) {
        best = score;
        cands = [c];
      } else if (score === best) cands.push(c);
    }
    if (cands.length === 0) {
      node.terminal = true;
      return null;
    }
    return cands.length === 1 ? cands[0]! : cands[randomIndex(rng, cands.length)]!;
  };
  const select = (start: RefNode): RefNode | null => {
    let node: RefNode | null = start;
    while (node && node.children.length > 0) node = bestChild(node);
    return node;
  };

  let iterationsRun = 0;
  for (let it = 0; it < config.iterations; it++) {
    if (root.terminal) break;
    iterationsRun += 1;
    let node: RefNode | null = root;
    for (let guard = 0; node && !node.terminal && guard < 10_000; guard++) {
      expand(node);
      node = select(node);
    }
  }
  const stats = new Map(all.map((n) => [n.key, { visits: n.visits, value: n.value, terminal: n.terminal }]));
  return { order, stats, iterationsRun };
}
