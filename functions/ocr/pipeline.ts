/**
 * The full OCR pipeline in one replica: detect the text lines' rotated boxes on the page, cut each
 * line out by a perspective transform (level, whatever its skew) and classify its direction,
 * decide the page's orientation from the lines' votes (orientation.ts); a page turned by 90, 180
 * or 270° is turned upright and detected again (page-turn.ts). Each line is then cut to its ink
 * (line-crop.ts) and recognised; pieces of one line are joined, lines come back in reading order
 * with their boxes on the page as sent. Each stage is its own inference with its own dynamic
 * batcher, so the lines of one page (and of concurrent pages) are classified and recognised in
 * batches. The request's SLO is shared by the stages: each gets what is left of it.
 */
import type { Clock } from 'fastgshare/core/clock.ts';
import type { Inference } from 'fastgshare/templates/onnx-node/runtime/inference.ts';
import { decodeImageRequest, type RgbImage } from 'fastgshare/templates/onnx-node/runtime/image.ts';
import { PlatformError } from 'fastgshare/core/errors.ts';
import type { OcrDetectResult } from 'fastgshare/functions/ocr-detect/index.ts';
import { boxOf, type Box } from 'fastgshare/functions/ocr-detect/db-postprocess.ts';
import { readingRows } from 'fastgshare/functions/ocr-detect/reading-order.ts';
import { minAreaRect, rectQuad, type Quad } from 'fastgshare/functions/ocr-detect/min-area-rect.ts';
import { DEFAULT_RECOGNIZER_OPTIONS, type OcrRecognizeResult } from 'fastgshare/functions/ocr-recognize/index.ts';
import { cutLine, type LineCropOptions } from 'fastgshare/functions/ocr-recognize/line-crop.ts';
import { perspectiveCrop } from 'fastgshare/functions/ocr-recognize/perspective-crop.ts';
import type { TextDirectionResult } from 'fastgshare/functions/text-direction/index.ts';
import { pageAngle, type Angle } from './orientation.ts';
import { fromTurned, turnClockwise, type Quarters } from './page-turn.ts';

export interface OcrLine {
  /** The line's box; `points` start at its top-left corner as it reads. */
  box: Box;
  text: string;
  confidence: number;
  /** How far the line is turned clockwise (the page's angle): it was turned back before recognition. */
  angle: Angle;
}

export interface OcrResult {
  width: number;
  height: number;
  /** How far the page is turned clockwise, decided from its lines' directions. */
  angle: Angle;
  /** In reading order: top to bottom, then left to right, as the page reads. */
  lines: OcrLine[];
  /** The lines' text joined with newlines. */
  text: string;
}

export interface OcrStages {
  detect: Inference<OcrDetectResult, RgbImage>;
  direction: Inference<TextDirectionResult, RgbImage>;
  recognize: Inference<OcrRecognizeResult, RgbImage>;
}

export function createOcrPipeline(
  stages: OcrStages,
  options: { sloMs: number; clock: Clock; lineCrop?: Partial<LineCropOptions> },
) {
  const { clock } = options;
  const lineCrop: LineCropOptions = { ...DEFAULT_RECOGNIZER_OPTIONS, ...options.lineCrop };
  const left = (start: number) => {
    const ms = options.sloMs - (clock.now() - start);
    if (ms <= 0)
      throw new PlatformError('too_many_requests', `the OCR pipeline ran out of its ${options.sloMs} ms SLO`);
    return ms;
  };
  return {
    async run(body: Buffer, contentType: string | undefined): Promise<OcrResult> {
      const start = clock.now();
      const sloMs = () => left(start);
      const page = await decodeImageRequest(body, contentType, 'page image');
      if (page.width < 8 || page.height < 8)
        throw new PlatformError(
          'bad_request',
          `the page image is ${page.width}×${page.height} pixels; it must be at least 8×8`,
        );
      const found = (await stages.detect.submit(page, { sloMs: sloMs() })).boxes;
      // each line as ocr-detect reads it (lying boxes left to right, standing ones top to bottom)
      const directions = await Promise.all(
        found.map((b) => stages.direction.submit(perspectiveCrop(page, b.points), { sloMs: sloMs() })),
      );
      const { angle } = pageAngle(
        found.map((b, i) => ({ points: b.points, flipped: directions[i]!.angle === 180, score: directions[i]!.score })),
      );
      // a turned page is detected again upright, and its boxes taken back to the page
      const quarters = ((4 - angle / 90) % 4) as Quarters;
      const upright = turnClockwise(page, quarters);
      const boxes = quarters === 0 ? found : (await stages.detect.submit(upright, { sloMs: sloMs() })).boxes;
      const recognised = await Promise.all(
        boxes.map(async (b) => stages.recognize.submit(await cutLine(upright, b.points, lineCrop), { sloMs: sloMs() })),
      );
      const onPage = (b: Box): Box =>
        quarters === 0 ? b : boxOf(b.points.map((p) => fromTurned(p, quarters, page)) as Quad, b.score);
      // pieces of one line (a wide gap can split it into several boxes) become one line
      const lines = readingRows(
        boxes.map((b) => b.points),
        0,
      )
        .map((row): OcrLine => {
          const text = row
            .map((i) => recognised[i]!.text.trim())
            .filter((t) => t !== '')
            .join(' ');
          const chars = row.map((i) => Math.max(1, recognised[i]!.text.length));
          const confidence =
            row.reduce((a, i, k) => a + recognised[i]!.confidence * chars[k]!, 0) / chars.reduce((a, c) => a + c, 0);
          return {
            box: onPage(row.length === 1 ? boxes[row[0]!]! : joinBoxes(row.map((i) => boxes[i]!))),
            text,
            confidence,
            angle,
          };
        })
        .filter((l) => l.text !== '');
      return { width: page.width, height: page.height, angle, lines, text: lines.map((l) => l.text).join('\n') };
    },
  };
}

/** One box around several (the pieces of a line), its points as the line reads. */
function joinBoxes(pieces: Box[]): Box {
  return boxOf(
    rectQuad(minAreaRect(pieces.flatMap((b) => b.points)), 0),
    pieces.reduce((a, p) => a + p.score, 0) / pieces.length,
  );
}
