/**
 * Where the text is in a text-line image, from its ink: the image is binarised at Otsu's threshold
 * (ink is the minority side, so light text on dark works too), specks smaller than a share of all
 * ink are dropped, and the minimum-area rectangle of what is left is the line's box. A line handed
 * to ocr-recognize may have wide margins and a slight skew; the recogniser was trained on tight,
 * level crops (what the detector's boxes give), so the box is what gets cropped.
 */
import type { RgbImage } from 'fastgshare/templates/onnx-node/runtime/image.ts';
import type { Point } from 'fastgshare/functions/ocr-detect/convex-hull.ts';
import { bounds, minAreaRect, type RotatedRect } from 'fastgshare/functions/ocr-detect/min-area-rect.ts';

export interface InkOptions {
  /** Components with fewer pixels than this share of all ink (or than 3) are specks. */
  minShare: number;
  /**
   * Only components reaching into these rows [from, to) count (the line itself, not its neighbours' ascenders and
   * descenders).
   */
  band?: [number, number];
  /** A box turned further than this from level is not trusted (the axis-aligned one is used). */
  maxAngle: number;
}

export const DEFAULT_INK_OPTIONS: InkOptions = { minShare: 0.002, maxAngle: 8 };

/** Otsu's threshold of an 8-bit histogram: the level that best separates the two classes. */
export function otsuThreshold(histogram: ArrayLike<number>): number {
  let total = 0;
  let sum = 0;
  for (let i = 0; i < 256; i++) {
    total += histogram[i]!;
    sum += i * histogram[i]!;
  }
  let best = 0;
  let bestVar = -1;
  let w0 = 0;
  let sum0 = 0;
  for (let t = 0; t < 256; t++) {
    w0 += histogram[t]!;
    if (w0 === 0) continue;
    const w1 = total - w0;
    if (w1 === 0) break;
    sum0 += t * histogram[t]!;
    const m0 = sum0 / w0;
    const m1 = (sum - sum0) / w1;
    const v = w0 * w1 * (m0 - m1) * (m0 - m1);
    if (v > bestVar) {
      bestVar = v;
      best = t;
    }
  }
  return best;
}

/** The ink's box, or undefined when the image holds no ink to speak of. */
export function inkBox(image: RgbImage, o: InkOptions = DEFAULT_INK_OPTIONS): RotatedRect | undefined {
  const { width, height, pixels } = image;
  const n = width * height;
  const gray = new Uint8Array(n);
  const histogram = new Uint32Array(256);
  for (let i = 0; i < n; i++) {
    const g = (pixels[3 * i]! * 299 + pixels[3 * i + 1]! * 587 + pixels[3 * i + 2]! * 114 + 500) / 1000;
    gray[i] = g;
    histogram[gray[i]!]!++;
  }
  const t = otsuThreshold(histogram);
  let dark = 0;
  for (let i = 0; i <= t; i++) dark += histogram[i]!;
  if (dark === 0 || dark === n) return undefined;
  const inkIsDark = dark <= n - dark;
  const ink = new Uint8Array(n);
  for (let i = 0; i < n; i++) ink[i] = gray[i]! <= t === inkIsDark ? 1 : 0;
  const total = inkIsDark ? dark : n - dark;
  const minPixels = Math.max(3, total * o.minShare);

  // 8-connected components; the row extents of each kept one are its hull's candidates
  const label = new Int32Array(n);
  const points: Point[] = [];
  const stack: number[] = [];
  const rowMin = new Int32Array(height);
  const rowMax = new Int32Array(height);
  let next = 0;
  for (let start = 0; start < n; start++) {
    if (!ink[start] || label[start]) continue;
    next++;
    const rows: number[] = [];
    let count = 0;
    let inBand = !o.band;
    label[start] = next;
    stack.push(start);
    while (stack.length > 0) {
      const i = stack.pop()!;
      const x = i % width;
      const y = (i - x) / width;
      count++;
      if (!inBand && y >= o.band![0] && y < o.band![1]) inBand = true;
      if (rowMin[y] === 0) {
        rows.push(y);
        rowMin[y] = x + 1; // stored +1 so that 0 means "not seen"
        rowMax[y] = x + 1;
      } else {
        if (x + 1 < rowMin[y]!) rowMin[y] = x + 1;
        if (x + 1 > rowMax[y]!) rowMax[y] = x + 1;
      }
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const j = ny * width + nx;
          if (ink[j] && !label[j]) {
            label[j] = next;
            stack.push(j);
          }
        }
      }
    }
    for (const y of rows) {
      if (count >= minPixels && inBand) {
        const x0 = rowMin[y]! - 1;
        const x1 = rowMax[y]!; // right edge of the last pixel
        points.push([x0, y], [x0, y + 1], [x1, y], [x1, y + 1]);
      }
      rowMin[y] = 0;
      rowMax[y] = 0;
    }
  }
  if (points.length === 0) return undefined;
  const rect = minAreaRect(points);
  if (Math.abs(rect.angle) <= o.maxAngle) return rect;
  // not level enough to trust (a short word's box can tilt): the axis-aligned box of the ink
  const b = bounds(points);
  const [cx, cy] = [b.x + b.width / 2, b.y + b.height / 2];
  return b.width >= b.height
    ? { cx, cy, width: b.width, height: b.height, angle: 0 }
    : { cx, cy, width: b.height, height: b.width, angle: 90 };
}
