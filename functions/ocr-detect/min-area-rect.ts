/**
 * Rotated rectangles for text boxes: the minimum-area enclosing rectangle of a point set (one of
 * its sides lies on a convex-hull edge, so each hull edge's direction is tried), its corners as a
 * quadrilateral in a chosen reading direction, and growing it on every side.
 * Image coordinates: x to the right, y down; angles in degrees, clockwise from the x axis.
 */
import { convexHull, type Point } from './convex-hull.ts';

export interface RotatedRect {
  cx: number;
  cy: number;
  /** The longer side (along `angle`). */
  width: number;
  height: number;
  /** Direction of the longer side, in (−90, 90]. */
  angle: number;
}

/** Four corners: top-left, top-right, bottom-right, bottom-left of the text as it reads. */
export type Quad = [Point, Point, Point, Point];

const DEG = Math.PI / 180;

export function minAreaRect(points: readonly Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 0) throw new Error('minAreaRect needs at least one point');
  if (hull.length < 3) {
    const [a, b = a] = hull as [Point, Point?];
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    return normalise({
      cx: (a[0] + b[0]) / 2,
      cy: (a[1] + b[1]) / 2,
      width: len,
      height: 0,
      angle: len === 0 ? 0 : Math.atan2(b[1] - a[1], b[0] - a[0]) / DEG,
    });
  }
  let best: RotatedRect | undefined;
  let bestArea = Infinity;
  for (let i = 0; i < hull.length; i++) {
    const p = hull[i]!;
    const q = hull[(i + 1) % hull.length]!;
    const len = Math.hypot(q[0] - p[0], q[1] - p[1]);
    if (len === 0) continue;
    const ux = (q[0] - p[0]) / len;
    const uy = (q[1] - p[1]) / len;
    let minU = Infinity;
    let maxU = -Infinity;
    let minV = Infinity;
    let maxV = -Infinity;
    for (const h of hull) {
      const u = h[0] * ux + h[1] * uy;
      const v = -h[0] * uy + h[1] * ux;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea - 1e-9) {
      bestArea = area;
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = {
        cx: cu * ux - cv * uy,
        cy: cu * uy + cv * ux,
        width: maxU - minU,
        height: maxV - minV,
        angle: Math.atan2(uy, ux) / DEG,
      };
    }
  }
  return normalise(best!);
}

/** The longer side first, its direction in (−90, 90]. */
function normalise(r: RotatedRect): RotatedRect {
  let { width, height, angle } = r;
  if (height > width) {
    [width, height] = [height, width];
    angle += 90;
  }
  angle = ((((angle + 90) % 180) + 180) % 180) - 90; // [−90, 90)
  if (angle === -90) angle = 90;
  return { cx: r.cx, cy: r.cy, width, height, angle };
}

/** The rectangle grown by `d` on every side. */
export function growRect(r: RotatedRect, d: number): RotatedRect {
  return { ...r, width: r.width + 2 * d, height: r.height + 2 * d };
}

/**
 * A quadrilateral [top-left, top-right, bottom-right, bottom-left] grown by `dx` along its top edge's direction and
 * `dy` across, on both sides.
 */
export function growQuad(q: Quad, dx: number, dy: number): Quad {
  const unit = (a: Point, b: Point): Point => {
    const l = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1;
    return [(b[0] - a[0]) / l, (b[1] - a[1]) / l];
  };
  const u = unit(q[0], q[1]);
  const v = unit(q[0], q[3]);
  const move = (p: Point, su: number, sv: number): Point => [
    p[0] + su * dx * u[0] + sv * dy * v[0],
    p[1] + su * dx * u[1] + sv * dy * v[1],
  ];
  return [move(q[0], -1, -1), move(q[1], 1, -1), move(q[2], 1, 1), move(q[3], -1, 1)];
}

/**
 * The rectangle's corners for text that reads along whichever of its four side directions is
 * closest to `readingAngle` (0: left to right, 90: top to bottom, 180: right to left, 270: bottom
 * to top): [top-left, top-right, bottom-right, bottom-left] as that text reads.
 */
export function rectQuad(r: RotatedRect, readingAngle = 0): Quad {
  const want = readingAngle * DEG;
  let best = 0;
  let bestDot = -Infinity;
  for (let k = 0; k < 4; k++) {
    const a = r.angle * DEG + (k * Math.PI) / 2;
    const dot = Math.cos(a - want);
    if (dot > bestDot + 1e-9) {
      bestDot = dot;
      best = k;
    }
  }
  const a = r.angle * DEG + (best * Math.PI) / 2;
  // along the reading direction: the long side for k = 0, 2, the short one for k = 1, 3
  const along = best % 2 === 0 ? r.width : r.height;
  const across = best % 2 === 0 ? r.height : r.width;
  const ux = Math.cos(a);
  const uy = Math.sin(a);
  const vx = -uy; // "down" in the text's frame (u turned 90° clockwise on screen)
  const vy = ux;
  const at = (su: number, sv: number): Point => [
    r.cx + (su * along * ux) / 2 + (sv * across * vx) / 2,
    r.cy + (su * along * uy) / 2 + (sv * across * vy) / 2,
  ];
  return [at(-1, -1), at(1, -1), at(1, 1), at(-1, 1)];
}

/** Axis-aligned bounds of points. */
export function bounds(points: readonly Point[]): { x: number; y: number; width: number; height: number } {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const [x, y] of points) {
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}
