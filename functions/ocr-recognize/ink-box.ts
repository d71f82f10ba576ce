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
import { forEachComponent, inkMask } from './ink-mask.ts';

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

/** The ink's box, or undefined when the image holds no ink to speak of. */
export function inkBox(image: RgbImage, o: InkOptions = DEFAULT_INK_OPTIONS): RotatedRect | undefined {
  const { width, height } = image;
  const mask = inkMask(image);
  if (!mask) return undefined;
  const minPixels = Math.max(3, mask.inkPixels * o.minShare);

  // 8-connected components; the row extents of each kept one are its hull's candidates
  const points: Point[] = [];
  const rowMin = new Int32Array(height);
  const rowMax = new Int32Array(height);
  let rows: number[] = [];
  let inBand = !o.band;
  forEachComponent(
    mask.ink,
    width,
    height,
    (x, y) => {
      if (!inBand && y >= o.band![0] && y < o.band![1]) inBand = true;
      if (rowMin[y] === 0) {
        rows.push(y);
        rowMin[y] = x + 1; // stored +1 so that 0 means "not seen"
        rowMax[y] = x + 1;
      } else {
        if (x + 1 < rowMin[y]!) rowMin[y] = x + 1;
        if (x + 1 > rowMax[y]!) rowMax[y] = x + 1;
      }
    },
    (count) => {
      for (const y of rows) {
        if (count >= minPixels && inBand) {
          const x0 = rowMin[y]! - 1;
          const x1 = rowMax[y]!; // right edge of the last pixel
          points.push([x0, y], [x0, y + 1], [x1, y], [x1, y + 1]);
        }
        rowMin[y] = 0;
        rowMax[y] = 0;
      }
      rows = [];
      inBand = !o.band;
    },
  );
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
