/**
 * Capital or small, for the letters whose two forms have one shape (c o s v w x z): the recogniser
 * sees the line scaled to 48 px and often gets these wrong ("oslo", "carol" for "Oslo", "Carol"),
 * although their height tells: a capital is as tall as the line's capitals and digits, a small
 * letter as its x-height. So each such letter is measured on the line image: its pieces of ink are
 * those centred between halfway to the previous and halfway to the next letter, each letter placed
 * by the CTC time steps that read it (one step per 8 input columns); a piece reaching a
 * neighbour's centre (letters run together) gives no height. Its height is compared with those of
 * the line's unambiguous letters: small ones of x-height (a e m n r u) and capitals and digits (or,
 * on a line without any, the letters with ascenders b d h k l, which stand a little taller).
 * Heights, not tops, so that a slight remaining skew does not matter. A letter is changed only when
 * the line gives both references (or one of them and the usual ratio of the two, 1.35), they are at
 * least 2 px apart, and the letter's height is clearly nearer the other one (beyond 30 % of the gap
 * from the midpoint). On 21 px text after blur and JPEG the two heights can be 1 px apart: such a
 * letter stays as the model read it.
 */
import type { RgbImage } from 'fastgshare/templates/onnx-node/runtime/image.ts';
import { median } from 'fastgshare/core/stats/percentile.ts';
import { forEachComponent, inkMask } from './ink-mask.ts';

const SAME_SHAPE = new Set('cosvwxzCOSVWXZ');
const X_HEIGHT = new Set('aemnru');
const CAP_HEIGHT = new Set('ABDEFHKLMNPRTU0123456789');
/** Ascenders stand a little taller than capitals in most fonts: the capitals' height only when a line has none. */
const ASCENDERS = new Set('bdhkl');
/** Capital height over x-height when the line shows only one of them (DejaVu 1.33, Liberation Mono 1.30). */
const CAP_OVER_X = 1.35;
/** How far beyond the midpoint between x-height and capital height, as a share of the gap, a letter must be. */
const MARGIN = 0.3;
/** Input columns per CTC time step. */
const COLUMNS_PER_STEP = 8;

/** A connected piece of ink: its bounding box (x1, y1 exclusive). */
export interface InkPiece {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/**
 * The image's pieces of ink (8-connected, at Otsu's threshold, ink the minority side), without
 * specks smaller than a share of all ink.
 */
export function inkPieces(image: RgbImage, minShare = 0.002): InkPiece[] {
  const mask = inkMask(image);
  if (!mask) return [];
  const minPixels = Math.max(3, mask.inkPixels * minShare);
  const pieces: InkPiece[] = [];
  let p = { x0: image.width, x1: 0, y0: image.height, y1: 0 };
  forEachComponent(
    mask.ink,
    image.width,
    image.height,
    (x, y) => {
      if (x < p.x0) p.x0 = x;
      if (x + 1 > p.x1) p.x1 = x + 1;
      if (y < p.y0) p.y0 = y;
      if (y + 1 > p.y1) p.y1 = y + 1;
    },
    (count) => {
      if (count >= minPixels) pieces.push(p);
      p = { x0: image.width, x1: 0, y0: image.height, y1: 0 };
    },
  );
  return pieces;
}

/**
 * `text` (as CTC decoding gave it, `spans` its characters' time steps) with c o s v w x z in the
 * case their height on `image` says; `inputWidth` is the width the image was scaled to for the model.
 */
export function fixLetterCase(
  text: string,
  spans: readonly [number, number][],
  image: RgbImage,
  inputWidth: number,
): string {
  const chars = [...text];
  if (chars.length !== spans.length || !chars.some((c) => SAME_SHAPE.has(c))) return text;
  const pieces = inkPieces(image);
  const scale = image.width / inputWidth;
  // each character's centre on the image, from the middle of its time steps
  const centres = spans.map(([first, last], i) =>
    first < 0 || chars[i] === ' ' ? undefined : ((first + last + 1) / 2) * COLUMNS_PER_STEP * scale,
  );
  const read = centres.map((c, i) => [c, i] as const).filter((e): e is readonly [number, number] => e[0] !== undefined);
  const heights: (number | undefined)[] = new Array(chars.length).fill(undefined);
  read.forEach(([c, i], k) => {
    const before = read[k - 1]?.[0];
    const after = read[k + 1]?.[0];
    // the character's share of the line: halfway to its neighbours' centres
    const left = before === undefined ? -Infinity : (before + c) / 2;
    const right = after === undefined ? Infinity : (c + after) / 2;
    const own = pieces.filter((p) => (p.x0 + p.x1) / 2 >= left && (p.x0 + p.x1) / 2 < right);
    // a piece reaching a neighbour's centre is two letters run together: no height to trust
    if (
      own.length === 0 ||
      own.some((p) => (before !== undefined && p.x0 <= before) || (after !== undefined && p.x1 > after))
    )
      return;
    heights[i] = Math.max(...own.map((p) => p.y1)) - Math.min(...own.map((p) => p.y0));
  });
  const pick = (set: Set<string>) => {
    const hs = heights.filter((h, i): h is number => h !== undefined && set.has(chars[i]!));
    return hs.length > 0 ? median(hs) : undefined;
  };
  let xHeight = pick(X_HEIGHT);
  let capHeight = pick(CAP_HEIGHT) ?? pick(ASCENDERS);
  if (xHeight === undefined && capHeight === undefined) return text;
  xHeight ??= capHeight! / CAP_OVER_X;
  capHeight ??= xHeight * CAP_OVER_X;
  const gap = capHeight - xHeight;
  if (gap < 2) return text;
  const mid = (xHeight + capHeight) / 2;
  return chars
    .map((c, i) => {
      const h = heights[i];
      if (!SAME_SHAPE.has(c) || h === undefined) return c;
      if (h >= mid + MARGIN * gap) return c.toUpperCase();
      if (h <= mid - MARGIN * gap) return c.toLowerCase();
      return c;
    })
    .join('');
}
