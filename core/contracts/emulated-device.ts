/**
 * The node's emulated device: the protocol between the node agent's contention server
 * (fast-manager/devices/emulated-device-server.ts, one per emulated device) and an emulated
 * replica (templates/onnx-node/runtime/backends/emulated-device-client.ts), over the unix socket the
 * replica finds in FASTGSHARE_EMULATED_DEVICE_SOCKET (core/contracts/replica-env.ts).
 *
 * Framing: newline-delimited JSON (core/net/ndjson.ts), one object per line, `op` naming the
 * message; a line longer than EMULATED_DEVICE_MAX_LINE or not JSON is a broken peer.
 *   replica → device   {"op":"run","id":"7","partition":50,"ms":12.5}   run a batch of 12.5 ms solo time
 *   device → replica   {"op":"done","id":"7","elapsedMs":18.1}          it finished (wall time taken)
 *                      {"op":"error","message":"..."}                    bad message; the socket is closed
 * A replica may have several batches running; `id` (its own, unique on its connection) pairs each
 * `done` with its `run`. A closed connection cancels its running batches. Time is the device's clock.
 */
import { z } from 'zod';

/** Longest line a replica may send. */
export const EMULATED_DEVICE_MAX_LINE = 4096;

export interface RunMessage {
  op: 'run';
  /** The replica's name for this batch, echoed in its `done`. */
  id: string;
  /** The replica's compute partition, percent in (0, 100]. */
  partition: number;
  /** The batch's solo time on the whole partition, ms (≥ 0). */
  ms: number;
}

export interface DoneMessage {
  op: 'done';
  id: string;
  /** Wall time the batch took, ms: more than its `ms` when batches oversubscribe the device. */
  elapsedMs: number;
}
export interface EmulatedDeviceErrorMessage {
  op: 'error';
  message: string;
}
/** What the device sends. */
export type EmulatedDeviceMessage = DoneMessage | EmulatedDeviceErrorMessage;

const RunSchema = z.object({
  op: z.literal('run'),
  id: z.string().min(1),
  partition: z.number().gt(0).lte(100),
  ms: z.number().gte(0),
});

/**
 * The device's reading of a replica's line: the batch to run, or why it is not one (the text of the error the device
 * answers).
 */
export function readRunMessage(raw: unknown): { run: RunMessage } | { error: string } {
  const r = RunSchema.safeParse(raw);
  if (r.success) return { run: r.data };
  const op = (raw as { op?: unknown } | null)?.op;
  if (op !== 'run')
    return { error: `unknown op ${JSON.stringify(op)}: send {"op":"run","id":"…","partition":1-100,"ms":≥0}` };
  return { error: 'a run needs an id (string), a partition in (0, 100] and ms ≥ 0' };
}
