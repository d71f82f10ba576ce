/**
 * What a model function provides to the onnx-node runtime: how to read a request body, how to
 * run a batch of inputs on an executor, and the output shapes the emulated device must produce.
 */
import type { ModelRef } from './backends/backend.ts';
import type { Executor } from './executor.ts';
import type { Tensors, TensorType } from './tensor.ts';

export interface ModelFunction<I, O> extends ModelRef {
  /** Request body → validated input; throws PlatformError('bad_request', …) with what to fix. */
  decode(body: Buffer, contentType: string | undefined): Promise<I>;
  /** Runs one batch (one or more executor calls); one JSON-serialisable result per input, in order. */
  infer(executor: Executor, inputs: I[]): Promise<O[]>;
  /** Shapes of the model's outputs for given feeds (the batched input must be the first feed). */
  outputShapes(feeds: Tensors): Record<string, { type: TensorType; dims: number[] }>;
}
