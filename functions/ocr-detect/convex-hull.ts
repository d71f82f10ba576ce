/**
 * Convex hull of points in the plane (Andrew's monotone chain): the corners only, collinear
 * points dropped, each corner once. Fewer than three distinct points come back as they are
 * (deduplicated); points all on one line give that segment's two ends.
 */
export type Point = readonly [number, number];

const cross = (o: Point, a: Point, b: Point) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);

export function convexHull(points: readonly Point[]): Point[] {
  const sorted = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const unique = sorted.filter((p, i) => i === 0 || p[0] !== sorted[i - 1]![0] || p[1] !== sorted[i - 1]![1]);
  if (unique.length < 3) return unique;
  const chain = (pts: Point[]) => {
    const out: Point[] = [];
    for (const p of pts) {
      while (out.length >= 2 && cross(out[out.length - 2]!, out[out.length - 1]!, p) <= 0) out.pop();
      out.push(p);
    }
    out.pop(); // the last point starts the other chain
    return out;
  };
  const hull = [...chain(unique), ...chain([...unique].reverse())];
  return hull; // two points when all are collinear: its ends
}
