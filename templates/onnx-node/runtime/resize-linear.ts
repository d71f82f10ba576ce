/**
 * A synchronous resize of small RGB images that gives what sharp's
 * `resize(width, height, { fit: 'fill', kernel: 'linear' })` gives, to within a grey level or so,
 * without sharp's per-call cost (about 2 ms on this project's machines for a 40 × 400 text line,
 * most of it the hop to libvips' thread pool and back): the text-line models resize one line per
 * request, and that cost was larger than the direction classifier's whole inference.
 *
 * It follows libvips' resize (8.18, as bundled with sharp 0.35), one separable axis at a time:
 * - enlarging an axis samples bilinearly at input position X / scale − 0.5 (libvips' convention,
 *   not OpenCV's (X + 0.5) / scale − 0.5), edge pixels repeated;
 * - shrinking an axis by more than 2 first averages blocks of ⌊factor / 2⌋ pixels (libvips' "gap"
 *   of 2), then reduces the rest with a triangle filter as wide as the remaining factor, centred at
 *   (X + 0.5) · factor − 0.5, edge pixels repeated.
 * The weights are composed into one list of taps per output row and column, and the result is
 * rounded once (libvips rounds after each stage; test/templates/onnx-node/resize-linear.test.ts bounds the
 * difference against sharp).
 */
import type { RgbImage } from './image.ts';

/** For each output index along one axis: the input indices it reads and their weights (sum 1). */
interface AxisTaps {
  /** Offsets into `index` and `weight`: output i uses entries first[i] … first[i + 1] − 1. */
  first: Int32Array;
  index: Int32Array;
  weight: Float64Array;
}

/** Per output index, its taps as [input index, weight] pairs. */
type Taps = Array<Array<[number, number]>>;

/**
 * The taps that resize an axis of `from` pixels to `to` pixels. `enlarging`: whether the resize
 * enlarges either axis; libvips then samples both axes bilinearly in one pass after any reduction,
 * and an axis reduced (or kept) to its size is sampled at X − 0.5, which mixes neighbours half and half.
 */
export function axisTaps(from: number, to: number, enlarging: boolean): AxisTaps {
  let taps: Taps;
  if (to > from) taps = bilinearTaps(from, to);
  else if (to === from) taps = enlarging ? bilinearTaps(to, to) : Array.from({ length: to }, (_, x) => [[x, 1]]);
  else taps = enlarging ? compose(bilinearTaps(to, to), reduceTaps(from, to)) : reduceTaps(from, to);
  const first = new Int32Array(to + 1);
  for (let x = 0; x < to; x++) first[x + 1] = first[x] + taps[x].length;
  const index = new Int32Array(first[to]);
  const weight = new Float64Array(first[to]);
  for (let x = 0, k = 0; x < to; x++)
    for (const [i, w] of taps[x]) {
      index[k] = i;
      weight[k++] = w;
    }
  return { first, index, weight };
}

/** Bilinear samples at X · from / to − 0.5, edge pixels repeated. */
function bilinearTaps(from: number, to: number): Taps {
  const taps: Taps = new Array(to);
  for (let x = 0; x < to; x++) {
    const at = Math.min(from - 1, Math.max(0, (x * from) / to - 0.5));
    const i = Math.floor(at);
    const f = at - i;
    taps[x] =
      f > 0
        ? [
            [i, 1 - f],
            [i + 1, f],
          ]
        : [[i, 1]];
  }
  return taps;
}

/** Block averages of ⌊factor / 2⌋ pixels, then a triangle filter as wide as the remaining factor. */
function reduceTaps(from: number, to: number): Taps {
  const block = Math.max(1, Math.floor(from / to / 2));
  const blocks = Math.ceil(from / block);
  const factor = from / to / block;
  const extra = (to * factor * block - from) / block;
  const taps: Taps = new Array(to);
  for (let x = 0; x < to; x++) {
    const centre = (x + 0.5) * factor - 0.5 - extra / 2;
    const triangle: Array<[number, number]> = [];
    let sum = 0;
    for (let j = Math.ceil(centre - factor); j <= centre + factor; j++) {
      const w = 1 - Math.abs(j - centre) / factor;
      if (w <= 0) continue;
      triangle.push([Math.min(blocks - 1, Math.max(0, j)), w]); // edge pixels repeated
      sum += w;
    }
    const pixels: Array<[number, number]> = [];
    for (const [j, w] of triangle) {
      const end = Math.min(from, (j + 1) * block);
      for (let i = j * block; i < end; i++) pixels.push([i, w / sum / (end - j * block)]);
    }
    taps[x] = pixels;
  }
  return taps;
}

/** `outer` applied to the result of `inner`, as taps on `inner`'s input. */
function compose(outer: Taps, inner: Taps): Taps {
  return outer.map((taps) => {
    const merged = new Map<number, number>();
    for (const [j, w] of taps) for (const [i, v] of inner[j]) merged.set(i, (merged.get(i) ?? 0) + w * v);
    return [...merged];
  });
}

/** `image` resized to width × height, interleaved RGB. */
export function resizeLinear(image: RgbImage, width: number, height: number): Buffer {
  const pixels: Uint8Array = image.pixels;
  const stride = image.width * 3;
  const enlarging = width > image.width || height > image.height;
  const rows = axisTaps(image.height, height, enlarging);
  const cols = axisTaps(image.width, width, enlarging);
  const { first: rowFirst, index: rowIndex, weight: rowWeight } = rows;
  const { first: colFirst, index: colIndex, weight: colWeight } = cols;
  const out = Buffer.alloc(width * height * 3);
  // assignments clamp to 0…255
  const clamped = new Uint8ClampedArray(out.buffer, out.byteOffset, out.length);
  const row = new Float64Array(stride);
  let o = 0;
  for (let y = 0; y < height; y++) {
    // the output row's vertical mix of input rows, then each output pixel's horizontal mix of it
    row.fill(0);
    for (let k = rowFirst[y]; k < rowFirst[y + 1]; k++) {
      const base = rowIndex[k] * stride;
      const wy = rowWeight[k];
      for (let i = 0; i < stride; i++) row[i] += wy * pixels[base + i];
    }
    for (let x = 0; x < width; x++, o += 3) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = colFirst[x]; k < colFirst[x + 1]; k++) {
        const i = colIndex[k] * 3;
        const wx = colWeight[k];
        r += wx * row[i];
        g += wx * row[i + 1];
        b += wx * row[i + 2];
      }
      clamped[o] = Math.round(r);
      clamped[o + 1] = Math.round(g);
      clamped[o + 2] = Math.round(b);
    }
  }
  return out;
}
