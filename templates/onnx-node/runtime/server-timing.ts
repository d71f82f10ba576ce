/**
 * Where one request's time went, as a W3C Server Timing header
 * (https://www.w3.org/TR/server-timing/): `decode;dur=1.2, batch;dur=0, token;dur=0.3, …`.
 * A replica records its stages as it serves a request (server.ts, inference.ts) and answers them
 * in `Server-Timing`; the gateway appends its own stage (`gateway`) to the replica's header.
 *
 * Stages of an onnx-node replica, in order, none overlapping (so their sum is at most the
 * request's time in the replica):
 *   body    reading the request body
 *   decode  request body → model input (image decode with sharp, validation)
 *   batch   queued in the dynamic batcher until its batch was dispatched (waiting for company)
 *   token   dispatched until the device token was granted (0 on an unshared device or while a
 *           held token still covers the batch)
 *   prep    the model function's own work around the model: building the batch's tensors,
 *           post-processing its outputs (shared by the requests of one batch)
 *   infer   the model run on the executor, worker-thread hand-over included (shared by the batch)
 *   encode  the result → JSON
 * The header's format is core/net/server-timing.ts.
 */
import { formatServerTiming, type TimingEntry } from 'fastgshare/core/net/server-timing.ts';

export { SERVER_TIMING_HEADER, type TimingEntry } from 'fastgshare/core/net/server-timing.ts';

/** The stages a replica reports, in the order they happen. */
export const REPLICA_STAGES = ['body', 'decode', 'batch', 'token', 'prep', 'infer', 'encode'] as const;

/** One request's stages as they are measured. */
export interface ServerTiming {
  /** Adds `ms` to stage `name` (a stage measured in parts adds up). Negative or non-finite values count as 0. */
  add(name: string, ms: number): void;
  entries(): TimingEntry[];
  /** The header value (empty when nothing was recorded). */
  header(): string;
}

export function createServerTiming(): ServerTiming {
  const stages = new Map<string, number>();
  return {
    add(name, ms) {
      const v = Number.isFinite(ms) && ms > 0 ? ms : 0;
      stages.set(name, (stages.get(name) ?? 0) + v);
    },
    entries: () => [...stages].map(([name, dur]) => ({ name, dur })),
    header() {
      return formatServerTiming(this.entries());
    },
  };
}
