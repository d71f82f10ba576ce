/**
 * A device backend turns one replica's device settings into executors. Three exist, chosen by
 * name from the replica's config (`FASTGSHARE_DEVICE`): `cpu`, `emulated`, `cuda`.
 */
import type { DeviceKind } from 'fastgshare/core/contracts/devices.ts';
import type { Executor } from '../executor.ts';
import type { Tensors, TensorType } from '../tensor.ts';

/** What a backend needs to know about the model it opens. */
export interface ModelRef {
  /** Path of the .onnx file (cpu, cuda). */
  path: string;
  /** Short name, for logs. */
  name: string;
  /**
   * Shapes of the outputs for given feeds: the emulated device does not run the model but must
   * return tensors of the right shape.
   */
  outputShapes(feeds: Tensors): Record<string, { type: TensorType; dims: number[] }>;
}

export interface BackendDescription {
  device: DeviceKind;
  /** Compute partition of the device this replica may use, percent. */
  partitionPercent: number;
  [fact: string]: unknown;
}

export interface ExecutionBackend {
  readonly device: DeviceKind;
  describe(): BackendDescription;
  open(model: ModelRef): Promise<Executor>;
}
