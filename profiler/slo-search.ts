/**
 * Drives one replica to find what it sustains: first the closed-loop maximum (2 × batch users,
 * so the batcher can fill a batch while another runs), then open-loop steps at increasing rates
 * (50, 70, 85, 100 % of that maximum) until one misses the SLO. A step meets it when its p99 ≤
 * SLO and at most 1 % of requests fail; the highest step that meets it is the SLO rate.
 * The closed loop gets 40 % of the trial's load time, the steps share the rest.
 */
import type { LoadGenerator, LoadOutcome } from './load.ts';

export const OPEN_LOOP_STEPS = [0.5, 0.7, 0.85, 1.0];
/** Share of the search's load time the closed loop gets (the open-loop steps share the rest). */
export const CLOSED_LOOP_SHARE = 0.4;
export const MAX_ERROR_RATE = 0.01;
const MAX_CONNECTIONS = 256;
/** Headroom below which the open-loop connection count is not cut (a fast model's p99 of 2 ms). */
const LATENCY_FLOOR_MS = 50;

export interface SloSearchInput {
  url: string;
  /** Extra request headers (the replica's forward token). */
  headers?: Record<string, string>;
  body: Buffer;
  contentType: string;
  batch: number;
  sloMs: number;
  /** Load time of the whole search, s. */
  seconds: number;
  signal?: AbortSignal;
}

export interface OpenLoopStep {
  targetRps: number;
  outcome: LoadOutcome;
  meetsSlo: boolean;
}

export interface SloSearchResult {
  closed: LoadOutcome;
  steps: OpenLoopStep[];
  /** The highest step that met the SLO, if any. */
  best?: OpenLoopStep;
}

export function meetsSlo(o: LoadOutcome, sloMs: number): boolean {
  return o.ok > 0 && o.p99 <= sloMs && o.errorRate <= MAX_ERROR_RATE;
}

export async function searchSloRate(load: LoadGenerator, i: SloSearchInput): Promise<SloSearchResult> {
  const closedConnections = Math.max(2, 2 * i.batch);
  const closed = await load.run({
    url: i.url,
    headers: i.headers,
    body: i.body,
    contentType: i.contentType,
    durationS: i.seconds * CLOSED_LOOP_SHARE,
    connections: closedConnections,
    signal: i.signal,
  });
  const steps: OpenLoopStep[] = [];
  const stepSeconds = (i.seconds * (1 - CLOSED_LOOP_SHARE)) / OPEN_LOOP_STEPS.length;
  for (const f of OPEN_LOOP_STEPS) {
    if (i.signal?.aborted || closed.rps <= 0) break;
    const targetRps = Math.max(1, closed.rps * f);
    // Enough connections that a slow answer does not hold the next request back (Little's law with
    // twice the closed loop's p99 as headroom, at most the SLO), and no more: autocannon sends one
    // request per connection at once when a run starts, so 256 connections for 134 req/s made a
    // burst of 256 that the replica rightly shed, and the step failed at half the closed-loop rate.
    const latencyMs = Math.min(i.sloMs, Math.max(LATENCY_FLOOR_MS, 2 * (closed.p99 || i.sloMs)));
    const connections = Math.min(MAX_CONNECTIONS, Math.max(2, Math.ceil((targetRps * latencyMs) / 1000) + i.batch));
    const outcome = await load.run({
      url: i.url,
      headers: i.headers,
      body: i.body,
      contentType: i.contentType,
      durationS: stepSeconds,
      connections,
      rate: targetRps,
      signal: i.signal,
    });
    const step = { targetRps, outcome, meetsSlo: meetsSlo(outcome, i.sloMs) };
    steps.push(step);
    if (!step.meetsSlo) break;
  }
  const passing = steps.filter((s) => s.meetsSlo);
  return {
    closed,
    steps,
    best: passing.length ? passing.reduce((a, b) => (b.outcome.rps > a.outcome.rps ? b : a)) : undefined,
  };
}
