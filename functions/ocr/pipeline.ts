/**
 * The full OCR pipeline in one replica: detect text boxes on the page, crop each line, classify
 * its direction (turning upside-down lines by 180°), recognise it. Each stage is its own
 * inference with its own dynamic batcher, so the lines of one page (and of concurrent pages)
 * are classified and recognised in batches. The request's SLO is shared by the stages: each
 * gets what is left of it.
 */
import type { Clock } from 'fastgshare/core/clock.ts';
import type { Inference } from 'fastgshare/templates/onnx-node/runtime/inference.ts';
import { cropRgb, decodeImageRequest, rotate180, type RgbImage } from 'fastgshare/templates/onnx-node/runtime/image.ts';
import { PlatformError } from 'fastgshare/core/errors.ts';
import type { OcrDetectResult } from 'fastgshare/functions/ocr-detect/index.ts';
import type { Box } from 'fastgshare/functions/ocr-detect/db-postprocess.ts';
import type { OcrRecognizeResult } from 'fastgshare/functions/ocr-recognize/index.ts';
import type { TextDirectionResult } from 'fastgshare/functions/text-direction/index.ts';

export interface OcrLine {
  box: Box;
  text: string;
  confidence: number;
  /** 180 when the line was read upside down (and turned before recognition). */
  angle: 0 | 180;
}

export interface OcrResult {
  width: number;
  height: number;
  /** In reading order: top to bottom, then left to right. */
  lines: OcrLine[];
  /** The lines' text joined with newlines. */
  text: string;
}

export interface OcrStages {
  detect: Inference<OcrDetectResult, RgbImage>;
  direction: Inference<TextDirectionResult, RgbImage>;
  recognize: Inference<OcrRecognizeResult, RgbImage>;
}

/** Turning a line needs the classifier to be this sure (PaddleOCR's cls_thresh). */
export const DIRECTION_THRESHOLD = 0.9;
/** Crops grow by this share of the box height on each side (DB boxes hug the glyphs). */
const MARGIN = 0.15;

export function createOcrPipeline(stages: OcrStages, options: { sloMs: number; clock: Clock }) {
  const { clock } = options;
  const left = (start: number) => {
    const ms = options.sloMs - (clock.now() - start);
    if (ms <= 0) throw new PlatformError('too_many_requests', `the OCR pipeline ran out of its ${options.sloMs} ms SLO`);
    return ms;
  };
  return {
    async run(body: Buffer, contentType: string | undefined): Promise<OcrResult> {
      const start = clock.now();
      const page = await decodeImageRequest(body, contentType, 'page image');
      if (page.width < 8 || page.height < 8) throw new PlatformError('bad_request', `the page image is ${page.width}×${page.height} pixels; it must be at least 8×8`);
      const { boxes } = await stages.detect.submit(page, { sloMs: left(start) });
      const crops = await Promise.all(
        boxes.map((b) => {
          const m = Math.round(b.height * MARGIN);
          return cropRgb(page, { x: b.x - m, y: b.y - m, width: b.width + 2 * m, height: b.height + 2 * m });
        }),
      );
      const lines = await Promise.all(
        crops.map(async (crop, i) => {
          const dir = await stages.direction.submit(crop, { sloMs: left(start) });
          const flipped = dir.angle === 180 && dir.score >= DIRECTION_THRESHOLD;
          const upright = flipped ? await rotate180(crop) : crop;
          const rec = await stages.recognize.submit(upright, { sloMs: left(start) });
          return { box: boxes[i], text: rec.text.trim(), confidence: rec.confidence, angle: flipped ? 180 : 0 } satisfies OcrLine;
        }),
      );
      const kept = lines.filter((l) => l.text.trim() !== '');
      return { width: page.width, height: page.height, lines: kept, text: kept.map((l) => l.text).join('\n') };
    },
  };
}
