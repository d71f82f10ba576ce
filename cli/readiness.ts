/** Waits until each function reports a ready replica (availableReplicas > 0), with progress. */
import { PlatformError } from '../core/errors.ts';
import type { OpenFaasClient } from './api-client.ts';

export interface ReadinessOptions {
  timeoutMs: number;
  intervalMs?: number;
  onWaiting?: (name: string, elapsedMs: number) => void;
  onReady?: (name: string, elapsedMs: number) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitForReady(
  client: OpenFaasClient,
  functions: Array<{ name: string; namespace?: string }>,
  opts: ReadinessOptions,
): Promise<void> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? defaultSleep;
  const interval = opts.intervalMs ?? 250;
  const start = now();
  const pending = new Map(functions.map((f) => [`${f.name}.${f.namespace ?? ''}`, f]));
  let lastReport = start;
  while (pending.size > 0) {
    for (const [key, f] of pending) {
      const status = await client.getFunction(f.name, f.namespace).catch((err: unknown) => {
        if (err instanceof PlatformError && err.code === 'not_found') return undefined;
        throw err;
      });
      if (status && status.availableReplicas > 0) {
        pending.delete(key);
        opts.onReady?.(f.name, now() - start);
      }
    }
    if (pending.size === 0) break;
    const elapsed = now() - start;
    if (elapsed >= opts.timeoutMs) {
      const names = [...pending.values()].map((f) => f.name).join(', ');
      throw new PlatformError(
        'no_replicas',
        `no ready replica for ${names} after ${Math.round(elapsed / 1000)}s: see \`fastgshare logs ${[...pending.values()][0]!.name}\` and \`fastgshare describe ${[...pending.values()][0]!.name}\``,
      );
    }
    if (now() - lastReport >= 2_000) {
      lastReport = now();
      for (const f of pending.values()) opts.onWaiting?.(f.name, elapsed);
    }
    await sleep(interval);
  }
}
