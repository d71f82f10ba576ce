/**
 * The handler contract of the onnx-node template. `function/handler.ts` default-exports an
 * `OnnxFunction`: default settings plus `open(ctx)`, which loads its model(s) on the replica's
 * device backend and returns a `ModelService`. One model with pre/post-processing is the common
 * case: `defineModelFunction(createMyModelFunction, { sample })`. A pipeline opens several
 * inferences (one batcher each) and composes them (see functions/ocr).
 */
import type { Clock } from 'fastgshare/core/clock.ts';
import type { Logger } from 'fastgshare/core/logger.ts';
import type { ServerTiming } from './server-timing.ts';
import type { ExecutionBackend } from './backends/backend.ts';
import { createInference, type Inference } from './inference.ts';
import type { ModelFunction } from './model-function.ts';
import type { Timers } from './timers.ts';
import type { DeviceGate } from './token-gate.ts';

export interface ServiceSettings {
  /** Latency objective of one request, ms from arrival. */
  sloMs: number;
  /** Largest batch the batcher forms. */
  maxBatch: number;
  /** Most requests waiting per model. */
  maxQueue: number;
}

export interface OpenContext {
  backend: ExecutionBackend;
  settings: ServiceSettings;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  /** The replica's device gate when its device is shared (every model of the replica uses it). */
  gate?: DeviceGate;
}

/** A request body for warming up (and for describing the input): bytes and their content type. */
export interface SampleRequest {
  body: Buffer;
  contentType: string;
}

export interface ModelService {
  /**
   * One request → one JSON-serialisable result; throws PlatformError (400 bad input, 429 over the
   * SLO). Records its stages (decode, batch, token, prep, infer) in `timing` when given.
   */
  invoke(body: Buffer, contentType: string | undefined, timing?: ServerTiming): Promise<unknown>;
  /** Runs sample requests so that the first real one is not slow; seeds the latency estimates. */
  warmUp(): Promise<void>;
  /** A representative request body (served at `GET /_/sample`, e.g. for profiling); absent when there is none. */
  sample?(): Promise<SampleRequest>;
  stats(): Record<string, unknown>;
  close(): Promise<void>;
}

export interface OnnxFunction {
  /** Defaults; the deployment overrides them (fastgshare/slo_ms, fastgshare/max_batch annotations). */
  settings?: Partial<ServiceSettings>;
  open(ctx: OpenContext): Promise<ModelService>;
}

/** Opens one model function as an inference (decode → batcher → executor) on the context's backend. */
export function openInference<I, O>(
  ctx: OpenContext,
  fn: ModelFunction<I, O>,
  settings: Partial<ServiceSettings> = {},
): Promise<Inference<O>> {
  const s = { ...ctx.settings, ...settings };
  return createInference({
    fn,
    backend: ctx.backend,
    maxBatch: s.maxBatch,
    maxQueue: s.maxQueue,
    sloMs: s.sloMs,
    gate: ctx.gate,
    clock: ctx.clock,
    timers: ctx.timers,
    logger: ctx.logger.child(fn.name),
  });
}

/** Warms an inference up with a sample: one untimed run, then timed runs at batch 1. */
export async function warmUpInference<O>(inference: Inference<O>, sample: SampleRequest): Promise<number> {
  return inference.warmUp(sample.body, sample.contentType);
}

/**
 * The usual model function: one model, the runtime's settings, warmed up with `sample()` (also served at `GET
 * /_/sample`).
 */
export function defineModelFunction<I, O>(
  create: () => ModelFunction<I, O>,
  options: { settings?: Partial<ServiceSettings>; sample: () => Promise<SampleRequest> },
): OnnxFunction {
  return {
    settings: options.settings,
    async open(ctx) {
      const inference = await openInference(ctx, create());
      let sample: Promise<SampleRequest> | undefined;
      const once = () => {
        sample ??= options.sample();
        sample.catch(() => (sample = undefined));
        return sample;
      };
      return {
        invoke: (body, contentType, timing) => inference.invoke(body, contentType, { timing }),
        sample: once,
        async warmUp() {
          const ms = await warmUpInference(inference, await once());
          ctx.logger.info('warmed up', { batch1Ms: Math.round(ms * 10) / 10 });
        },
        stats: () => ({ ...inference.stats(), ...(ctx.gate ? { token: ctx.gate.stats() } : {}) }),
        close: () => inference.close(),
      };
    },
  };
}
