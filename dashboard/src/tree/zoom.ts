// Pan (drag) and zoom (wheel, buttons, keys) of an SVG group, kept as translate + scale.

export interface Bounds {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const MIN_SCALE = 0.02;
const MAX_SCALE = 4;

export class PanZoom {
  k = 1;
  x = 0;
  y = 0;
  /** Set once the user zooms, pans or centres a node; `fit()` clears it (the view follows growth). */
  touched = false;
  private dragStart: { px: number; py: number; x: number; y: number } | null = null;
  private moved = 0;

  constructor(
    private readonly svg: SVGSVGElement,
    private readonly target: SVGGElement,
  ) {
    svg.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        const r = svg.getBoundingClientRect();
        this.zoomAt(
          Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0015)),
          e.clientX - r.left,
          e.clientY - r.top,
        );
      },
      { passive: false },
    );
    svg.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      this.dragStart = { px: e.clientX, py: e.clientY, x: this.x, y: this.y };
      this.moved = 0;
    });
    svg.addEventListener('pointermove', (e) => {
      if (!this.dragStart) return;
      const dx = e.clientX - this.dragStart.px;
      const dy = e.clientY - this.dragStart.py;
      this.moved = Math.max(this.moved, Math.abs(dx) + Math.abs(dy));
      if (this.moved > 3) {
        if (!svg.hasPointerCapture(e.pointerId)) svg.setPointerCapture(e.pointerId);
        svg.classList.add('panning');
        this.touched = true;
        this.x = this.dragStart.x + dx;
        this.y = this.dragStart.y + dy;
        this.apply();
      }
    });
    const end = (e: PointerEvent) => {
      this.dragStart = null;
      svg.classList.remove('panning');
      if (svg.hasPointerCapture(e.pointerId)) svg.releasePointerCapture(e.pointerId);
    };
    svg.addEventListener('pointerup', end);
    svg.addEventListener('pointercancel', end);
  }

  /** True when the last pointer gesture was a drag (its click must not select). */
  wasDrag(): boolean {
    return this.moved > 3;
  }

  apply(): void {
    this.target.setAttribute(
      'transform',
      `translate(${this.x.toFixed(1)} ${this.y.toFixed(1)}) scale(${this.k.toFixed(4)})`,
    );
  }

  size(): { w: number; h: number } {
    const r = this.svg.getBoundingClientRect();
    return { w: r.width || 800, h: r.height || 500 };
  }

  /** Zooms by `factor` keeping the screen point (cx, cy) still (default: the centre). */
  zoomAt(factor: number, cx?: number, cy?: number): void {
    const { w, h } = this.size();
    const px = cx ?? w / 2;
    const py = cy ?? h / 2;
    this.touched = true;
    const k = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.k * factor));
    this.x = px - ((px - this.x) * k) / this.k;
    this.y = py - ((py - this.y) * k) / this.k;
    this.k = k;
    this.apply();
  }

  /**
   * Shows all of `b` (tree coordinates), never magnifying beyond 1.5x. With `readable`, the scale
   * stays at least `minScale`: then the anchor (the root) is put at the top centre instead.
   */
  fit(
    b: Bounds,
    pad = 40,
    readable?: { minScale: number; anchor: { x: number; y: number } | undefined },
  ): void {
    const { w, h } = this.size();
    const bw = Math.max(1, b.x1 - b.x0);
    const bh = Math.max(1, b.y1 - b.y0);
    this.touched = false;
    const k = Math.min(1.5, Math.max(MIN_SCALE, Math.min((w - 2 * pad) / bw, (h - 2 * pad) / bh)));
    if (readable && k < readable.minScale && readable.anchor) {
      this.k = readable.minScale;
      this.x = w / 2 - readable.anchor.x * this.k;
      this.y = pad - b.y0 * this.k;
    } else {
      this.k = k;
      this.x = (w - bw * this.k) / 2 - b.x0 * this.k;
      this.y = (h - bh * this.k) / 2 - b.y0 * this.k;
    }
    this.apply();
  }

  /** Puts the tree point (px, py) in the middle of the view. */
  center(px: number, py: number): void {
    const { w, h } = this.size();
    this.touched = true;
    this.x = w / 2 - px * this.k;
    this.y = h / 2 - py * this.k;
    this.apply();
  }

  /** Whether the tree point is on screen (with a margin). */
  visible(px: number, py: number, margin = 30): boolean {
    const { w, h } = this.size();
    const sx = px * this.k + this.x;
    const sy = py * this.k + this.y;
    return sx >= margin && sy >= margin && sx <= w - margin && sy <= h - margin;
  }
}
