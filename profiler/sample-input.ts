/**
 * Where a sweep's request body comes from: the one the request gave (`input`), else the
 * function's own sample from `GET /_/sample` (the watchdog route; model functions of the onnx-node
 * template serve the body they warm up with), fetched once before any load: from a ready replica of
 * the function itself when the node runs one, else from the first trial replica once it is ready.
 * A function without a sample (404) fails the sweep with a message that says to pass `input`.
 */
import { PlatformError } from '../core/errors.ts';
import { qualified } from '../core/names.ts';
import { SAMPLE_PATH } from '../core/contracts/replica-http.ts';
import { forwardHeaders, type ReplicaTarget } from './replica-target.ts';

/** Largest sample accepted: the sweep request's own limit for `input`. */
const MAX_SAMPLE_BYTES = 12 * 1024 * 1024;

export interface FunctionRef {
  name: string;
  namespace: string;
}

export interface TrialBody {
  body: Buffer;
  contentType: string;
}

/** The body of a trial, given its ready replica. */
export type TrialBodySource = (replica: ReplicaTarget, signal: AbortSignal) => Promise<TrialBody>;

export interface SweepInput {
  /** Fetches the sample from a running replica of the function, if there is one (no trial replica needed then). */
  prefetch(liveReplica: () => Promise<ReplicaTarget | undefined>, signal: AbortSignal): Promise<void>;
  source: TrialBodySource;
  /** Where the body came from once known: 'request' or 'sample'. */
  origin(): 'request' | 'sample' | undefined;
}

/** The sweep's body source: the given input, else the function's sample fetched once from a trial replica. */
export function sweepInput(fn: FunctionRef, given?: { base64: string; contentType: string }): SweepInput {
  if (given) {
    const fixed = { body: Buffer.from(given.base64, 'base64'), contentType: given.contentType };
    return { prefetch: async () => undefined, source: async () => fixed, origin: () => 'request' };
  }
  let fetched: TrialBody | undefined;
  return {
    async prefetch(liveReplica, signal) {
      if (fetched) return;
      const replica = await liveReplica().catch(() => undefined);
      if (!replica) return;
      try {
        fetched = await fetchSample(fn, replica, signal);
      } catch (err) {
        // no sample (404): the trial replica runs the same code, so say so now; anything else: ask the trial replica
        if (err instanceof PlatformError && err.code === 'bad_request') throw err;
        if (signal.aborted) throw signal.reason;
      }
    },
    async source(replica, signal) {
      fetched ??= await fetchSample(fn, replica, signal);
      return fetched;
    },
    origin: () => (fetched ? 'sample' : undefined),
  };
}

/** GET `<replica>/_/sample` → the body and its content type; a clear error when there is none. */
export async function fetchSample(fn: FunctionRef, replica: ReplicaTarget, signal?: AbortSignal): Promise<TrialBody> {
  const fnKey = qualified(fn);
  const give = `profile it with an input: POST /system/profiles/${fn.name} {"input": {"base64": "<a representative request body>", "contentType": "image/png"}} (CLI: fastgshare profile ${fn.name} --data-file FILE --content-type TYPE)`;
  const url = new URL(SAMPLE_PATH, replica.url).toString();
  const res = await fetch(url, {
    headers: forwardHeaders(replica),
    signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(30_000)]) : AbortSignal.timeout(30_000),
  }).catch((err: Error) => {
    if (signal?.aborted) throw signal.reason;
    throw new PlatformError(
      'unavailable',
      `cannot fetch the sample request of "${fnKey}" from its replica (${url}): ${err.message}`,
    );
  });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status === 404 || res.status === 405) {
    throw new PlatformError(
      'bad_request',
      `"${fnKey}" serves no sample request at ${SAMPLE_PATH} (its handler defines none); ${give}`,
      { details: { field: 'input' } },
    );
  }
  if (res.status !== 200)
    throw new PlatformError(
      'unavailable',
      `the replica of "${fnKey}" answered ${res.status} to GET ${SAMPLE_PATH}: ${body.toString('utf8').slice(0, 300)}`,
    );
  if (body.length === 0)
    throw new PlatformError('bad_request', `"${fnKey}" serves an empty sample request at ${SAMPLE_PATH}; ${give}`, {
      details: { field: 'input' },
    });
  if (body.length > MAX_SAMPLE_BYTES)
    throw new PlatformError(
      'bad_request',
      `the sample request of "${fnKey}" is ${body.length} bytes, over ${MAX_SAMPLE_BYTES}; ${give.replace('an input', 'a smaller input')}`,
      { details: { field: 'input' } },
    );
  return { body, contentType: res.headers.get('content-type') ?? 'application/octet-stream' };
}
