/**
 * Spatio-temporal sharing on one node, wired into the agent: the token server and meter, a
 * launcher wrapper that registers each token-gated replica with its device's scheduler before its
 * process starts (and unregisters it when the process is gone, crash or stop), and a supervisor
 * wrapper that validates share annotations at apply time and applies changed quotas to running
 * replicas without a restart.
 *
 * Changes of `gpu_quota_request` / `gpu_quota_limit` are live (they are left out of the
 * template fingerprint, see apply/fingerprint.ts); a changed partition or device rolls the
 * replicas, since the device backend starts the process from them (cpu core set, emulated
 * latency). With replica groups each replica gets the share of its own group (the spec's
 * annotations with the group's overrides, as the node reports it after the apply).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { FunctionSpec } from '../../core/contracts/node-agent.ts';
import { REPLICA_ENV } from '../../core/contracts/replica-env.ts';
import type { LaunchPlan, ReplicaLauncher } from '../replicas/launcher.ts';
import type { NodeSupervisor } from '../supervisor/node-supervisor.ts';
import { groupSpec } from '../apply/groups.ts';
import { createTokenMeter, type TokenMeter, type UsageSnapshot } from './meter.ts';
import { createTokenServer, type DeviceOccupancy, type TokenServer } from './token-server.ts';
import { deviceIdOf, readShareConfig, type ReplicaShare } from './share-config.ts';
import type { TokenSchedulerOptions } from './token-scheduler.ts';
import type { DeviceTimelines } from '../timeline/recorder.ts';

export interface NodeSharing {
  readonly tokens: TokenServer;
  readonly meter: TokenMeter;
  wrapLauncher(inner: ReplicaLauncher): ReplicaLauncher;
  wrapSupervisor(inner: NodeSupervisor): NodeSupervisor;
  /** Throws PlatformError 'bad_request' naming the annotation at fault. */
  validate(spec: Pick<FunctionSpec, 'annotations'>): ReplicaShare | undefined;
  /**
   * The meters' snapshot, the devices, and `bootId`: new each time the agent starts, so a reader
   * of these counters (which start again from zero) can tell a restart from growth.
   */
  usage(): UsageSnapshot & { devices: DeviceOccupancy[]; bootId: string };
  close(): Promise<void>;
}

export async function createNodeSharing(o: {
  dataDir: string;
  registry: Registry;
  clock: Clock;
  log: Logger;
  scheduler?: Partial<TokenSchedulerOptions>;
  /** Default `<dataDir>/run/tokens.sock` (a unix socket path must stay under ~100 bytes). */
  socketPath?: string;
  /** Where the token server records its events (fast-manager/timeline/). */
  timeline?: DeviceTimelines;
}): Promise<NodeSharing> {
  const meter = createTokenMeter(o.registry, o.clock);
  const bootId = randomUUID();
  const tokens = await createTokenServer({
    socketPath: o.socketPath ?? join(o.dataDir, 'run', 'tokens.sock'),
    clock: o.clock,
    log: o.log,
    meter,
    scheduler: o.scheduler,
    timeline: o.timeline,
  });
  const log = o.log.child('sharing');
  /** Live replicas of each function ("name.namespace") that hold a registration. */
  const live = new Map<string, Set<string>>();
  /** The latest applied share of each replica (a replica restarted from an older template uses it). */
  const current = new Map<string, { share: ReplicaShare; device: string }>();
  /** Replicas of each function that have an entry in `current`. */
  const tracked = new Map<string, Set<string>>();
  const fnKey = (name: string, namespace: string) => `${name}.${namespace}`;

  return {
    tokens,
    meter,
    validate: (spec) => readShareConfig(spec.annotations),
    usage: () => ({ ...meter.snapshot(), devices: tokens.devices(), bootId }),
    wrapLauncher(inner) {
      return {
        launch(plan: LaunchPlan) {
          const fn = fnKey(plan.name, plan.namespace);
          const own = readShareConfig(plan.annotations);
          const latest = own
            ? (current.get(plan.replicaId) ?? { share: own, device: deviceIdOf(plan.annotations) })
            : undefined;
          if (!latest) return inner.launch(plan);
          const key = randomBytes(24).toString('base64url');
          tokens.register(plan.replicaId, { function: fn, device: latest.device, share: latest.share, key });
          let launched;
          try {
            launched = inner.launch({
              ...plan,
              env: {
                ...plan.env,
                [REPLICA_ENV.tokenSocket]: tokens.socketPath,
                [REPLICA_ENV.replicaId]: plan.replicaId,
                [REPLICA_ENV.tokenKey]: key,
              },
            });
          } catch (err) {
            tokens.unregister(plan.replicaId);
            throw err;
          }
          let set = live.get(fn);
          if (!set) live.set(fn, (set = new Set()));
          set.add(plan.replicaId);
          void launched.exited.then(() => {
            tokens.unregister(plan.replicaId);
            live.get(fn)?.delete(plan.replicaId);
          });
          return launched;
        },
      };
    },
    wrapSupervisor(inner) {
      return {
        ...inner,
        async apply(req) {
          // a bad value is a 400 before anything changes
          for (const g of req.groups) readShareConfig(g.spec.annotations);
          const result = await inner.apply(req);
          const fn = fnKey(req.spec.name, req.spec.namespace);
          const before = tracked.get(fn) ?? new Set<string>();
          const now = new Set<string>();
          for (const r of result.replicas) {
            // the replica's group as it is now (a replica moved to a group of another quota reports the new one)
            const annotations = groupSpec(req.spec, r.group?.annotations ?? {}).annotations;
            const share = readShareConfig(annotations);
            if (!share) continue;
            const device = deviceIdOf(annotations);
            current.set(r.id, { share, device });
            now.add(r.id);
            if (!live.get(fn)?.has(r.id)) continue;
            try {
              tokens.register(r.id, { function: fn, device, share });
            } catch (err) {
              // a replica on another device is being rolled; its successor registers afresh
              log.debug('share not applied to a replica being replaced', { replica: r.id, err });
            }
          }
          for (const id of before) if (!now.has(id)) current.delete(id);
          if (now.size) tracked.set(fn, now);
          else tracked.delete(fn);
          return result;
        },
        async remove(namespace, name) {
          const fn = fnKey(name, namespace);
          for (const id of tracked.get(fn) ?? []) current.delete(id);
          tracked.delete(fn);
          return inner.remove(namespace, name);
        },
      };
    },
    close: () => tokens.close(),
  };
}
