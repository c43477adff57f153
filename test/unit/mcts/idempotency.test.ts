import { describe, expect, it } from 'vitest';
import {
  applyExpansion,
  createSearch,
  failExpansion,
  inFlightExpansions,
  isComplete,
  nextExpansions,
  takeDirtyNodeIds,
  toTreeFile,
} from '../../../shared/mcts';
import { child } from './helpers';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('idempotent results', () => {
  it('applying the same job twice changes nothing the second time', () => {
    const state = createSearch({ iterations: 2 }, { observation: 's' });
    const [req] = nextExpansions(state);
    expect(req).toMatchObject({ jobId: '0:0', nodeId: '0', depth: 0, width: 4 });
    const kids = [child('a', { done: true, reward: 1 }), child('b')];
    expect(applyExpansion(state, req!.jobId, kids)).toEqual({ accepted: true });
    const after = clone(state);
    expect(applyExpansion(state, req!.jobId, kids)).toEqual({ accepted: false });
    expect(applyExpansion(state, req!.jobId, [child('other', { done: true, reward: 1 })])).toEqual({
      accepted: false,
    });
    expect(failExpansion(state, req!.jobId, 'late failure')).toEqual({ accepted: false });
    expect(state).toEqual(after);
    expect(state.nodes[0]).toMatchObject({ visits: 1, value: 1 });
  });

  it('unknown job ids are ignored', () => {
    const state = createSearch({}, { observation: 's' });
    nextExpansions(state);
    const before = clone(state);
    expect(applyExpansion(state, 'nope', [child('x')])).toEqual({ accepted: false });
    expect(applyExpansion(state, '0:1', [child('x')])).toEqual({ accepted: false });
    expect(state).toEqual(before);
  });

  it('a result arriving after its job failed is stale and ignored', () => {
    const state = createSearch({ iterations: 3 }, { observation: 's' });
    const [rootReq] = nextExpansions(state);
    applyExpansion(state, rootReq!.jobId, [child('a'), child('b')]);
    const [req] = nextExpansions(state);
    expect(failExpansion(state, req!.jobId, 'endpoint timed out')).toEqual({ accepted: true });
    const after = clone(state);
    expect(applyExpansion(state, req!.jobId, [child('late', { done: true, reward: 1 })])).toEqual({
      accepted: false,
    });
    expect(state).toEqual(after);
  });

  it('jobs are issued once: nextExpansions does not repeat outstanding jobs', () => {
    const state = createSearch({ parallelism: 3 }, { observation: 's' });
    expect(nextExpansions(state)).toHaveLength(1);
    expect(nextExpansions(state)).toEqual([]);
    expect(inFlightExpansions(state).map((r) => r.jobId)).toEqual(['0:0']);
  });
});

describe('failExpansion', () => {
  it('records the reason, makes the node terminal with reward 0, backs nothing up and ends the descent', () => {
    const state = createSearch({ iterations: 2 }, { observation: 's' });
    const [rootReq] = nextExpansions(state);
    applyExpansion(state, rootReq!.jobId, [
      child('a', { reward: 0.4 }),
      child('b', { done: true, reward: 1 }),
    ]);
    const [req] = nextExpansions(state);
    expect(req!.nodeId).toBe('1');
    failExpansion(state, req!.jobId, 'policy endpoint returned 500 three times');
    expect(state.nodes[1]).toMatchObject({
      terminal: true,
      reward: 0,
      visits: 0,
      value: 0,
      expanded: false,
      error: 'policy endpoint returned 500 three times',
    });
    // Root: only b's backup; its children are now all terminal, so it is pruned too.
    expect(state.nodes[0]).toMatchObject({ visits: 1, value: 1, terminal: true });
    expect(state.descents).toEqual([]);
    expect(state.counters).toMatchObject({ descentsFinished: 1, expansionsFailed: 1, backups: 1 });
    expect(nextExpansions(state)).toEqual([]);
    expect(isComplete(state)).toBe(true);
    const tree = toTreeFile(state, 3);
    expect(tree.root.children[0]).toMatchObject({
      id: '1',
      error: 'policy endpoint returned 500 three times',
    });
  });

  it('a failed root expansion completes the search with an empty tree', () => {
    const state = createSearch({}, { observation: 's' });
    const [req] = nextExpansions(state);
    failExpansion(state, req!.jobId, 'env server down');
    expect(isComplete(state)).toBe(true);
    expect(state.nodes).toHaveLength(1);
  });

  it('an empty child list counts as a failed expansion', () => {
    const state = createSearch({}, { observation: 's' });
    const [req] = nextExpansions(state);
    expect(applyExpansion(state, req!.jobId, [])).toEqual({ accepted: true });
    expect(state.nodes[0]).toMatchObject({ terminal: true, error: 'expansion returned no children' });
  });
});

describe('dirty node tracking', () => {
  it('reports created and changed nodes once', () => {
    const state = createSearch({ iterations: 2 }, { observation: 's' });
    expect(takeDirtyNodeIds(state)).toEqual(['0']);
    expect(takeDirtyNodeIds(state)).toEqual([]);
    const [req] = nextExpansions(state);
    expect(takeDirtyNodeIds(state)).toEqual([]);
    applyExpansion(state, req!.jobId, [child('a'), child('b', { done: true, reward: 1 })]);
    expect(takeDirtyNodeIds(state)).toEqual(['0', '1', '2']);
    const [next] = nextExpansions(state);
    applyExpansion(state, next!.jobId, [child('c', { done: true, reward: 0.5 })]);
    // a expanded and backed up, c created, root backed up; b untouched.
    expect(takeDirtyNodeIds(state)).toEqual(['0', '1', '3']);
  });
});
