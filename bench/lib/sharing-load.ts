/**
 * Load for the sharing benchmark, straight to replica URLs over keep-alive sockets:
 * an open-loop fixed-rate generator per target (latency counted from each request's scheduled
 * send time, so a backed-up replica cannot hide its queueing) with SLO attainment, and a
 * closed-loop generator for raw throughput.
 */
import { createRng, streamSeed } from '../../scheduler/sim/rng.ts';
import { Agent, request } from 'node:http';
import { percentile } from '../../core/stats/percentile.ts';
import { FORWARD_TOKEN_HEADER } from '../../core/contracts/node-agent.ts';

/** Forward tokens of the replicas a bench calls directly, by origin: a replica answers 403 without its own. */
const forwardTokens = new Map<string, string>();

/** Remembers the replica's forward token for calls to its URL; returns the URL. */
export function useForwardToken(replica: { url: string; forwardToken?: string }): string {
  if (replica.forwardToken) forwardTokens.set(new URL(replica.url).origin, replica.forwardToken);
  return replica.url;
}

export interface Target {
  url: string;
  body: Buffer;
  contentType: string;
  /** Requests per second offered to this target. */
  rate: number;
  sloMs: number;
  /** Label to aggregate by (the function). */
  group: string;
}

export interface GroupOutcome {
  sent: number;
  ok: number;
  withinSlo: number;
  /** Answered 429: refused by the replica's admission (it expected to miss the SLO). */
  shed: number;
  latencies: number[];
}

export interface StepOutcome {
  durationS: number;
  sent: number;
  withinSlo: number;
  attainment: number;
  /** Items answered within their SLO per second. */
  goodput: number;
  p99: number;
  groups: Record<string, GroupOutcome>;
}

const agent = new Agent({ keepAlive: true, maxSockets: 512 });

function post(url: string, body: Buffer, contentType: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const token = forwardTokens.get(new URL(url).origin);
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': contentType,
          'content-length': body.length,
          ...(token ? { [FORWARD_TOKEN_HEADER]: token } : {}),
        },
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/**
 * Offers each target its rate for `durationS` as a Poisson process (independent exponential gaps,
 * seeded by the offered rates and the target, so every mode offered the same rates sees the same
 * arrivals), then waits for the
 * stragglers (bounded). Strictly periodic arrivals at equal rates would make replicas of one
 * function fire in lockstep, a burst pattern no real client mix has, which penalises one-at-a-time
 * device access far more than it does sharing.
 */
export async function fixedRateStep(targets: Target[], durationS: number): Promise<StepOutcome> {
  const seed = Math.round(targets.reduce((a, t, i) => a + t.rate * (i + 1), 0) * 1000) >>> 0;
  const rngs = targets.map((_, i) => createRng(streamSeed(seed, i)));
  const groups: Record<string, GroupOutcome> = {};
  for (const t of targets) groups[t.group] ??= { sent: 0, ok: 0, withinSlo: 0, shed: 0, latencies: [] };
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  const end = t0 + durationS * 1000;
  const next = targets.map((t, i) => t0 + rngs[i]!.exp(t.rate / 1000));
  const maxSlo = Math.max(...targets.map((t) => t.sloMs));
  while (performance.now() < end) {
    const now = performance.now();
    targets.forEach((t, i) => {
      while (next[i]! <= now && next[i]! < end) {
        const scheduled = next[i]!;
        next[i] = scheduled + rngs[i]!.exp(t.rate / 1000);
        const g = groups[t.group]!;
        g.sent++;
        pending.push(
          post(t.url, t.body, t.contentType, Math.max(2000, t.sloMs * 4)).then((status) => {
            if (status === 429) g.shed++;
            if (status !== 200) return;
            const ms = performance.now() - scheduled;
            g.ok++;
            g.latencies.push(ms);
            if (ms <= t.sloMs) g.withinSlo++;
          }),
        );
      }
    });
    await new Promise((r) => setTimeout(r, 1));
  }
  // stragglers: anything not back within its SLO after the step is a miss anyway
  await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, maxSlo + 500))]);
  const all = Object.values(groups);
  const sent = all.reduce((a, g) => a + g.sent, 0);
  const withinSlo = all.reduce((a, g) => a + g.withinSlo, 0);
  const lat = all.flatMap((g) => g.latencies).sort((a, b) => a - b);
  return {
    durationS,
    sent,
    withinSlo,
    attainment: sent ? withinSlo / sent : 0,
    goodput: withinSlo / durationS,
    p99: percentile(lat, 99),
    groups,
  };
}

/** `concurrency` clients posting back to back for `durationS`; returns answers/s and p50/p99. */
export async function closedLoop(
  url: string,
  body: Buffer,
  contentType: string,
  concurrency: number,
  durationS: number,
): Promise<{ rps: number; p50: number; p99: number }> {
  const lat: number[] = [];
  const end = performance.now() + durationS * 1000;
  const client = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      const status = await post(url, body, contentType, 10_000);
      if (status === 200) lat.push(performance.now() - t);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, client));
  const wall = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { rps: lat.length / wall, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

export function closeLoadAgent(): void {
  agent.destroy();
}
