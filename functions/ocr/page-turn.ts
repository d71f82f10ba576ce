/**
 * Turning a page by quarter turns clockwise, and taking points on the turned page back to the
 * page. The detector finds lines best on an upright page (on a turned one it splits lines into
 * overlapping pieces), so a page found turned is detected again upright.
 */
import type { RgbImage } from 'fastgshare/templates/onnx-node/runtime/image.ts';
import type { Point } from 'fastgshare/functions/ocr-detect/convex-hull.ts';

export type Quarters = 0 | 1 | 2 | 3;

/** The image turned clockwise by `quarters` × 90°. */
export function turnClockwise(image: RgbImage, quarters: Quarters): RgbImage {
  if (quarters === 0) return image;
  const { width: W, height: H, pixels } = image;
  const out = Buffer.alloc(pixels.length);
  const outW = quarters === 2 ? W : H;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const [tx, ty] = quarters === 1 ? [H - 1 - y, x] : quarters === 2 ? [W - 1 - x, H - 1 - y] : [y, W - 1 - x];
      const s = (y * W + x) * 3;
      const d = (ty * outW + tx) * 3;
      out[d] = pixels[s]!;
      out[d + 1] = pixels[s + 1]!;
      out[d + 2] = pixels[s + 2]!;
    }
  }
  return quarters === 2 ? { width: W, height: H, pixels: out } : { width: H, height: W, pixels: out };
}

/** A point on `page` turned clockwise by `quarters` × 90° (turnClockwise), as a point on `page`. */
export function fromTurned([x, y]: Point, quarters: Quarters, page: { width: number; height: number }): Point {
  switch (quarters) {
    case 0:
      return [x, y];
    case 1:
      return [y, page.height - x];
    case 2:
      return [page.width - x, page.height - y];
    case 3:
      return [page.width - y, x];
  }
}
