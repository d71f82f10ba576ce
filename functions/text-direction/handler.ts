/** text-direction as an onnx-node model function: a text-line image → {angle: 0|180, score}. */
import { defineModelFunction } from 'fastgshare/templates/onnx-node/runtime/service.ts';
import { sampleImage } from 'fastgshare/templates/onnx-node/runtime/samples.ts';
import { createTextDirectionFunction } from './index.ts';

export default defineModelFunction(() => createTextDirectionFunction(), {
  settings: { sloMs: 300, maxBatch: 16 },
  sample: () => sampleImage(192, 48),
});
