/**
 * ocr: the full pipeline (detect → direction → recognize) as one onnx-node model function:
 * a page image (bytes or {"image": "<base64>"}) → {width, height, angle, lines: [{box, text,
 * confidence, angle}], text}, lines in reading order. Three models in one replica, one batcher each.
 */
import type { ModelService, OnnxFunction } from 'fastgshare/templates/onnx-node/runtime/service.ts';
import { openInference } from 'fastgshare/templates/onnx-node/runtime/service.ts';
import { sampleImage } from 'fastgshare/templates/onnx-node/runtime/samples.ts';
import { createOcrDetectFunction } from 'fastgshare/functions/ocr-detect/index.ts';
import { createOcrRecognizeFunction } from 'fastgshare/functions/ocr-recognize/index.ts';
import type { LineCropOptions } from 'fastgshare/functions/ocr-recognize/line-crop.ts';
import { createTextDirectionFunction } from 'fastgshare/functions/text-direction/index.ts';
import { createOcrPipeline } from './pipeline.ts';

/** The ocr function; `lineCrop` changes how lines are cut from the page (bench:ocr measures it). */
export function createOcrFunction(options: { lineCrop?: Partial<LineCropOptions> } = {}): OnnxFunction {
  return {
    settings: { sloMs: 4000, maxBatch: 4 },
    async open(ctx): Promise<ModelService> {
      const detect = await openInference(ctx, createOcrDetectFunction());
      const direction = await openInference(ctx, createTextDirectionFunction(), {
        maxBatch: Math.max(ctx.settings.maxBatch, 16),
      });
      const recognize = await openInference(ctx, createOcrRecognizeFunction(), {
        maxBatch: Math.max(ctx.settings.maxBatch, 8),
      });
      const pipeline = createOcrPipeline(
        { detect, direction, recognize },
        { sloMs: ctx.settings.sloMs, clock: ctx.clock, lineCrop: options.lineCrop },
      );
      return {
        invoke: (body, contentType) => pipeline.run(body, contentType),
        // a page of text-like bars: what the pipeline is profiled with (GET /_/sample)
        sample: () => sampleImage(320, 320),
        async warmUp() {
          const page = await sampleImage(320, 320);
          const line = await sampleImage(320, 48);
          await detect.warmUp(page.body, page.contentType);
          await direction.warmUp(line.body, line.contentType);
          await recognize.warmUp(line.body, line.contentType);
        },
        stats: () => ({ detect: detect.stats(), direction: direction.stats(), recognize: recognize.stats() }),
        async close() {
          await Promise.all([detect.close(), direction.close(), recognize.close()]);
        },
      };
    },
  };
}

export default createOcrFunction();
