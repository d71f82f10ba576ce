/**
 * Our OCR functions for `npm run bench:ocr`, in this process: each handler's own `open(ctx)` (the
 * code a replica runs, decode → batcher → onnxruntime-node in a worker thread) on the cpu backend
 * with one intra-op thread, models loaded and warmed up once. The SLO is set far out so that a
 * busy machine cannot turn a slow answer into a refusal.
 */
import { systemClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/logger.ts';
import { createCpuBackend } from '../../templates/onnx-node/runtime/backends/cpu.ts';
import type { ModelService, OnnxFunction, OpenContext } from '../../templates/onnx-node/runtime/service.ts';
import { systemTimers } from '../../templates/onnx-node/runtime/timers.ts';
import ocrHandler from '../../functions/ocr/handler.ts';
import recognizeHandler from '../../functions/ocr-recognize/handler.ts';

export interface OursService {
  name: string;
  /** One image → its raw text (lines joined with "\n"). */
  read(body: Buffer, contentType: string): Promise<string>;
  close(): Promise<void>;
}

const SLO_MS = 120_000;

/** Opens a model function as a replica would and warms it up; `read` gives the result's `text`. */
export async function openService(fn: OnnxFunction, name: string): Promise<OursService> {
  const ctx: OpenContext = {
    backend: createCpuBackend({ cores: [0], partitionPercent: 50, logger: silentLogger }),
    settings: { sloMs: SLO_MS, maxBatch: fn.settings?.maxBatch ?? 8, maxQueue: 256 },
    clock: systemClock,
    timers: systemTimers,
    logger: silentLogger,
  };
  const service: ModelService = await fn.open(ctx);
  await service.warmUp();
  return {
    name,
    read: async (body, contentType) => ((await service.invoke(body, contentType)) as { text: string }).text,
    close: () => service.close(),
  };
}

/** ocr-recognize: a text-line image → `text`. */
export function openRecognize(): Promise<OursService> {
  return openService(recognizeHandler, 'ocr-recognize');
}

/** ocr: a page (or a line in any orientation) → `text`, lines in reading order. */
export function openOcr(): Promise<OursService> {
  return openService(ocrHandler, 'ocr');
}
