/**
 * DB (differentiable binarisation) post-processing, axis-aligned: the probability map is
 * thresholded, each 4-connected region becomes its bounding box, boxes whose mean probability is
 * below `boxThreshold` are dropped, and survivors are grown ("unclipped") by
 * area × unclipRatio / perimeter on every side, as DB's Vatti offset does for a rectangle.
 */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
  score: number;
}

export interface DbOptions {
  threshold: number;
  boxThreshold: number;
  unclipRatio: number;
  /** Boxes whose shorter side (before unclipping) is below this are noise. */
  minSize: number;
}

export const DEFAULT_DB_OPTIONS: DbOptions = { threshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.5, minSize: 3 };

/**
 * Boxes in the `width` × `height` region at the top-left of a probability map `mapWidth` wide,
 * starting at `offset` in `prob`.
 */
export function dbBoxes(prob: Float32Array, offset: number, mapWidth: number, width: number, height: number, o: DbOptions = DEFAULT_DB_OPTIONS): Box[] {
  const seen = new Uint8Array(width * height);
  const stack: number[] = [];
  const boxes: Box[] = [];
  const p = (x: number, y: number) => prob[offset + y * mapWidth + x];
  for (let y0 = 0; y0 < height; y0++) {
    for (let x0 = 0; x0 < width; x0++) {
      if (seen[y0 * width + x0] || p(x0, y0) <= o.threshold) continue;
      let minX = x0;
      let maxX = x0;
      let minY = y0;
      let maxY = y0;
      seen[y0 * width + x0] = 1;
      stack.push(y0 * width + x0);
      while (stack.length > 0) {
        const i = stack.pop()!;
        const x = i % width;
        const y = (i - x) / width;
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
        for (const [nx, ny] of [
          [x - 1, y],
          [x + 1, y],
          [x, y - 1],
          [x, y + 1],
        ]) {
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const j = ny * width + nx;
          if (seen[j] || p(nx, ny) <= o.threshold) continue;
          seen[j] = 1;
          stack.push(j);
        }
      }
      const w = maxX - minX + 1;
      const h = maxY - minY + 1;
      if (Math.min(w, h) < o.minSize) continue;
      let sum = 0;
      for (let y = minY; y <= maxY; y++) for (let x = minX; x <= maxX; x++) sum += p(x, y);
      const score = sum / (w * h);
      if (score < o.boxThreshold) continue;
      const d = (w * h * o.unclipRatio) / (2 * (w + h));
      const x1 = Math.max(0, minX - d);
      const y1 = Math.max(0, minY - d);
      const x2 = Math.min(width, maxX + 1 + d);
      const y2 = Math.min(height, maxY + 1 + d);
      boxes.push({ x: x1, y: y1, width: x2 - x1, height: y2 - y1, score });
    }
  }
  return boxes;
}
