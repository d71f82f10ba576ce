/**
 * Reading order of text boxes, for text turned clockwise by 0, 90, 180 or 270 degrees (its
 * reading direction then points at that angle; image axes: x right, y down).
 */
import type { Point } from './convex-hull.ts';
import type { Quad } from './min-area-rect.ts';

export type Angle = 0 | 90 | 180 | 270;

const len = (a: Point, b: Point) => Math.hypot(b[0] - a[0], b[1] - a[1]);

/**
 * The same four corners renumbered so that p0→p1 runs in the reading direction `angle` (the
 * side whose direction is closest to it): the crop of the result is the text upright.
 */
export function quadForAngle(q: Quad, angle: Angle): Quad {
  const want = (angle * Math.PI) / 180;
  let best = 0;
  let bestDot = -Infinity;
  for (let k = 0; k < 4; k++) {
    const a = q[k]!;
    const b = q[(k + 1) % 4]!;
    const l = len(a, b) || 1;
    const dot = ((b[0] - a[0]) * Math.cos(want) + (b[1] - a[1]) * Math.sin(want)) / l;
    if (dot > bestDot + 1e-9) {
      bestDot = dot;
      best = k;
    }
  }
  return [q[best]!, q[(best + 1) % 4]!, q[(best + 2) % 4]!, q[(best + 3) % 4]!];
}

/**
 * The quads grouped into the lines of text turned by `angle`, in reading order: lines by position
 * across (top to bottom as the text reads); quads whose centres are within half a line height of
 * a line's first quad, across, are on that line, left to right as it reads.
 */
export function readingRows(quads: readonly Quad[], angle: Angle): number[][] {
  const a = (angle * Math.PI) / 180;
  const d: Point = [Math.cos(a), Math.sin(a)]; // along a line
  const n: Point = [-d[1], d[0]]; // across, to the next line
  const keyed = quads.map((q, i) => {
    const c: Point = [(q[0][0] + q[1][0] + q[2][0] + q[3][0]) / 4, (q[0][1] + q[1][1] + q[2][1] + q[3][1]) / 4];
    const r = quadForAngle(q, angle);
    return { i, along: c[0] * d[0] + c[1] * d[1], across: c[0] * n[0] + c[1] * n[1], height: len(r[0], r[3]) };
  });
  keyed.sort((p, q) => p.across - q.across);
  const rows: (typeof keyed)[] = [];
  for (const k of keyed) {
    const row = rows[rows.length - 1];
    const first = row?.[0];
    if (row && first && Math.abs(k.across - first.across) < Math.min(k.height, first.height) / 2) row.push(k);
    else rows.push([k]);
  }
  return rows.map((row) => row.sort((p, q) => p.along - q.along).map((k) => k.i));
}

/** Indices of the quads in reading order (readingRows, one line after another). */
export function readingOrder(quads: readonly Quad[], angle: Angle): number[] {
  return readingRows(quads, angle).flat();
}
