/** What one trial measured (stored as a ProfileTrial document's `metrics`). */
export interface LatencyPercentiles {
  p50: number;
  p95: number;
  p99: number;
}

export interface TrialMetrics {
  /** Highest open-loop rate that met the SLO, requests/s (0 when none did). */
  sloRps: number;
  /** Closed-loop maximum, requests/s. */
  closedLoopRps: number;
  /** Latency at the SLO rate (or, when no rate met it, in the closed loop), ms. */
  latencyMs: LatencyPercentiles;
  closedLoopLatencyMs: LatencyPercentiles;
  /** Failed share of all requests of the trial (429 refusals included). */
  errorRate: number;
  /** Share of all requests that failed other than by a 429 refusal (errors, 5xx, timeouts): the replica not working. */
  failedRate?: number;
  /** Share of the whole device the replica kept busy under load (0–1). */
  busyShare: number;
  /** Where busyShare came from: the token meters (gated replicas) or the replica's CPU use. */
  busySource: 'tokens' | 'cpu';
  /** Largest resident memory seen, bytes. */
  memoryBytes: number;
  /** Requests sent in all. */
  requests: number;
  /** Open-loop steps: target rate, achieved rate, p99, error rate, met the SLO. */
  steps: Array<{ targetRps: number; rps: number; p99: number; errorRate: number; meetsSlo: boolean }>;
  /**
   * Set when the trial could not run properly on any of its attempts: why (trial-validity.ts); such a trial is not in
   * the table.
   */
  invalid?: string;
  /** Times the trial was run (more than 1 when an attempt could not run properly). */
  attempts?: number;
}
