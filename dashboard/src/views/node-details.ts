// The side panel of the tree page: one node's thought, action and observation.
import { type Child, h } from '../dom';
import { num } from '../format';
import { meanValue, type VNode } from '../tree/model';

export function nodeDetails(
  node: VNode | null,
  actions: { toggle(id: string): void; select(id: string): void; collapsed(id: string): boolean },
): Child[] {
  if (!node)
    return [
      h('h2', null, 'Node'),
      h(
        'p',
        { class: 'muted' },
        'Click a node (or focus the tree and use the arrow keys) to see its thought, action and observation.',
      ),
    ];
  const flags: string[] = [];
  if (node.done) flags.push('episode finished');
  if (node.terminal && !node.done) flags.push('terminal');
  if (node.failed) flags.push('failed (disaster)');
  if (node.error) flags.push('expansion failed');
  const q = meanValue(node);
  const facts: [string, string][] = [
    ['Depth', String(node.depth)],
    ['Visits', String(node.visits)],
    ['Value (mean)', q === null ? '—' : num(q)],
    ['Reward', num(node.reward)],
    ['Children', String(node.children.length)],
    ['Judgement', node.judgement ?? 'not judged'],
  ];
  const block = (title: string, text: string, cls = '') =>
    text ? [h('h3', null, title), h('pre', { class: `text ${cls}` }, text)] : [];
  return [
    h('h2', null, node.depth === 0 ? 'Root (first observation)' : `Node ${node.id}`),
    flags.length
      ? h(
          'p',
          { class: 'flags' },
          flags.map((f) => h('span', { class: 'chip' }, f)),
        )
      : null,
    h(
      'dl',
      { class: 'facts' },
      facts.map(([k, v]) =>
        h('div', null, h('dt', null, k), h('dd', { class: k === 'Judgement' ? `judgement-${v}` : '' }, v)),
      ),
    ),
    h(
      'div',
      { class: 'button-row' },
      node.parentId !== null
        ? h('button', { type: 'button', onclick: () => actions.select(node.parentId!) }, 'Parent')
        : null,
      node.children.length
        ? h(
            'button',
            { type: 'button', onclick: () => actions.toggle(node.id) },
            actions.collapsed(node.id) ? 'Expand subtree' : 'Collapse subtree',
          )
        : null,
    ),
    ...block('Thought (response)', node.response),
    node.action ? [h('h3', null, 'Action'), h('p', null, h('code', { class: 'action' }, node.action))] : null,
    ...block(node.depth === 0 ? 'First observation' : 'Observation', node.observation),
    ...block('Why the expansion failed', node.error ?? '', 'error-text'),
  ];
}
