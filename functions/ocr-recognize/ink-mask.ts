/**
 * A line image's ink, for the two places that measure it (ink-box.ts: where the line is;
 * letter-case.ts: how tall each letter is): the image binarised at Otsu's threshold with ink the
 * minority side (so light text on dark works too), and its 8-connected components.
 */
import type { RgbImage } from 'fastgshare/templates/onnx-node/runtime/image.ts';

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

export interface InkMask {
  /** 1 where a pixel is ink, row by row. */
  ink: Uint8Array;
  /** How many pixels are ink. */
  inkPixels: number;
}

/** The image's ink at Otsu's threshold, or undefined when the image is all one class. */
export function inkMask(image: RgbImage): InkMask | undefined {
  const { width, height, pixels } = image;
  const n = width * height;
  const gray = new Uint8Array(n);
  const histogram = new Uint32Array(256);
  for (let i = 0; i < n; i++) {
    gray[i] = (pixels[3 * i]! * 299 + pixels[3 * i + 1]! * 587 + pixels[3 * i + 2]! * 114 + 500) / 1000;
    histogram[gray[i]!]!++;
  }
  const t = otsuThreshold(histogram);
  let dark = 0;
  for (let i = 0; i <= t; i++) dark += histogram[i]!;
  if (dark === 0 || dark === n) return undefined;
  const inkIsDark = dark <= n - dark;
  const ink = new Uint8Array(n);
  for (let i = 0; i < n; i++) ink[i] = gray[i]! <= t === inkIsDark ? 1 : 0;
  return { ink, inkPixels: inkIsDark ? dark : n - dark };
}

/**
 * Walks each 8-connected component of `ink` (a width × height mask): `pixel` for each of its pixels, then `done` with
 * its pixel count, component after component.
 */
export function forEachComponent(
  ink: Uint8Array,
  width: number,
  height: number,
  pixel: (x: number, y: number) => void,
  done: (count: number) => void,
): void {
  const seen = new Uint8Array(ink.length);
  const stack: number[] = [];
  for (let start = 0; start < ink.length; start++) {
    if (!ink[start] || seen[start]) continue;
    seen[start] = 1;
    stack.push(start);
    let count = 0;
    while (stack.length > 0) {
      const i = stack.pop()!;
      const x = i % width;
      const y = (i - x) / width;
      count++;
      pixel(x, y);
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const j = ny * width + nx;
          if (ink[j] && !seen[j]) {
            seen[j] = 1;
            stack.push(j);
          }
        }
      }
    }
    done(count);
  }
}
