/**
 * ocr-recognize: one text-line image (PNG, JPEG, …) → its text and a confidence, with the PP-OCRv4
 * recogniser. Preprocessing as the model was trained (PaddleOCR's rec pipeline), each step an
 * option so that bench:ocr can measure it:
 * - the line is cut to its ink's box, levelled by a perspective transform, with a margin of a share
 *   of the text's height (ink-box.ts): the recogniser learnt from the detector's tight boxes, and a
 *   line with wide margins or a skew comes out small and slanted at its 48 px input height;
 * - resized to height 48 keeping its aspect ratio, normalised to (x/255 − 0.5)/0.5 in BGR order,
 *   padded on the right with 0 (mid-grey after normalisation) to the widest line of the batch and
 *   at least 320 (the 3×48×320 training shape);
 * - CTC output decoded greedily, word gaps kept (ctc.ts); on Latin text full-width punctuation
 *   as ASCII (plain-text.ts) and a 0 or 1 inside a word as the letter (letter-digit.ts).
 */
import { PlatformError } from 'fastgshare/core/errors.ts';
import type { ModelFunction } from 'fastgshare/templates/onnx-node/runtime/model-function.ts';
import {
  decodeTextLineImage,
  writeNormalisedBgr,
  type RgbImage,
} from 'fastgshare/templates/onnx-node/runtime/image.ts';
import type { Tensors } from 'fastgshare/templates/onnx-node/runtime/tensor.ts';
import { ctcDecode, DEFAULT_CTC_OPTIONS, type Recognised } from './ctc.ts';
import { cutLine, type LineCropOptions } from './line-crop.ts';
import { fixLetterDigits } from './letter-digit.ts';
import { plainText } from './plain-text.ts';
import { loadCharacters, RECOGNITION_MODEL } from './model-files.ts';

export const LINE_HEIGHT = 48;
/** Widest line fed to the model; wider lines are squeezed to it. */
export const MAX_WIDTH = 3200;
/** Lines whose padded widths fall into the same bucket of this many columns share a batch. */
export const WIDTH_BUCKET = 32;
/** The recogniser downsamples width by 8: one CTC step per 8 columns. */
const STEPS_PER_COLUMN = 1 / 8;

export type OcrRecognizeResult = Recognised;

export interface RecognizerOptions extends LineCropOptions {
  /** Narrowest padded width (PaddleOCR: 320). */
  minWidth: number;
  /** Value of the padding after normalisation: 0 is mid-grey (PaddleOCR), 1 white. */
  padValue: number;
  /** ctc.ts: peak space probability that makes a gap a word gap (1: argmax spaces only). */
  spaceThreshold: number;
  /** plain-text.ts: full-width punctuation of a line without CJK text as ASCII. */
  asciiPunctuation: boolean;
  /** letter-digit.ts: a 0 or 1 inside a word of letters as the letter (O, o, l, I). */
  letterDigitFix: boolean;
}

export const DEFAULT_RECOGNIZER_OPTIONS: RecognizerOptions = {
  inkCrop: true,
  marginY: 0.4,
  marginX: 0.5,
  minWidth: 320,
  padValue: 0,
  spaceThreshold: DEFAULT_CTC_OPTIONS.spaceThreshold,
  asciiPunctuation: true,
  letterDigitFix: true,
};

export function lineWidth(image: RgbImage): number {
  return Math.min(MAX_WIDTH, Math.max(1, Math.ceil((LINE_HEIGHT * image.width) / image.height)));
}

export async function toRecognizerFeeds(
  images: RgbImage[],
  o: Pick<RecognizerOptions, 'minWidth' | 'padValue'> = DEFAULT_RECOGNIZER_OPTIONS,
): Promise<Tensors> {
  const width = Math.max(o.minWidth, ...images.map(lineWidth));
  const size = 3 * LINE_HEIGHT * width;
  const data = new Float32Array(images.length * size);
  if (o.padValue !== 0) data.fill(o.padValue);
  for (let i = 0; i < images.length; i++)
    await writeNormalisedBgr(images[i]!, LINE_HEIGHT, lineWidth(images[i]!), data, i * size, width);
  return { x: { type: 'float32', dims: [images.length, 3, LINE_HEIGHT, width], data } };
}

export function createOcrRecognizeFunction(
  options: { modelPath?: string; dictionaryPath?: string; recognizer?: Partial<RecognizerOptions> } = {},
): ModelFunction<RgbImage, OcrRecognizeResult> {
  const characters = loadCharacters(options.dictionaryPath);
  const o = { ...DEFAULT_RECOGNIZER_OPTIONS, ...options.recognizer };
  return {
    name: 'ocr-recognize',
    path: options.modelPath ?? RECOGNITION_MODEL,
    // pipelines submit their own crops (cutLine on the page with the detector's box): requests are cut here
    decode: async (body, contentType) => cutLine(await decodeTextLineImage(body, contentType), undefined, o),
    async infer(executor, inputs) {
      // The recogniser mixes information across the whole line (SVTR's global attention), so the
      // padding of a short line batched with a long one changes what it reads: lines run together
      // only when their widths fall into the same WIDTH_BUCKET columns.
      const groups = new Map<number, number[]>();
      inputs.forEach((image, i) => {
        const bucket = Math.ceil(Math.max(o.minWidth, lineWidth(image)) / WIDTH_BUCKET);
        groups.set(bucket, [...(groups.get(bucket) ?? []), i]);
      });
      const results: OcrRecognizeResult[] = new Array(inputs.length);
      for (const indices of groups.values()) {
        const out = await executor.run(
          await toRecognizerFeeds(
            indices.map((i) => inputs[i]!),
            o,
          ),
        );
        const probs = Object.values(out)[0];
        if (!probs || probs.dims.length !== 3)
          throw new PlatformError('internal', 'the recogniser returned no [batch, steps, classes] tensor');
        indices.forEach((i, k) => {
          const r = ctcDecode(probs.data as Float32Array, probs.dims, k, characters, o);
          let text = o.asciiPunctuation ? plainText(r.text) : r.text;
          if (o.letterDigitFix) text = fixLetterDigits(text);
          results[i] = { ...r, text };
        });
      }
      return results;
    },
    outputShapes(feeds) {
      const [n, , , w] = feeds.x.dims;
      return { 'softmax_11.tmp_0': { type: 'float32', dims: [n, Math.ceil(w * STEPS_PER_COLUMN), characters.length] } };
    },
  };
}
