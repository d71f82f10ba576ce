/** vad as an onnx-node model function: 8/16 kHz audio (WAV or raw PCM) → {durationMs, segments}. */
import { defineModelFunction } from 'fastgshare/templates/onnx-node/runtime/service.ts';
import { sampleAudio } from 'fastgshare/templates/onnx-node/runtime/samples.ts';
import { createVadFunction } from './index.ts';

export default defineModelFunction(() => createVadFunction(), {
  settings: { sloMs: 1000, maxBatch: 8 },
  sample: async () => sampleAudio(500),
});
