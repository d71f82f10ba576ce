/** ocr-recognize as an onnx-node model function: a text-line image → {text, confidence}. */
import { defineModelFunction } from 'fastgshare/templates/onnx-node/runtime/service.ts';
import { sampleImage } from 'fastgshare/templates/onnx-node/runtime/samples.ts';
import { createOcrRecognizeFunction } from './index.ts';

export default defineModelFunction(() => createOcrRecognizeFunction(), {
  settings: { sloMs: 1000, maxBatch: 8 },
  sample: () => sampleImage(320, 48),
});
