/**
 * The load generator behind every trial: autocannon, recording each response's latency at
 * sub-millisecond precision (its own histogram keeps whole milliseconds). Closed loop: each
 * connection sends its next request when the previous one answers. Open loop: a fixed total
 * rate; enough connections are opened that a slow answer does not hold the next request back
 * (autocannon paces each connection, so with too few it would fall back to a closed loop).
 */
import autocannon from 'autocannon';
import { percentile } from '../core/stats/percentile.ts';

export interface LoadRun {
  url: string;
  body: Buffer;
  contentType: string;
  durationS: number;
  connections: number;
  /** Total requests/s (open loop); closed loop when absent. */
  rate?: number;
  /** Extra request headers (a replica's forward token). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface LoadOutcome {
  /** 2xx answers. */
  ok: number;
  /** Non-2xx answers plus connection errors and timeouts. */
  failed: number;
  /**
   * Of `failed`, the 429 answers: requests the replica refused because it could not serve them within the SLO (it works
   * as designed).
   */
  shed?: number;
  /** 2xx answers per second of wall time. */
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errorRate: number;
  seconds: number;
}

/** The seam trials drive load through (tests may pass a slower or faster one). */
export interface LoadGenerator {
  run(o: LoadRun): Promise<LoadOutcome>;
}

export function createAutocannonLoad(): LoadGenerator {
  return {
    async run(o) {
      const latencies: number[] = [];
      let non2xx = 0;
      let shed = 0;
      const started = performance.now();
      const result = await new Promise<autocannon.Result>((resolve, reject) => {
        const instance = autocannon(
          {
            url: o.url,
            method: 'POST',
            body: o.body,
            headers: { ...o.headers, 'content-type': o.contentType },
            connections: Math.max(1, Math.round(o.connections)),
            duration: o.durationS,
            timeout: 30,
            ...(o.rate ? { overallRate: Math.max(1, Math.round(o.rate)) } : {}),
          },
          (err, r) => (err ? reject(err) : resolve(r)),
        );
        instance.on('response', (_c: unknown, status: number, _bytes: number, ms: number) => {
          if (status >= 200 && status < 300) latencies.push(ms);
          else non2xx++;
          if (status === 429) shed++;
        });
        const stop = () => (instance as unknown as { stop(): void }).stop();
        if (o.signal?.aborted) stop();
        o.signal?.addEventListener('abort', stop, { once: true });
        // a sweep's signal outlives many runs: take the listener off when this one ends
        const off = () => o.signal?.removeEventListener('abort', stop);
        instance.once('done', off);
        instance.once('error', off);
      });
      const seconds = Math.max((performance.now() - started) / 1000, 1e-3);
      latencies.sort((a, b) => a - b);
      const failed = non2xx + result.errors + result.timeouts;
      const total = latencies.length + failed;
      return {
        ok: latencies.length,
        failed,
        shed,
        rps: latencies.length / seconds,
        p50: percentile(latencies, 50),
        p95: percentile(latencies, 95),
        p99: percentile(latencies, 99),
        errorRate: total ? failed / total : 1,
        seconds,
      };
    },
  };
}
