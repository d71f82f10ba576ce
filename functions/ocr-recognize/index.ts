/**
 * ocr-recognize: one text-line image (PNG, JPEG, …) → its text and a confidence, with the PP-OCRv4
 * recogniser. Lines are resized to height 48 keeping their aspect ratio and padded (right) to the
 * widest line of the batch, as PaddleOCR does.
 */
import { PlatformError } from 'fastgshare/core/errors.ts';
import type { ModelFunction } from 'fastgshare/templates/onnx-node/runtime/model-function.ts';
import { decodeTextLineImage, writeNormalisedBgr, type RgbImage } from 'fastgshare/templates/onnx-node/runtime/image.ts';
import type { Tensors } from 'fastgshare/templates/onnx-node/runtime/tensor.ts';
import { ctcDecode, type Recognised } from './ctc.ts';
import { loadCharacters, RECOGNITION_MODEL } from './model-files.ts';

export const LINE_HEIGHT = 48;
/** Narrowest padded width (PaddleOCR's 3×48×320 default shape). */
export const MIN_WIDTH = 320;
/** Widest line fed to the model; wider lines are squeezed to it. */
export const MAX_WIDTH = 3200;
/** The recogniser downsamples width by 8: one CTC step per 8 columns. */
const STEPS_PER_COLUMN = 1 / 8;

export type OcrRecognizeResult = Recognised;

export function lineWidth(image: RgbImage): number {
  return Math.min(MAX_WIDTH, Math.max(1, Math.ceil((LINE_HEIGHT * image.width) / image.height)));
}

export async function toRecognizerFeeds(images: RgbImage[]): Promise<Tensors> {
  const width = Math.max(MIN_WIDTH, ...images.map(lineWidth));
  const size = 3 * LINE_HEIGHT * width;
  const data = new Float32Array(images.length * size);
  for (let i = 0; i < images.length; i++) await writeNormalisedBgr(images[i], LINE_HEIGHT, lineWidth(images[i]), data, i * size, width);
  return { x: { type: 'float32', dims: [images.length, 3, LINE_HEIGHT, width], data } };
}

export function createOcrRecognizeFunction(options: { modelPath?: string; dictionaryPath?: string } = {}): ModelFunction<RgbImage, OcrRecognizeResult> {
  const characters = loadCharacters(options.dictionaryPath);
  return {
    name: 'ocr-recognize',
    path: options.modelPath ?? RECOGNITION_MODEL,
    decode: decodeTextLineImage,
    async infer(executor, inputs) {
      const out = await executor.run(await toRecognizerFeeds(inputs));
      const probs = Object.values(out)[0];
      if (!probs || probs.dims.length !== 3) throw new PlatformError('internal', 'the recogniser returned no [batch, steps, classes] tensor');
      return inputs.map((_, i) => ctcDecode(probs.data as Float32Array, probs.dims, i, characters));
    },
    outputShapes(feeds) {
      const [n, , , w] = feeds.x.dims;
      return { 'softmax_11.tmp_0': { type: 'float32', dims: [n, Math.ceil(w * STEPS_PER_COLUMN), characters.length] } };
    },
  };
}
