/**
 * The auto-scaler loop in the gateway process. Every period: the measured request rate of each
 * managed function (those with `fastgshare/slo_ms`) feeds its demand estimator; one pure
 * scheduling round (scheduler/live/round.ts → scheduleRound) plans and places every function;
 * the decision is applied through the control plane: replicas per node and, with applyConfig,
 * each node's replica groups (one per configuration and device: the plan's saturated replicas and
 * its residual replica run side by side, and a group names the device index the scheduler placed
 * it on when the node reported its devices) through the planned Placement, the count through scale.
 * The function's stored annotations stay its owner's. Each replica is weighed for routing by its
 * own configuration's profiled capacity. Decisions are logged, exported as metrics and kept for
 * `GET /system/explain/<fn>`. Hysteresis and cooldowns are the planner's.
 */
import type { Registry } from 'prom-client';
import type { Clock } from '../../core/clock.ts';
import { replicaGroupKey, type ReplicaGroup } from '../../core/contracts/node-agent.ts';
import type { Logger } from '../../core/logger.ts';
import { configKey, type ProfileTable, type ReplicaConfig } from '../../core/profiles/profile-table.ts';
import {
  createDemandEstimator,
  type DemandEstimate,
  type DemandEstimator,
  type DemandEstimatorOptions,
} from '../../scheduler/demand-estimator.ts';
import type { FunctionPlanState, PlannerOptions } from '../../scheduler/planner.ts';
import type { FunctionDecision } from '../../scheduler/policies/policy.ts';
import type { PlacedReplica } from '../../scheduler/types.ts';
import {
  readLiveFunction,
  sameConfig,
  type LiveFunction,
  type StoredFunctionView,
} from '../../scheduler/live/live-function.ts';
import type { ProfileSource } from '../../scheduler/live/profile-source.ts';
import { groupOverrides, runLiveRound, type FunctionTarget } from '../../scheduler/live/round.ts';
import { createAutoscalerMetrics } from './metrics.ts';
import type { NodeInventory } from './node-inventory.ts';
import type { PlannedPlacement } from './planned-placement.ts';
import type { RateMeter } from './rate-meter.ts';
import type { CapacityBook } from './replica-capacities.ts';
import type { ScaleTarget } from './scale-target.ts';

export interface AutoscalerOptions {
  periodMs: number;
  devicesPerNode: number;
  /** Run the plan's configurations (replica groups on the nodes); off: replicas run the function's annotations. */
  applyConfig: boolean;
  planner?: Partial<PlannerOptions>;
  estimator?: DemandEstimatorOptions;
}

export interface AutoscalerDeps {
  clock: Clock;
  log: Logger;
  registry: Registry;
  listFunctions(): Promise<StoredFunctionView[]>;
  meter: RateMeter;
  profiles: ProfileSource;
  inventory: NodeInventory;
  target: ScaleTarget;
  placement?: PlannedPlacement;
  capacities?: CapacityBook;
  /** Asks for a profiling job of a function (`name.namespace`) that has no profile; called once per function. */
  requestProfile?: (fnKey: string) => void | Promise<void>;
  options: AutoscalerOptions;
}

/** What `GET /system/explain/<fn>` returns. */
export interface ExplainRecord {
  function: string;
  /** When the decision was taken (ISO time). */
  at: string;
  measuredRps: number;
  demand: DemandEstimate;
  replicas: number;
  /** The plan's main configuration. */
  config?: ReplicaConfig;
  /** Every configuration the plan runs and how many replicas of it, e.g. "p25-q1-b1 x4, p10-q1-b1 x1". */
  configs?: string;
  decision: FunctionDecision;
}

export interface Autoscaler {
  runOnce(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
  explain(key: string): ExplainRecord | undefined;
}

const cfgText = (c?: ReplicaConfig) => (c ? configKey(c) : 'unchanged');

/** "p25-q1-b1 x4, p10-q1-b1 x1" over every node. */
function configsText(t: FunctionTarget): string {
  const counts = new Map<string, number>();
  for (const gs of t.groups?.values() ?? [])
    for (const g of gs) counts.set(configKey(g.config), (counts.get(configKey(g.config)) ?? 0) + g.replicas);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${k} x${n}`)
    .join(', ');
}

/** The decision without the planner's internal state (kept small and JSON-friendly). */
function publicDecision(d: FunctionDecision): FunctionDecision {
  if (!d.plan) return d;
  const { state: _state, ...plan } = d.plan;
  return { ...d, plan: plan as FunctionDecision['plan'] };
}

export function createAutoscaler(d: AutoscalerDeps): Autoscaler {
  const log = d.log;
  const metrics = createAutoscalerMetrics(d.registry);
  const estimators = new Map<string, DemandEstimator>();
  const explanations = new Map<string, ExplainRecord>();
  const profiled = new Set<string>();
  let planState = new Map<string, FunctionPlanState>();
  let current: PlacedReplica[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;

  /** What each node's replica groups were last set to, per function (to roll out only changes). */
  const sentGroups = new Map<string, string>();

  function forget(key: string): void {
    estimators.delete(key);
    explanations.delete(key);
    metrics.forget(key);
    d.placement?.set(key, undefined);
    d.capacities?.setFunction(key, undefined);
    sentGroups.delete(key);
  }

  /**
   * Sets the function's placement (replicas per node and, with applyConfig, replica groups) and
   * its replicas' capacities; returns true when the groups changed.
   */
  function place(
    f: LiveFunction,
    t: FunctionTarget,
    userAnnotations: Record<string, string>,
    profiles: ProfileTable,
  ): boolean {
    const own = profiles.entries(f.spec.model, f.spec.deviceClass).find((e) => sameConfig(e, f.config))?.rps;
    if (!d.options.applyConfig || !t.groups || !t.perNode) {
      d.capacities?.setFunction(f.key, own);
      d.placement?.set(f.key, t.perNode);
      return sentGroups.delete(f.key);
    }
    const groups = new Map<string, ReplicaGroup[]>();
    const byGroup = new Map<string, number>();
    for (const [node, gs] of t.groups) {
      groups.set(
        node,
        gs.map((g) => {
          const annotations = groupOverrides(g, userAnnotations);
          byGroup.set(replicaGroupKey(annotations), g.capacityRps);
          return { replicas: g.replicas, annotations };
        }),
      );
    }
    d.capacities?.setFunction(f.key, own, byGroup);
    d.placement?.set(f.key, t.perNode, groups);
    const text = JSON.stringify([...groups].sort(([a], [b]) => a.localeCompare(b)));
    if (sentGroups.get(f.key) === text) return false;
    sentGroups.set(f.key, text);
    return true;
  }

  async function apply(f: LiveFunction, replicas: number, groupsChanged: boolean, configs: string): Promise<void> {
    if (replicas !== f.replicas) await d.target.scale(f.name, f.namespace, replicas);
    else if (groupsChanged) d.target.rollout();
    if (groupsChanged)
      log.info(
        configs
          ? 'autoscaler configurations applied'
          : 'autoscaler configurations cleared: replicas run the function annotations',
        { function: f.key, replicas, configs },
      );
  }

  async function round(): Promise<void> {
    const now = d.clock.now();
    const rates = d.meter.take(now);
    const functions: LiveFunction[] = [];
    const annotationsOf = new Map<string, Record<string, string>>();
    for (const doc of await d.listFunctions()) {
      try {
        const f = readLiveFunction(doc);
        if (f) {
          functions.push(f);
          annotationsOf.set(f.key, doc.annotations ?? {});
        }
      } catch (err) {
        log.warn('function not auto-scaled: fix its annotations or labels', {
          function: `${doc.name}.${doc.namespace}`,
          error: (err as Error).message,
        });
      }
    }
    const managed = new Set(functions.map((f) => f.key));
    for (const k of [...estimators.keys()]) if (!managed.has(k)) forget(k);
    for (const k of [...sentGroups.keys()]) if (!managed.has(k)) sentGroups.delete(k);
    const demand = new Map<string, number>();
    const estimates = new Map<string, DemandEstimate>();
    for (const f of functions) {
      let e = estimators.get(f.key);
      if (!e) estimators.set(f.key, (e = createDemandEstimator(d.options.estimator)));
      e.observe(now, rates.get(f.key) ?? 0);
      const est = e.estimate();
      estimates.set(f.key, est);
      demand.set(f.key, est.rps);
    }
    if (functions.length === 0) return;
    const profiles = await d.profiles.table();
    const nodes = await d.inventory.nodes();
    const r = runLiveRound(
      { nowMs: now, functions, demand, nodes, devicesPerNode: d.options.devicesPerNode, current, profiles },
      planState,
      { planner: d.options.planner },
    );
    planState = r.state;
    current = r.decision.replicas;
    const at = d.clock.date().toISOString();
    for (const t of r.targets) {
      const f = functions.find((x) => x.key === t.key)!;
      const plan = t.decision.plan;
      const action = plan?.action ?? 'hold';
      metrics.record(f.key, demand.get(f.key) ?? 0, t.replicas, action);
      explanations.set(f.key, {
        function: f.key,
        at,
        measuredRps: rates.get(f.key) ?? 0,
        demand: estimates.get(f.key)!,
        replicas: t.replicas,
        config: t.config,
        ...(t.groups ? { configs: configsText(t) } : {}),
        decision: publicDecision(t.decision),
      });
      const fields = {
        function: f.key,
        action,
        measuredRps: Number((rates.get(f.key) ?? 0).toFixed(2)),
        demandRps: Number((demand.get(f.key) ?? 0).toFixed(2)),
        replicas: t.replicas,
        previous: f.replicas,
        config: cfgText(t.config),
        capacityRps: Number((plan?.capacityRps ?? 0).toFixed(2)),
      };
      if (action === 'hold' && t.replicas === f.replicas) log.debug('autoscaler decision', fields);
      else log.info('autoscaler decision', fields);
      if (plan?.needsProfiling && d.requestProfile && !profiled.has(f.key)) {
        profiled.add(f.key);
        try {
          await d.requestProfile(f.key);
          log.info('profiling requested for a function without a profile', {
            function: f.key,
            model: f.spec.model,
            deviceClass: f.spec.deviceClass,
          });
        } catch (err) {
          profiled.delete(f.key);
          log.warn('cannot request profiling; will ask again next round', {
            function: f.key,
            error: (err as Error).message,
          });
        }
      }
      let groupsChanged = false;
      try {
        groupsChanged = place(f, t, annotationsOf.get(f.key) ?? {}, profiles);
        await apply(f, t.replicas, groupsChanged, configsText(t));
      } catch (err) {
        sentGroups.delete(f.key); // sent again next round
        log.warn('cannot apply autoscaler decision; next round tries again', {
          function: f.key,
          replicas: t.replicas,
          error: (err as Error).message,
        });
      }
    }
  }

  function runOnce(): Promise<void> {
    running ??= round()
      .catch((err: Error) => log.warn('autoscaler round failed', { error: err.message }))
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => void runOnce().finally(schedule), d.options.periodMs);
    timer.unref();
  }

  return {
    runOnce,
    start() {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
    explain: (key) => explanations.get(key),
  };
}
