/**
 * Puts the auto-scaler's parts into a gateway in two steps: `createAutoscaleWiring` before the
 * control plane exists (the planned Placement, the capacity-weighted balancer, the rate meter and
 * the explain route), `connect` once it does. With the auto-scaler off the placement is the
 * fallback, the balancer still weighs replicas whose capacity is known, and the route answers 501.
 */
import type { Router } from 'express';
import type { Registry } from 'prom-client';
import type { Clock } from '../../core/clock.ts';
import type { AutoscaleConfig } from '../../core/config.ts';
import type { NodeAgentClient } from '../../core/contracts/node-agent.ts';
import type { Logger } from '../../core/logger.ts';
import type { Models } from '../../core/store/models.ts';
import {
  calibrationProfileSource,
  layeredProfileSource,
  type ProfileSource,
} from '../../scheduler/live/profile-source.ts';
import type { StoredFunctionView } from '../../scheduler/live/live-function.ts';
import type { FunctionsControl } from '../control/functions.ts';
import type { Placement } from '../control/placement.ts';
import type { Reconciler } from '../control/reconciler.ts';
import type { Serial } from '../control/serial.ts';
import { asStringMap } from '../control/function-spec.ts';
import type { InvocationObserver } from '../observers/invocation-observer.ts';
import { createWeightedBalancer, type Balancer } from '../proxy/balancer.ts';
import { createAutoscaler, type Autoscaler } from './autoscaler.ts';
import { createExplainRoutes } from './explain-route.ts';
import { createNodeInventory } from './node-inventory.ts';
import { createPlannedPlacement } from './planned-placement.ts';
import { createRateMeter } from './rate-meter.ts';
import { createCapacityBook, type CapacityBook } from './replica-capacities.ts';
import { createControlScaleTarget, type AdmissionClamp, type ScaleTarget } from './scale-target.ts';
import type { ExplainRecord } from './autoscaler.ts';

/** The explain record with the admission clamp of its last scale, when there is one. */
function withAdmission(rec: ExplainRecord | undefined, clamp: AdmissionClamp | undefined): ExplainRecord | undefined {
  return rec && clamp ? Object.assign({}, rec, { admission: clamp }) : rec;
}

export interface AutoscaleWiringOptions {
  config?: AutoscaleConfig;
  clock: Clock;
  log: Logger;
  registry: Registry;
  fallback: Placement;
  /** Profiles consulted before the calibration table (e.g. the profiler's store). */
  profiles?: ProfileSource;
  requestProfile?: (fnKey: string) => void | Promise<void>;
}

export interface AutoscaleConnection {
  control: FunctionsControl;
  models: Models;
  serial: Serial;
  reconciler: Reconciler;
  availableNodes: () => NodeAgentClient[];
}

export interface AutoscaleWiring {
  placement: Placement;
  balancer: Balancer;
  capacities: CapacityBook;
  observers: InvocationObserver[];
  routes: Router;
  connect(c: AutoscaleConnection): void;
  start(): void;
  stop(): Promise<void>;
  readonly autoscaler: Autoscaler | undefined;
}

export function createAutoscaleWiring(o: AutoscaleWiringOptions): AutoscaleWiring {
  const capacities = createCapacityBook();
  const balancer = createWeightedBalancer(capacities);
  const cfg = o.config;
  const meter = cfg ? createRateMeter(o.clock.now()) : undefined;
  const placement = cfg ? createPlannedPlacement(o.fallback) : undefined;
  let autoscaler: Autoscaler | undefined;
  let target: ScaleTarget | undefined;
  return {
    placement: placement ?? o.fallback,
    balancer,
    capacities,
    observers: meter ? [meter] : [],
    // a decision admission lowered carries why (gateway/admission/)
    routes: createExplainRoutes(
      cfg ? { explain: (k) => withAdmission(autoscaler?.explain(k), target?.admission?.(k)) } : undefined,
    ),
    connect(c) {
      if (!cfg || !meter) return;
      const log = o.log.child('autoscaler');
      autoscaler = createAutoscaler({
        clock: o.clock,
        log,
        registry: o.registry,
        listFunctions: async () =>
          (
            await c.models.Function.find({}, { name: 1, namespace: 1, labels: 1, annotations: 1, replicas: 1 }).lean()
          ).map((f): StoredFunctionView => ({
            name: f.name,
            namespace: f.namespace,
            labels: asStringMap(f.labels),
            annotations: asStringMap(f.annotations),
            replicas: f.replicas,
          })),
        meter,
        profiles: layeredProfileSource([...(o.profiles ? [o.profiles] : []), calibrationProfileSource()]),
        inventory: createNodeInventory({ available: c.availableNodes, log }),
        target: (target = createControlScaleTarget(c)),
        placement,
        capacities,
        requestProfile: o.requestProfile,
        options: {
          periodMs: cfg.periodMs,
          devicesPerNode: cfg.devicesPerNode,
          applyConfig: cfg.applyConfig,
          planner: { cooldownUpMs: cfg.cooldownUpMs, cooldownDownMs: cfg.cooldownDownMs, vertical: cfg.vertical },
          estimator: { idleAfterMs: cfg.idleAfterMs, peakWindowMs: cfg.peakWindowMs, headroom: cfg.headroom },
        },
      });
    },
    start: () => autoscaler?.start(),
    stop: async () => autoscaler?.stop(),
    get autoscaler() {
      return autoscaler;
    },
  };
}
