/**
 * Makes the nodes match the store: at start, every `periodMs`, and soon after each change.
 * Each pass pushes every stored function's desired state (so functions come back after a
 * gateway or node restart) and removes from the nodes the functions the store does not know.
 * It is the one owner of rollout: the control layer's deploy, scale and remove push through
 * sync/drop here (inside the same serial section) rather than calling Rollout themselves.
 */
import type { Models } from '../../core/store/models.ts';
import type { Logger } from '../../core/logger.ts';
import type { ReplicaDirectory } from '../nodes/replica-directory.ts';
import { functionKey } from '../nodes/replica-directory.ts';
import type { FunctionCatalog } from './function-catalog.ts';
import type { Rollout } from './rollout.ts';
import type { SecretStore } from './secrets.ts';
import type { Serial } from './serial.ts';
import { toFunctionSpec, type StoredFunction } from './function-spec.ts';
import type { Clock } from '../../core/clock.ts';

export interface Reconciler {
  /** One pass now (serialised with control-plane changes). */
  runOnce(): Promise<void>;
  /** Asks for a pass soon; several requests share one pass. */
  trigger(): void;
  /**
   * Pushes one function's desired state (stored or about to be) to the nodes now; the caller
   * holds the serial section. Throws the first node error after trying every node; with
   * strictSecrets a missing secret is a 400 before anything is sent, else a warning.
   */
  sync(fn: StoredFunction, replicas: number, opts: { strictSecrets: boolean }): Promise<void>;
  /** Removes one function from every node that answers; returns the node errors (the next pass retries). */
  drop(namespace: string, name: string): Promise<Error[]>;
  start(): void;
  stop(): Promise<void>;
}

export interface ReconcilerDeps {
  models: Models;
  directory: ReplicaDirectory;
  rollout: Rollout;
  secrets: SecretStore;
  catalog: FunctionCatalog;
  serial: Serial;
  log: Logger;
  /** Schedules the periodic passes. */
  clock: Clock;
  periodMs?: number;
  /**
   * Functions the store does not know that stay on the nodes: the trial functions a running profiler
   * sweep owns (profiler.ownsTrial). A trial-like name alone keeps nothing.
   */
  keep?: (namespace: string, name: string) => boolean;
}

export function createReconciler(d: ReconcilerDeps): Reconciler {
  const periodMs = d.periodMs ?? 5_000;
  let cancelTimer: (() => void) | undefined;
  let pending: Promise<void> | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;

  async function sync(fn: StoredFunction, replicas: number, opts: { strictSecrets: boolean }): Promise<void> {
    const key = functionKey(fn.name, fn.namespace);
    const { values, missing } = await d.secrets.resolve(fn.namespace, fn.secrets ?? [], opts.strictSecrets);
    if (missing.length)
      d.log.warn('function names secrets that do not exist', { function: key, missing: missing.join(',') });
    // just after start no node may be known yet: poll them once before giving up
    if (d.directory.availableNodes().length === 0) await d.directory.refresh();
    const hosts = d.directory.view(key)?.nodes ?? [];
    await d.rollout.apply(toFunctionSpec(fn, values), replicas, { nodes: d.directory.availableNodes(), hosts });
  }

  async function pass(): Promise<void> {
    await d.directory.refresh();
    const docs = await d.models.Function.find().lean();
    d.catalog.replaceAll(docs.map((f) => functionKey(f.name, f.namespace)));
    for (const f of docs) {
      try {
        if (d.directory.availableNodes().length) await sync(f, f.replicas, { strictSecrets: false });
      } catch (err) {
        d.log.warn('cannot apply function on nodes', {
          function: functionKey(f.name, f.namespace),
          error: (err as Error).message,
        });
      }
    }
    const known = new Set(docs.map((f) => functionKey(f.name, f.namespace)));
    for (const v of d.directory.views()) {
      if (known.has(v.key) || d.keep?.(v.namespace, v.name)) continue;
      d.log.info('removing function the store does not know', { function: v.key });
      for (const err of await d.rollout.remove(v.namespace, v.name, v.nodes)) {
        d.log.warn('cannot remove function from node', { function: v.key, error: err.message });
      }
    }
  }

  function runOnce(): Promise<void> {
    const p = d.serial.run(pass).catch((err: Error) => d.log.warn('reconcile pass failed', { error: err.message }));
    running = p;
    return p;
  }

  function schedule(): void {
    if (stopped) return;
    cancelTimer?.();
    cancelTimer = d.clock.after(periodMs, () => void runOnce().finally(schedule), { background: true });
  }

  return {
    runOnce,
    sync,
    drop: (namespace, name) => d.rollout.remove(namespace, name, d.directory.availableNodes()),
    trigger() {
      if (pending || stopped) return;
      pending = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        pending = undefined;
        return runOnce();
      });
    },
    start() {
      stopped = false;
      void runOnce().finally(schedule);
    },
    async stop() {
      stopped = true;
      cancelTimer?.();
      await pending;
      await running;
    },
  };
}
