import { describe, expect, it } from 'vitest';
import { createSearch, setJudgement, takeDirtyNodeIds, toTreeFile } from '../../../shared/mcts';
import { treeFileSchema } from '../../../shared/contracts/tree-file';
import { child, runSync, tableScript } from './helpers';

describe('toTreeFile', () => {
  const script = tableScript({
    '': [child('b'), child('a', { done: true, reward: 1 }), child('boom', { failed: true })],
    b: [child('z', { done: true, reward: 0.5 })],
  });

  it('writes the Contract shape: nested, children in creation order, root at depth 0', () => {
    const state = createSearch({ iterations: 3, width: 3 }, { observation: 'Crafting commands: ...' });
    runSync(state, script);
    const file = toTreeFile(state, 7);
    expect(treeFileSchema.parse(file)).toEqual(
      JSON.parse(JSON.stringify(file, (k, v) => (k === 'failed' ? undefined : v))),
    );
    expect(file.task).toBe(7);
    expect(file.root).toMatchObject({
      id: '0',
      depth: 0,
      response: '',
      action: '',
      observation: 'Crafting commands: ...',
      reward: 0,
      done: false,
      terminal: true,
      visits: 3,
      value: 1.5,
      judgement: null,
    });
    expect(file.root.children.map((c) => c.response)).toEqual(['b', 'a', 'boom']);
    expect(file.root.children[0]).toMatchObject({
      id: '1',
      depth: 1,
      action: 'do b',
      observation: 'saw b',
      visits: 1,
      value: 0.5,
      terminal: true,
      children: [
        { id: '4', response: 'z', reward: 0.5, done: true, terminal: true, visits: 1, children: [] },
      ],
    });
    // Extension fields appear only when set.
    expect(file.root.children[2]).toMatchObject({ failed: true, reward: 0 });
    expect(file.root.children[1]).not.toHaveProperty('failed');
    expect(file.root.children[1]).not.toHaveProperty('error');
  });

  it('carries judgements set on nodes and marks them dirty', () => {
    const state = createSearch({ iterations: 3, width: 3 }, { observation: 's' });
    runSync(state, script);
    takeDirtyNodeIds(state);
    setJudgement(state, '1', 'bad');
    setJudgement(state, '4', 'uncertain');
    setJudgement(state, '4', 'uncertain');
    expect(takeDirtyNodeIds(state)).toEqual(['1', '4']);
    const file = toTreeFile(state, 0);
    expect(file.root.children[0]!.judgement).toBe('bad');
    expect(file.root.children[0]!.children[0]!.judgement).toBe('uncertain');
    expect(() => setJudgement(state, '99', 'good')).toThrow();
  });
});
