/**
 * Cropping a text line by a perspective transform: the quadrilateral [top-left, top-right,
 * bottom-right, bottom-left] of the line becomes an upright rectangle (a rotated or skewed line
 * comes out level). The homography maps the output rectangle onto the quadrilateral; each output
 * pixel is sampled bilinearly at its centre, coordinates outside the image clamped to its edge.
 */
import type { RgbImage } from 'fastgshare/templates/onnx-node/runtime/image.ts';
import type { Point } from 'fastgshare/functions/ocr-detect/convex-hull.ts';
import type { Quad } from 'fastgshare/functions/ocr-detect/min-area-rect.ts';

/** 3×3 row-major, h[8] = 1. */
export type Homography = Float64Array;

/**
 * The homography taking each point of `from` to the point of `to` with the same index (four
 * point pairs, no three points of either collinear).
 */
export function homography(from: readonly Point[], to: readonly Point[]): Homography {
  // h0 x + h1 y + h2 − h6 x X − h7 y X = X, h3 x + h4 y + h5 − h6 x Y − h7 y Y = Y
  const a: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = from[i]!;
    const [X, Y] = to[i]!;
    a.push([x, y, 1, 0, 0, 0, -x * X, -y * X, X]);
    a.push([0, 0, 0, x, y, 1, -x * Y, -y * Y, Y]);
  }
  const h = solve(a);
  return Float64Array.from([...h, 1]);
}

/** Gaussian elimination with partial pivoting on an n × (n+1) augmented matrix. */
function solve(a: number[][]): number[] {
  const n = a.length;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    if (Math.abs(a[p]![c]!) < 1e-12) throw new Error('degenerate quadrilateral: three of its corners are on one line');
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      if (f === 0) continue;
      for (let k = c; k <= n; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return a.map((row, i) => row[n]! / row[i]!);
}

export function applyHomography(h: Homography, x: number, y: number): Point {
  const w = h[6]! * x + h[7]! * y + h[8]!;
  return [(h[0]! * x + h[1]! * y + h[2]!) / w, (h[3]! * x + h[4]! * y + h[5]!) / w];
}

/** The size a quadrilateral's crop gets: its longer top/bottom side by its longer left/right side. */
export function quadSize(q: Quad): { width: number; height: number } {
  const d = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);
  return {
    width: Math.max(1, Math.round(Math.max(d(q[0], q[1]), d(q[3], q[2])))),
    height: Math.max(1, Math.round(Math.max(d(q[0], q[3]), d(q[1], q[2])))),
  };
}

/**
 * The quadrilateral `q` of `image` as an upright `width` × `height` image (default: quadSize). A
 * degenerate quadrilateral (three corners on one line) gives its axis-aligned bounds instead.
 */
export function perspectiveCrop(image: RgbImage, q: Quad, size = quadSize(q)): RgbImage {
  const { width, height } = size;
  const corners: Point[] = [
    [0, 0],
    [width, 0],
    [width, height],
    [0, height],
  ];
  let h: Homography;
  try {
    h = homography(corners, q);
  } catch {
    const xs = q.map((p) => p[0]);
    const ys = q.map((p) => p[1]);
    const [x0, y0] = [Math.min(...xs), Math.min(...ys)];
    const [x1, y1] = [Math.max(Math.max(...xs), x0 + 1), Math.max(Math.max(...ys), y0 + 1)];
    h = homography(corners, [
      [x0, y0],
      [x1, y0],
      [x1, y1],
      [x0, y1],
    ]);
  }
  const src = image.pixels;
  const W = image.width;
  const H = image.height;
  const out = Buffer.alloc(width * height * 3);
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const [sx, sy] = applyHomography(h, i + 0.5, j + 0.5);
      // pixel centres are at +0.5: sample between the four nearest
      const fx = Math.min(W - 1, Math.max(0, sx - 0.5));
      const fy = Math.min(H - 1, Math.max(0, sy - 0.5));
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const x1 = Math.min(W - 1, x0 + 1);
      const y1 = Math.min(H - 1, y0 + 1);
      const ax = fx - x0;
      const ay = fy - y0;
      const o = (j * width + i) * 3;
      for (let c = 0; c < 3; c++) {
        const top = src[(y0 * W + x0) * 3 + c]! * (1 - ax) + src[(y0 * W + x1) * 3 + c]! * ax;
        const bottom = src[(y1 * W + x0) * 3 + c]! * (1 - ax) + src[(y1 * W + x1) * 3 + c]! * ax;
        out[o + c] = Math.round(top * (1 - ay) + bottom * ay);
      }
    }
  }
  return { width, height, pixels: out };
}
