/**
 * DB (differentiable binarisation) post-processing with rotated boxes: the probability map is
 * thresholded, each 4-connected region becomes its minimum-area rectangle (so a skewed or
 * rotated line gets a box that hugs it, not the axis-aligned box around its slope), boxes whose
 * mean probability inside the rectangle is below `boxThreshold` are dropped, and survivors are
 * grown ("unclipped") by area × unclipRatio / perimeter on every side, as DB's polygon offset
 * does for a rectangle.
 */
import type { Point } from './convex-hull.ts';
import { bounds, growRect, minAreaRect, rectQuad, type Quad, type RotatedRect } from './min-area-rect.ts';

export interface Box {
  /** The axis-aligned box around `points`, clamped to the image. */
  x: number;
  y: number;
  width: number;
  height: number;
  score: number;
  /**
   * The rotated box's corners, clockwise from its top-left as the text reads when it runs left to
   * right (or, for an upright box, top to bottom), clamped to the image: [[x, y], …] × 4.
   */
  points: Quad;
}

/** A box in the probability map's pixels, before scaling to the image. */
export interface MapBox {
  rect: RotatedRect;
  score: number;
}

export interface DbOptions {
  threshold: number;
  boxThreshold: number;
  unclipRatio: number;
  /** Boxes whose shorter side (before unclipping) is below this are noise. */
  minSize: number;
  /** At most this many boxes, the highest scores (PaddleOCR's max_candidates). */
  maxBoxes: number;
}

export const DEFAULT_DB_OPTIONS: DbOptions = {
  threshold: 0.3,
  boxThreshold: 0.6,
  unclipRatio: 1.5,
  minSize: 3,
  maxBoxes: 1000,
};

/**
 * Rotated boxes in the `width` × `height` region at the top-left of a probability map `mapWidth`
 * wide, starting at `offset` in `prob`. Rectangles are in map pixels (a pixel covers [x, x+1)).
 */
export function dbRects(
  prob: Float32Array,
  offset: number,
  mapWidth: number,
  width: number,
  height: number,
  o: DbOptions = DEFAULT_DB_OPTIONS,
): MapBox[] {
  const seen = new Uint8Array(width * height);
  const stack: number[] = [];
  const boxes: MapBox[] = [];
  const rowMin = new Int32Array(height).fill(-1);
  const rowMax = new Int32Array(height);
  const p = (x: number, y: number) => prob[offset + y * mapWidth + x]!;
  for (let y0 = 0; y0 < height; y0++) {
    for (let x0 = 0; x0 < width; x0++) {
      if (seen[y0 * width + x0] || p(x0, y0) <= o.threshold) continue;
      const rows: number[] = [];
      seen[y0 * width + x0] = 1;
      stack.push(y0 * width + x0);
      while (stack.length > 0) {
        const i = stack.pop()!;
        const x = i % width;
        const y = (i - x) / width;
        if (rowMin[y] === -1) {
          rows.push(y);
          rowMin[y] = x;
          rowMax[y] = x;
        } else {
          if (x < rowMin[y]!) rowMin[y] = x;
          if (x > rowMax[y]!) rowMax[y] = x;
        }
        if (x > 0) visit(i - 1, x - 1, y);
        if (x + 1 < width) visit(i + 1, x + 1, y);
        if (y > 0) visit(i - width, x, y - 1);
        if (y + 1 < height) visit(i + width, x, y + 1);
      }
      const corners: Point[] = [];
      for (const y of rows) {
        corners.push([rowMin[y]!, y], [rowMin[y]!, y + 1], [rowMax[y]! + 1, y], [rowMax[y]! + 1, y + 1]);
        rowMin[y] = -1;
      }
      const rect = minAreaRect(corners);
      if (rect.height < o.minSize) continue;
      const score = meanInside(rect, p, width, height);
      if (score < o.boxThreshold) continue;
      const d = (rect.width * rect.height * o.unclipRatio) / (2 * (rect.width + rect.height));
      boxes.push({ rect: growRect(rect, d), score });
    }
  }
  return boxes.length <= o.maxBoxes ? boxes : boxes.sort((a, b) => b.score - a.score).slice(0, o.maxBoxes);

  function visit(j: number, x: number, y: number): void {
    if (seen[j] || p(x, y) <= o.threshold) return;
    seen[j] = 1;
    stack.push(j);
  }
}

/** Mean of the map over the pixels whose centres lie inside the rectangle. */
function meanInside(r: RotatedRect, p: (x: number, y: number) => number, width: number, height: number): number {
  const a = (r.angle * Math.PI) / 180;
  const ux = Math.cos(a);
  const uy = Math.sin(a);
  const b = bounds(rectQuad(r));
  let sum = 0;
  let n = 0;
  const x1 = Math.min(width - 1, Math.ceil(b.x + b.width));
  const y1 = Math.min(height - 1, Math.ceil(b.y + b.height));
  for (let y = Math.max(0, Math.floor(b.y)); y <= y1; y++) {
    for (let x = Math.max(0, Math.floor(b.x)); x <= x1; x++) {
      const dx = x + 0.5 - r.cx;
      const dy = y + 0.5 - r.cy;
      if (Math.abs(dx * ux + dy * uy) * 2 > r.width + 1e-9 || Math.abs(-dx * uy + dy * ux) * 2 > r.height + 1e-9)
        continue;
      sum += p(x, y);
      n++;
    }
  }
  return n === 0 ? 0 : sum / n;
}

/** A map box as a box in the image: scaled by (sx, sy) and clamped to imageWidth × imageHeight. */
export function toImageBox(b: MapBox, sx: number, sy: number, imageWidth: number, imageHeight: number): Box {
  const clamp = ([x, y]: Point): Point => [
    round2(Math.min(imageWidth, Math.max(0, x * sx))),
    round2(Math.min(imageHeight, Math.max(0, y * sy))),
  ];
  // upright boxes read top to bottom: reading angle 90 gives their points from that corner
  const reading = Math.abs(b.rect.angle) > 45 ? 90 : 0;
  return boxOf(rectQuad(b.rect, reading).map(clamp) as Quad, b.score);
}

/** A box with these corners: its axis-aligned bounds in whole pixels. */
export function boxOf(points: Quad, score: number): Box {
  const r = bounds(points);
  const x = Math.floor(r.x);
  const y = Math.floor(r.y);
  return { x, y, width: Math.ceil(r.x + r.width) - x, height: Math.ceil(r.y + r.height) - y, score, points };
}

const round2 = (v: number) => Math.round(v * 100) / 100;
