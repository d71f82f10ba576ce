/**
 * Pieces of one line become one box. The detector's map sometimes breaks a line into pieces that
 * overlap or nearly touch (a word of x-height letters next to one with capitals, text turned
 * upside down): boxes running the same way, on the same line (centres within half the higher
 * box's height across) and at most `maxGap` × that height apart along it, are grouped (with the
 * pieces they in turn touch), and each group becomes the minimum-area rectangle around it.
 */
import type { MapBox } from './db-postprocess.ts';
import { minAreaRect, rectQuad, type RotatedRect } from './min-area-rect.ts';

/** Boxes whose directions differ by more than this (degrees) never merge. */
const MAX_ANGLE_DIFF = 10;

export function mergePieces(boxes: readonly MapBox[], maxGap = 0.5): MapBox[] {
  const parent = boxes.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++)
      if (sameLine(boxes[i]!.rect, boxes[j]!.rect, maxGap)) parent[root(j)] = root(i);
  }
  const groups = new Map<number, MapBox[]>();
  boxes.forEach((b, i) => groups.set(root(i), [...(groups.get(root(i)) ?? []), b]));
  return [...groups.values()].map((group) => {
    if (group.length === 1) return group[0]!;
    const areas = group.map((b) => b.rect.width * b.rect.height);
    const total = areas.reduce((a, v) => a + v, 0) || 1;
    return {
      rect: minAreaRect(group.flatMap((b) => rectQuad(b.rect))),
      score: group.reduce((a, b, k) => a + b.score * areas[k]!, 0) / total,
    };
  });
}

function sameLine(a: RotatedRect, b: RotatedRect, maxGap: number): boolean {
  const diff = Math.abs(((a.angle - b.angle + 270) % 180) - 90);
  if (diff > MAX_ANGLE_DIFF) return false;
  // along and across the wider box's direction
  const ref = a.width >= b.width ? a : b;
  const t = (ref.angle * Math.PI) / 180;
  const ux = Math.cos(t);
  const uy = Math.sin(t);
  const dx = b.cx - a.cx;
  const dy = b.cy - a.cy;
  const along = Math.abs(dx * ux + dy * uy);
  const across = Math.abs(-dx * uy + dy * ux);
  const height = Math.max(a.height, b.height);
  if (across > height / 2) return false;
  return along - (a.width + b.width) / 2 <= maxGap * height;
}
