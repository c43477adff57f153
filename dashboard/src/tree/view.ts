// The search tree drawn in SVG: nodes coloured by value/reward, sized by visits, finished episodes
// square, failed ones crossed, big subtrees collapsed into "+N" nodes; one pair's good and bad
// paths highlighted with the judged first error marked. Keyboard: arrows move, Enter opens or
// closes a subtree, + / - / 0 zoom.
import { s } from '../dom';
import { num } from '../format';
import { autoCollapse, type Layout, layoutTree } from './layout';
import { meanValue, nodeScore, type TreeModel, type VNode } from './model';
import { PanZoom } from './zoom';

/** About this many nodes are drawn before subtrees start collapsed. */
export const DRAW_BUDGET = 160;

export interface Highlight {
  good: string[];
  bad: string[];
  /** The bad path's node at t' (the judged first error), and its label. */
  firstError: string | null;
  firstErrorLabel: string;
  /** The good path's node where the revision resumes. */
  resume: string | null;
}

/** Red (0) through amber to green (1); grey before any visit. */
export function scoreColor(score: number | null): string {
  if (score === null) return '#b7bec6';
  const t = Math.min(1, Math.max(0, score));
  return `hsl(${Math.round(t * 120)} 65% ${Math.round(42 + 6 * (1 - Math.abs(t - 0.5) * 2))}%)`;
}

function radius(node: VNode): number {
  return 5 + Math.min(6, 1.6 * Math.log2(1 + node.visits));
}

export function describeNode(node: VNode): string {
  const parts = [`node ${node.id}`, `depth ${node.depth}`, `visits ${node.visits}`];
  const q = meanValue(node);
  if (q !== null) parts.push(`value ${num(q)}`);
  if (node.done) parts.push(`finished, reward ${num(node.reward)}`);
  else if (node.terminal) parts.push('terminal');
  if (node.failed) parts.push('failed (disaster)');
  if (node.error) parts.push('expansion failed');
  if (node.judgement) parts.push(`judged ${node.judgement}`);
  if (node.action) parts.push(`action: ${node.action}`);
  return parts.join(', ');
}

export class TreeView {
  readonly svg: SVGSVGElement;
  collapsed = new Set<string>();
  selected: string | null = null;
  private highlight: Highlight | null = null;
  private layout: Layout | null = null;
  private readonly viewport: SVGGElement;
  private readonly edges: SVGPathElement;
  private readonly overlay: SVGGElement;
  private readonly nodeLayer: SVGGElement;
  private readonly zoom: PanZoom;
  private sizes = new Map<string, number>();
  /** While true the collapsed set follows the tree's growth; opening or closing a subtree ends it. */
  private auto = true;
  private collapsedAtSize = -1;
  /** How the view last fitted (and keeps fitting while it follows the tree). */
  private fitAll = false;

  constructor(
    private readonly model: TreeModel,
    label: string,
    private readonly onSelect: (node: VNode) => void,
  ) {
    this.edges = s('path', { class: 'edges' });
    this.overlay = s('g', { class: 'overlay' });
    this.nodeLayer = s('g', { class: 'nodes', role: 'group' });
    this.viewport = s('g', { class: 'viewport' }, this.edges, this.overlay, this.nodeLayer);
    this.svg = s('svg', { class: 'tree', role: 'tree', tabindex: '0', 'aria-label': label }, this.viewport);
    this.zoom = new PanZoom(this.svg, this.viewport);
    this.svg.addEventListener('click', (e) => this.onClick(e));
    this.svg.addEventListener('keydown', (e) => this.onKey(e));
  }

  /** Number of nodes drawn right now. */
  get drawnCount(): number {
    return this.layout?.order.length ?? 0;
  }

  render(): void {
    if (this.auto && this.model.size !== this.collapsedAtSize) {
      this.collapsedAtSize = this.model.size;
      this.collapsed = autoCollapse(this.model, DRAW_BUDGET);
      const h = this.highlight;
      for (const id of [...(h?.good ?? []), ...(h?.bad ?? []), ...(this.selected ? [this.selected] : [])])
        this.openTo(id);
    }
    this.sizes = this.model.subtreeSizes();
    const layout = layoutTree(this.model, this.collapsed, this.sizes);
    this.layout = layout;
    let d = '';
    const nodes: SVGGElement[] = [];
    for (const id of layout.order) {
      const node = this.model.get(id)!;
      const p = layout.pos.get(id)!;
      if (node.parentId !== null) {
        const q = layout.pos.get(node.parentId);
        if (q) d += `M${q.x} ${q.y}L${p.x} ${p.y}`;
      }
      nodes.push(this.drawNode(node, p.x, p.y, layout.hidden.get(id)));
    }
    this.edges.setAttribute('d', d);
    this.nodeLayer.replaceChildren(...nodes);
    this.drawHighlight();
    if (this.selected && !layout.pos.has(this.selected)) this.selected = null;
    this.markSelected();
    // Until the user moves the view, it follows the tree as it grows.
    if (layout.order.length && !this.zoom.touched) this.fit(this.fitAll);
  }

  private drawNode(node: VNode, x: number, y: number, hiddenCount: number | undefined): SVGGElement {
    const r = radius(node);
    const fill = scoreColor(nodeScore(node));
    const classes = ['node'];
    if (node.done) classes.push('done');
    if (node.terminal) classes.push('terminal');
    if (node.failed || node.error) classes.push('failed');
    if (node.judgement) classes.push(`judged-${node.judgement}`);
    if (hiddenCount !== undefined) classes.push('collapsed');
    const shape = node.done
      ? s('rect', { x: -r, y: -r, width: 2 * r, height: 2 * r, rx: 2, fill })
      : s('circle', { r, fill, class: node.terminal ? 'dead' : null });
    const parent = node.parentId === null ? undefined : this.model.get(node.parentId);
    const g = s(
      'g',
      {
        class: classes.join(' '),
        id: `tn-${node.id}`,
        'data-node-id': node.id,
        transform: `translate(${x} ${y})`,
        role: 'treeitem',
        'aria-level': node.depth + 1,
        'aria-setsize': parent ? parent.children.length : 1,
        'aria-posinset': parent ? parent.children.indexOf(node.id) + 1 : 1,
        'aria-expanded': node.children.length ? String(hiddenCount === undefined) : null,
        'aria-selected': 'false',
        'aria-label': describeNode(node),
      },
      s('title', null, describeNode(node)),
      shape,
      node.visits > 0 ? s('text', { class: 'visits', y: r + 11 }, String(node.visits)) : null,
      node.failed || node.error ? s('path', { class: 'cross', d: 'M-4 -4L4 4M4 -4L-4 4' }) : null,
      node.judgement === 'bad' ? s('path', { class: 'judged-mark', d: `M${r - 1} ${-r - 6}l4 7h-8z` }) : null,
      hiddenCount !== undefined ? s('text', { class: 'more', x: r + 4, y: 4 }, `+${hiddenCount}`) : null,
    );
    return g;
  }

  private drawHighlight(): void {
    const layout = this.layout;
    const h = this.highlight;
    this.overlay.replaceChildren();
    for (const el of this.nodeLayer.querySelectorAll('.on-good, .on-bad'))
      el.classList.remove('on-good', 'on-bad');
    if (!layout || !h) return;
    const pathD = (ids: string[]) => {
      let d = '';
      for (let i = 1; i < ids.length; i++) {
        const a = layout.pos.get(ids[i - 1]!);
        const b = layout.pos.get(ids[i]!);
        if (a && b) d += `M${a.x} ${a.y}L${b.x} ${b.y}`;
      }
      return d;
    };
    this.overlay.append(
      s('path', { class: 'path-bad', d: pathD(h.bad) }),
      s('path', { class: 'path-good', d: pathD(h.good) }),
    );
    for (const id of h.bad) this.nodeLayer.querySelector(`#tn-${CSS.escape(id)}`)?.classList.add('on-bad');
    for (const id of h.good) this.nodeLayer.querySelector(`#tn-${CSS.escape(id)}`)?.classList.add('on-good');
    // The first error's label goes right of its node, the resume label left of its own.
    const mark = (id: string | null, cls: string, text: string, side: 1 | -1) => {
      const p = id ? layout.pos.get(id) : undefined;
      if (!p) return;
      this.overlay.append(
        s(
          'g',
          { class: cls, transform: `translate(${p.x} ${p.y})` },
          s('circle', { r: 15 }),
          s('text', { x: 19 * side, y: -10, 'text-anchor': side > 0 ? 'start' : 'end' }, text),
        ),
      );
    };
    mark(h.firstError, 'mark-first-error', h.firstErrorLabel, 1);
    mark(h.resume, 'mark-resume', 'revision resumes here', -1);
  }

  /** Highlights a pair's paths, opening any collapsed node on them, and brings them into view. */
  setHighlight(h: Highlight | null, focus: 'good' | 'bad' | null = null): void {
    this.highlight = h;
    if (h) for (const id of [...h.good, ...h.bad]) this.openTo(id);
    this.render();
    if (!h) return;
    const target =
      focus === 'good'
        ? h.good.at(-1)
        : focus === 'bad'
          ? h.bad.at(-1)
          : (h.firstError ?? h.bad.at(-1) ?? h.good.at(-1));
    // Both paths in view (at a readable scale), the chosen node selected.
    const points = [...h.good, ...h.bad].map((id) => this.layout?.pos.get(id)).filter((p) => p !== undefined);
    if (points.length) {
      const xs = points.map((p) => p.x);
      const ys = points.map((p) => p.y);
      const anchor = target ? this.layout?.pos.get(target) : undefined;
      this.zoom.fit(
        {
          x0: Math.min(...xs) - 60,
          y0: Math.min(...ys) - 30,
          x1: Math.max(...xs) + 200,
          y1: Math.max(...ys) + 30,
        },
        40,
        { minScale: 0.5, anchor },
      );
      this.zoom.touched = true;
    }
    if (target) this.select(target);
  }

  /** Opens every collapsed ancestor of `id` (not `id` itself). */
  private openTo(id: string): void {
    const path = this.model.pathTo(id);
    for (const a of path.slice(0, -1)) this.collapsed.delete(a);
  }

  toggle(id: string): void {
    const node = this.model.get(id);
    if (!node || node.children.length === 0) return;
    this.auto = false;
    if (this.collapsed.has(id)) this.collapsed.delete(id);
    else this.collapsed.add(id);
    this.render();
  }

  expandAll(): void {
    this.auto = false;
    this.collapsed.clear();
    this.render();
    this.fit(false);
  }

  collapseToBudget(): void {
    this.auto = true;
    this.collapsedAtSize = -1;
    this.render();
    this.fit(false);
  }

  /**
   * Shows the whole drawn tree; with `readable`, never smaller than a scale where nodes can still
   * be told apart (then the root's top part is shown and the rest is a pan away).
   */
  fit(all = true): void {
    this.fitAll = all;
    const l = this.layout;
    if (!l?.order.length) return;
    const bounds = { x0: -20, y0: -20, x1: l.width + 40, y1: l.height + 30 };
    const root = this.model.rootId ? l.pos.get(this.model.rootId) : undefined;
    this.zoom.fit(bounds, 40, all ? undefined : { minScale: 0.3, anchor: root });
  }

  zoomBy(factor: number): void {
    this.zoom.zoomAt(factor);
  }

  select(id: string, opts: { center?: boolean } = {}): void {
    const node = this.model.get(id);
    if (!node) return;
    this.openTo(id);
    if (!this.layout?.pos.has(id)) this.render();
    this.selected = id;
    this.markSelected();
    const p = this.layout?.pos.get(id);
    if (p && (opts.center || !this.zoom.visible(p.x, p.y))) this.zoom.center(p.x, p.y);
    this.onSelect(node);
  }

  private markSelected(): void {
    for (const el of this.nodeLayer.querySelectorAll('.selected')) {
      el.classList.remove('selected');
      el.setAttribute('aria-selected', 'false');
    }
    const el = this.selected ? this.nodeLayer.querySelector(`#tn-${CSS.escape(this.selected)}`) : null;
    if (el) {
      el.classList.add('selected');
      el.setAttribute('aria-selected', 'true');
      this.svg.setAttribute('aria-activedescendant', el.id);
    } else {
      this.svg.removeAttribute('aria-activedescendant');
    }
  }

  private onClick(e: MouseEvent): void {
    if (this.zoom.wasDrag()) return;
    const g = (e.target as Element).closest('g.node');
    const id = g?.getAttribute('data-node-id');
    if (!id) return;
    if (this.collapsed.has(id)) this.toggle(id);
    this.select(id);
  }

  private onKey(e: KeyboardEvent): void {
    const cur = this.selected ? this.model.get(this.selected) : undefined;
    const visibleChildren = (n: VNode) => (this.collapsed.has(n.id) ? [] : n.children);
    const sibling = (n: VNode, delta: number) => {
      const parent = n.parentId === null ? undefined : this.model.get(n.parentId);
      if (!parent) return undefined;
      return parent.children[parent.children.indexOf(n.id) + delta];
    };
    let next: string | undefined;
    switch (e.key) {
      case 'ArrowUp':
        next = cur ? (cur.parentId ?? undefined) : (this.model.rootId ?? undefined);
        break;
      case 'ArrowDown':
        next = cur ? visibleChildren(cur)[0] : (this.model.rootId ?? undefined);
        break;
      case 'ArrowLeft':
        next = cur ? sibling(cur, -1) : undefined;
        break;
      case 'ArrowRight':
        next = cur ? sibling(cur, 1) : undefined;
        break;
      case 'Home':
        next = this.model.rootId ?? undefined;
        break;
      case 'Enter':
      case ' ':
        if (cur) this.toggle(cur.id);
        break;
      case '+':
      case '=':
        this.zoomBy(1.25);
        break;
      case '-':
        this.zoomBy(0.8);
        break;
      case '0':
        this.fit();
        break;
      default:
        return;
    }
    e.preventDefault();
    if (next) this.select(next);
  }
}
