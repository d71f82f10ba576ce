/**
 * ocr-recognize: one text-line image (PNG, JPEG, …) → its text and a confidence, with the PP-OCRv4
 * recogniser. Preprocessing as the model was trained (PaddleOCR's rec pipeline), each step an
 * option so that bench:ocr can measure it:
 * - the line is cut to its ink's box, levelled by a perspective transform, with a margin of a share
 *   of the text's height (ink-box.ts): the recogniser learnt from the detector's tight boxes, and a
 *   line with wide margins or a skew comes out small and slanted at its 48 px input height;
 * - resized to height 48 keeping its aspect ratio (widened by `stretch`, 1.1), normalised to
 *   (x/255 − 0.5)/0.5 in BGR order, padded on the right with 0 (mid-grey after normalisation) to
 *   the widest line of the batch and at least 320 (the 3×48×320 training shape);
 * - CTC output decoded greedily, word gaps kept (ctc.ts); on Latin text full-width punctuation
 *   as ASCII (plain-text.ts), a 0 or 1 inside a word as the letter (letter-digit.ts), and
 *   c o s v w x z capital or small by their height on the line (letter-case.ts).
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
import { fixLetterCase } from './letter-case.ts';
import { plainText } from './plain-text.ts';
import { loadCharacters, RECOGNITION_MODEL } from './model-files.ts';
import { foldedModelPath } from './onnx-fold.ts';

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
  /**
   * Horizontal scale on top of the aspect-kept resize. With the margins above, the text fills less
   * of the 48 px than in the detector's tight boxes, so each character gets fewer of the CTC's time
   * steps (one per 8 columns); a little more width gives crowded characters and punctuation back
   * (measured on 550 lines of 5 seeds: 1.1 best, 1.0 and 1.2 worse).
   */
  stretch: number;
  /** Value of the padding after normalisation: 0 is mid-grey (PaddleOCR), 1 white. */
  padValue: number;
  /** ctc.ts: peak space probability that makes a gap a word gap (1: argmax spaces only). */
  spaceThreshold: number;
  /** plain-text.ts: full-width punctuation of a line without CJK text as ASCII. */
  asciiPunctuation: boolean;
  /** letter-digit.ts: a 0 or 1 inside a word of letters as the letter (O, o, l, I). */
  letterDigitFix: boolean;
  /** letter-case.ts: c o s v w x z capital or small by their height on the line. */
  letterCase: boolean;
}

export const DEFAULT_RECOGNIZER_OPTIONS: RecognizerOptions = {
  inkCrop: true,
  marginY: 0.4,
  marginX: 0.5,
  minWidth: 320,
  stretch: 1.1,
  padValue: 0,
  spaceThreshold: DEFAULT_CTC_OPTIONS.spaceThreshold,
  asciiPunctuation: true,
  letterDigitFix: true,
  letterCase: true,
};

/** The line's width at the model's input height, widened by `stretch`. */
export function lineWidth(image: RgbImage, stretch = DEFAULT_RECOGNIZER_OPTIONS.stretch): number {
  return Math.min(MAX_WIDTH, Math.max(1, Math.ceil((stretch * LINE_HEIGHT * image.width) / image.height)));
}

export function toRecognizerFeeds(
  images: RgbImage[],
  o: Pick<RecognizerOptions, 'minWidth' | 'padValue' | 'stretch'> = DEFAULT_RECOGNIZER_OPTIONS,
): Tensors {
  const width = Math.max(o.minWidth, ...images.map((image) => lineWidth(image, o.stretch)));
  const size = 3 * LINE_HEIGHT * width;
  const data = new Float32Array(images.length * size);
  if (o.padValue !== 0) data.fill(o.padValue);
  for (let i = 0; i < images.length; i++)
    writeNormalisedBgr(images[i]!, LINE_HEIGHT, lineWidth(images[i]!, o.stretch), data, i * size, width);
  return { x: { type: 'float32', dims: [images.length, 3, LINE_HEIGHT, width], data } };
}

export function createOcrRecognizeFunction(
  options: {
    modelPath?: string;
    dictionaryPath?: string;
    recognizer?: Partial<RecognizerOptions>;
    /** Run the model as rewritten by onnx-fold.ts (default) or as exported (bench:ocr compares). */
    foldModel?: boolean;
  } = {},
): ModelFunction<RgbImage, OcrRecognizeResult> {
  const characters = loadCharacters(options.dictionaryPath);
  const o = { ...DEFAULT_RECOGNIZER_OPTIONS, ...options.recognizer };
  return {
    name: 'ocr-recognize',
    // the model rewritten with the same function in fewer operators (onnx-fold.ts), on first use
    get path() {
      const path = options.modelPath ?? RECOGNITION_MODEL;
      return options.foldModel === false ? path : foldedModelPath(path);
    },
    // pipelines submit their own crops (cutLine on the page with the detector's box): requests are cut here
    decode: async (body, contentType) => cutLine(await decodeTextLineImage(body, contentType), undefined, o),
    async infer(executor, inputs) {
      // The recogniser mixes information across the whole line (SVTR's global attention), so the
      // padding of a short line batched with a long one changes what it reads: lines run together
      // only when their widths fall into the same WIDTH_BUCKET columns.
      const groups = new Map<number, number[]>();
      inputs.forEach((image, i) => {
        const bucket = Math.ceil(Math.max(o.minWidth, lineWidth(image, o.stretch)) / WIDTH_BUCKET);
        groups.set(bucket, [...(groups.get(bucket) ?? []), i]);
      });
      const results: OcrRecognizeResult[] = new Array(inputs.length);
      for (const indices of groups.values()) {
        const out = await executor.run(
          toRecognizerFeeds(
            indices.map((i) => inputs[i]!),
            o,
          ),
        );
        const probs = Object.values(out)[0];
        if (!probs || probs.dims.length !== 3)
          throw new PlatformError('internal', 'the recogniser returned no [batch, steps, classes] tensor');
        indices.forEach((i, k) => {
          const r = ctcDecode(probs.data as Float32Array, probs.dims, k, characters, o);
          const input = inputs[i]!;
          let text = o.letterCase ? fixLetterCase(r.text, r.spans, input, lineWidth(input, o.stretch)) : r.text;
          if (o.asciiPunctuation) text = plainText(text);
          if (o.letterDigitFix) text = fixLetterDigits(text);
          results[i] = { text, confidence: r.confidence };
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
