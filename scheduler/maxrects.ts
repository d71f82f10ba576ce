/**
 * MaxRects bin packing (best-area fit) of a device's time × SM square, as FaST-GShare's scheduler
 * does: the bin is 1000 (quota × 1000) by 100 (SM %); a replica is a quota × partition rectangle.
 */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export class MaxRectsBin {
  private free: Rect[];
  used = 0;

  constructor(
    readonly width = 1000,
    readonly height = 100,
  ) {
    this.free = [{ x: 0, y: 0, w: width, h: height }];
  }

  /** Leftover area of the best free rectangle for w × h, or undefined when it does not fit. */
  fit(w: number, h: number): { rect: Rect; leftover: number; shortSide: number } | undefined {
    let best: { rect: Rect; leftover: number; shortSide: number } | undefined;
    for (const f of this.free) {
      if (w > f.w || h > f.h) continue;
      const leftover = f.w * f.h - w * h;
      const shortSide = Math.min(f.w - w, f.h - h);
      if (!best || leftover < best.leftover || (leftover === best.leftover && shortSide < best.shortSide))
        best = { rect: f, leftover, shortSide };
    }
    return best;
  }

  insert(w: number, h: number): Rect | undefined {
    const f = this.fit(w, h);
    if (!f) return undefined;
    const placed = { x: f.rect.x, y: f.rect.y, w, h };
    const next: Rect[] = [];
    for (const r of this.free) {
      if (placed.x >= r.x + r.w || placed.x + placed.w <= r.x || placed.y >= r.y + r.h || placed.y + placed.h <= r.y) {
        next.push(r);
        continue;
      }
      if (placed.x > r.x) next.push({ x: r.x, y: r.y, w: placed.x - r.x, h: r.h });
      if (placed.x + placed.w < r.x + r.w)
        next.push({ x: placed.x + placed.w, y: r.y, w: r.x + r.w - placed.x - placed.w, h: r.h });
      if (placed.y > r.y) next.push({ x: r.x, y: r.y, w: r.w, h: placed.y - r.y });
      if (placed.y + placed.h < r.y + r.h)
        next.push({ x: r.x, y: placed.y + placed.h, w: r.w, h: r.y + r.h - placed.y - placed.h });
    }
    this.free = next.filter(
      (a, i) =>
        !next.some(
          (b, j) =>
            j !== i &&
            a.x >= b.x &&
            a.y >= b.y &&
            a.x + a.w <= b.x + b.w &&
            a.y + a.h <= b.y + b.h &&
            (j < i || a.w !== b.w || a.h !== b.h || a.x !== b.x || a.y !== b.y),
        ),
    );
    this.used += w * h;
    return placed;
  }
}
