/** ocr-detect as an onnx-node model function: an image → {boxes: [{x, y, width, height, score}]}. */
import { defineModelFunction } from 'fastgshare/templates/onnx-node/runtime/service.ts';
import { sampleImage } from 'fastgshare/templates/onnx-node/runtime/samples.ts';
import { createOcrDetectFunction } from './index.ts';

export default defineModelFunction(() => createOcrDetectFunction(), {
  settings: { sloMs: 2000, maxBatch: 4 },
  sample: () => sampleImage(320, 320),
});
