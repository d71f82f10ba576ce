/**
 * Page orientation for the ocr pipeline. Angles are how far the text is turned clockwise (0, 90,
 * 180, 270); the reading direction of text turned by `a` points at `a` degrees (image axes: x
 * right, y down).
 *
 * Each line box long enough to have a direction (its long side at least 1.5 × its short side, as
 * PaddleOCR's rule for turning crops) votes: its axis says 0/180 (lying) or 90/270 (standing), the
 * direction classifier on its crop says which of the two, and the vote weighs the box's length
 * times the classifier's certainty above chance (2p − 1). The page's angle is the heaviest; the
 * pipeline reads every line of the page in that direction.
 */
import type { Point } from 'fastgshare/functions/ocr-detect/convex-hull.ts';
import type { Quad } from 'fastgshare/functions/ocr-detect/min-area-rect.ts';
import type { Angle } from 'fastgshare/functions/ocr-detect/reading-order.ts';

export type { Angle };

export const ANGLES: readonly Angle[] = [0, 90, 180, 270];

/** A box's long side must be this many times its short side for its direction to count. */
export const MIN_VOTING_ASPECT = 1.5;

export interface LineVote {
  /** The line's corners as ocr-detect gives them (its reading direction 0 or 90). */
  points: Quad;
  /** The direction classifier on the crop read along `points`: 180 when it is upside down. */
  flipped: boolean;
  /** The classifier's probability of its answer, 0.5–1. */
  score: number;
}

const len = (a: Point, b: Point) => Math.hypot(b[0] - a[0], b[1] - a[1]);

/** The quad's direction (0: p0→p1 runs left to right, 90: top to bottom), nearest multiple of 90. */
export function quadAngle(q: Quad): Angle {
  const a = (Math.atan2(q[1][1] - q[0][1], q[1][0] - q[0][0]) * 180) / Math.PI;
  return ((((Math.round(a / 90) * 90) % 360) + 360) % 360) as Angle;
}

/** The page's angle from its lines' votes; 0 when no line votes. Also the weight of each angle. */
export function pageAngle(votes: readonly LineVote[]): { angle: Angle; weights: Record<Angle, number> } {
  const weights: Record<Angle, number> = { 0: 0, 90: 0, 180: 0, 270: 0 };
  for (const v of votes) {
    const along = len(v.points[0], v.points[1]);
    const across = len(v.points[0], v.points[3]);
    if (along < MIN_VOTING_ASPECT * across) continue;
    const angle = ((quadAngle(v.points) + (v.flipped ? 180 : 0)) % 360) as Angle;
    weights[angle] += along * Math.max(0, 2 * v.score - 1);
  }
  let angle: Angle = 0;
  for (const a of ANGLES) if (weights[a] > weights[angle]) angle = a;
  return { angle, weights };
}
