/**
 * An emulated model function: behaves like a GPU model calibrated from published profiles
 * (fastgshare/device: emulated, fastgshare/emulated_profile: e.g. v100-resnet50). Each batch
 * takes the profiled latency of (profile, batch, partition) on the emulated device; nothing is
 * computed. Any request body is one item; the answer says how it was served.
 */
import { PlatformError } from 'fastgshare/core/errors.ts';
import type { ModelFunction } from 'fastgshare/templates/onnx-node/runtime/model-function.ts';
import { defineModelFunction } from 'fastgshare/templates/onnx-node/runtime/service.ts';

/** Longest body accepted for one item (an image or a sentence). */
const MAX_ITEM_BYTES = 4 * 1024 * 1024;

export interface EmulatedResult {
  device: 'emulated';
  /** Items in the batch this request ran in. */
  batch: number;
  bytes: number;
}

function createEmulatedFunction(): ModelFunction<{ bytes: number }, EmulatedResult> {
  return {
    name: 'emulated',
    path: '',
    async decode(body) {
      if (body.length > MAX_ITEM_BYTES)
        throw new PlatformError('payload_too_large', `one item is at most ${MAX_ITEM_BYTES} bytes; got ${body.length}`);
      return { bytes: body.length };
    },
    async infer(executor, inputs) {
      await executor.run({
        input: { type: 'float32', dims: [inputs.length, 1], data: new Float32Array(inputs.length) },
      });
      return inputs.map((i) => ({ device: 'emulated', batch: inputs.length, bytes: i.bytes }));
    },
    outputShapes: (feeds) => ({ output: { type: 'float32', dims: [feeds.input.dims[0], 1] } }),
  };
}

export default defineModelFunction(createEmulatedFunction, {
  settings: { sloMs: 100, maxBatch: 16 },
  sample: async () => ({ body: Buffer.from('warm-up'), contentType: 'application/octet-stream' }),
});
