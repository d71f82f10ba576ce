/**
 * Metering of shared devices, per replica and per function, from the token server's own clock:
 *   device-seconds used   token-held time × partition/100
 *   share reserved        quotaRequest × partition/100 × wall time registered
 *   tokens granted, time spent waiting for a token, token-held seconds
 * Exported as Prometheus metrics (`fastgshare_token_*`, per function and per replica) on an
 * injected registry and as a snapshot for the agent's API (`GET /v1/usage`). Per-function totals
 * outlive their replicas (monotonic counters); a replica's own figures go when it is forgotten.
 */
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../../core/clock.ts';
import type { ShareConfig } from './token-scheduler.ts';

export const TOKEN_METRIC_PREFIX = 'fastgshare_token_';

export interface UsageFigures {
  /** Seconds a token was held (by the server's clock). */
  heldSeconds: number;
  deviceSeconds: number;
  reservedDeviceSeconds: number;
  tokensGranted: number;
  waitSeconds: number;
}

export interface ReplicaUsage extends UsageFigures {
  replicaId: string;
  function: string;
  device: string;
  share: ShareConfig;
}

export interface FunctionUsage extends UsageFigures {
  function: string;
}

export interface UsageSnapshot {
  at: string;
  replicas: ReplicaUsage[];
  functions: FunctionUsage[];
}

export interface TokenMeter {
  /** Starts (or, with a new share, re-prices) a replica's reservation. */
  track(replicaId: string, fn: string, device: string, share: ShareConfig): void;
  granted(replicaId: string, waitedMs: number): void;
  held(replicaId: string, heldMs: number): void;
  /** Ends a replica's reservation and drops its per-replica figures (function totals stay). */
  forget(replicaId: string): void;
  snapshot(): UsageSnapshot;
  replica(replicaId: string): ReplicaUsage | undefined;
}

const zero = (): UsageFigures => ({
  heldSeconds: 0,
  deviceSeconds: 0,
  reservedDeviceSeconds: 0,
  tokensGranted: 0,
  waitSeconds: 0,
});

interface Tracked {
  fn: string;
  device: string;
  share: ShareConfig;
  figures: UsageFigures;
  /** Reservation accrued up to `since` (earlier shares), not yet added to the figures. */
  since: number;
}

export function createTokenMeter(registry: Registry, clock: Clock): TokenMeter {
  const replicas = new Map<string, Tracked>();
  const functions = new Map<string, UsageFigures>();
  const fnFigures = (fn: string) => {
    let f = functions.get(fn);
    if (!f) functions.set(fn, (f = zero()));
    return f;
  };

  /** Moves reservation accrued since the last settlement into the figures. */
  const settle = (t: Tracked, now: number) => {
    const reserved = (((t.share.quotaRequest * t.share.partition) / 100) * Math.max(0, now - t.since)) / 1000;
    t.figures.reservedDeviceSeconds += reserved;
    fnFigures(t.fn).reservedDeviceSeconds += reserved;
    t.since = now;
  };
  const settleAll = () => {
    const now = clock.now();
    for (const t of replicas.values()) settle(t, now);
  };

  const metric = (field: keyof UsageFigures, name: string, help: string) => {
    new Counter({
      name: `${TOKEN_METRIC_PREFIX}${name}`,
      help,
      labelNames: ['function_name'],
      registers: [registry],
      collect() {
        settleAll();
        this.reset();
        for (const [fn, f] of functions) this.inc({ function_name: fn }, f[field]);
      },
    });
    new Counter({
      name: `${TOKEN_METRIC_PREFIX}replica_${name}`,
      help: `${help} (per replica, while it runs)`,
      labelNames: ['function_name', 'replica'],
      registers: [registry],
      collect() {
        settleAll();
        this.reset();
        for (const [id, t] of replicas) this.inc({ function_name: t.fn, replica: id }, t.figures[field]);
      },
    });
  };
  metric('deviceSeconds', 'device_seconds_total', 'Device-seconds used: token-held seconds × partition/100');
  metric(
    'reservedDeviceSeconds',
    'reserved_device_seconds_total',
    'Device-seconds reserved: quota request × partition/100 × wall seconds',
  );
  metric('heldSeconds', 'held_seconds_total', "Seconds a time token was held, by the token server's clock");
  metric('tokensGranted', 'grants_total', 'Time tokens granted');
  metric('waitSeconds', 'wait_seconds_total', 'Seconds spent waiting for a time token');

  const add = (id: string, fn: (f: UsageFigures, t: Tracked) => void) => {
    const t = replicas.get(id);
    if (!t) return;
    fn(t.figures, t);
    fn(fnFigures(t.fn), t);
  };

  const view = (id: string, t: Tracked): ReplicaUsage => ({
    replicaId: id,
    function: t.fn,
    device: t.device,
    share: { ...t.share },
    ...t.figures,
  });

  return {
    track(id, fn, device, share) {
      const now = clock.now();
      const t = replicas.get(id);
      if (t) {
        settle(t, now);
        t.share = { ...share };
        return;
      }
      fnFigures(fn);
      replicas.set(id, { fn, device, share: { ...share }, figures: zero(), since: now });
    },
    granted(id, waitedMs) {
      add(id, (f) => {
        f.tokensGranted += 1;
        f.waitSeconds += Math.max(0, waitedMs) / 1000;
      });
    },
    held(id, heldMs) {
      add(id, (f, t) => {
        f.heldSeconds += heldMs / 1000;
        f.deviceSeconds += (heldMs / 1000) * (t.share.partition / 100);
      });
    },
    forget(id) {
      const t = replicas.get(id);
      if (!t) return;
      settle(t, clock.now());
      replicas.delete(id);
    },
    snapshot() {
      settleAll();
      return {
        at: clock.date().toISOString(),
        replicas: [...replicas].map(([id, t]) => view(id, t)),
        functions: [...functions].map(([fn, f]) => ({ function: fn, ...f })),
      };
    },
    replica(id) {
      const t = replicas.get(id);
      if (!t) return undefined;
      settle(t, clock.now());
      return view(id, t);
    },
  };
}
