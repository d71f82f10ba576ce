/**
 * A load run with autocannon (the load generator), recording each response's latency at
 * sub-millisecond precision from autocannon's `response` events (its own histogram keeps whole
 * milliseconds, too coarse to compare a proxy hop).
 */
import autocannon from 'autocannon';
import { percentile } from '../../core/stats/percentile.ts';

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  connections?: number;
  durationS: number;
  /** Fixed total rate (requests/s); closed loop when absent. */
  rate?: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  mean: number;
  non2xx: number;
  errors: number;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let non2xx = 0;
  const started = performance.now();
  let done!: (r: autocannon.Result) => void;
  let fail!: (e: unknown) => void;
  const finished = new Promise<autocannon.Result>((res, rej) => ((done = res), (fail = rej)));
  const instance = autocannon(
    {
      url: o.url,
      method: o.method ?? 'POST',
      body: o.body,
      headers: o.headers,
      connections: o.connections ?? 10,
      duration: o.durationS,
      ...(o.rate ? { overallRate: o.rate } : {}),
    },
    (err, result) => (err ? fail(err) : done(result)),
  );
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    else non2xx++;
  });
  const result = await finished;
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const mean = latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length);
  return {
    requests: latencies.length,
    rps: latencies.length / Math.max(elapsed, result.duration || o.durationS),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    mean,
    non2xx,
    errors: result.errors + result.timeouts,
  };
}
