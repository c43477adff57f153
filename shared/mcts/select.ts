import { randomIndex } from '../random';
import type { SearchState } from './state';
import { getNode } from './tree-ops';

/**
 * Virtual loss: every node on another in-flight descent's path counts as one extra visit
 * with reward 0, so concurrent descents spread out. With one descent there is none.
 */
export function virtualLossFor(state: SearchState, selfDescentId: number): Map<string, number> {
  const loss = new Map<string, number>();
  for (const d of state.descents) {
    if (d.id === selfDescentId) continue;
    for (const id of d.path) loss.set(id, (loss.get(id) ?? 0) + 1);
  }
  return loss;
}

/** UCT = Q + c * sqrt(ln N(parent) / N(child)); +Infinity for a child never visited. */
export function uctScore(value: number, visits: number, parentVisits: number, c: number): number {
  if (visits <= 0) return Number.POSITIVE_INFINITY;
  // parentVisits >= visits >= 1 whenever counts are consistent; guard ln(0) anyway.
  const logN = Math.log(Math.max(parentVisits, 1));
  return value / visits + c * Math.sqrt(logN / visits);
}

/**
 * The reference's best_child: skip terminal children, take the highest score, break exact
 * ties uniformly with the seeded RNG (drawn only when there is more than one candidate).
 * Returns null when every child is terminal.
 */
export function selectChild(
  state: SearchState,
  parentId: string,
  virtualLoss: ReadonlyMap<string, number> = new Map(),
): string | null {
  const parent = getNode(state, parentId);
  const parentVisits = parent.visits + (virtualLoss.get(parentId) ?? 0);
  let best = Number.NEGATIVE_INFINITY;
  let candidates: string[] = [];
  for (const childId of parent.childIds) {
    const child = getNode(state, childId);
    if (child.terminal) continue;
    const visits = child.visits + (virtualLoss.get(childId) ?? 0);
    const score = uctScore(child.value, visits, parentVisits, state.config.c);
    if (score > best) {
      best = score;
      candidates = [childId];
    } else if (score === best) {
      candidates.push(childId);
    }
  }
  if (candidates.length === 0) return null;
  if (candidates.length === 1) return candidates[0]!;
  return candidates[randomIndex(state.rng, candidates.length)]!;
}
