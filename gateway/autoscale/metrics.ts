/** Auto-scaler metrics on an injected registry; `function_name` is `name.namespace`. */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface AutoscalerMetrics {
  record(fn: string, demandRps: number, desiredReplicas: number, action: string): void;
  forget(fn: string): void;
}

export function createAutoscalerMetrics(registry: Registry): AutoscalerMetrics {
  const desired = new Gauge({
    name: 'gateway_autoscaler_desired_replicas',
    help: 'Replicas the auto-scaler wants per function',
    labelNames: ['function_name'],
    registers: [registry],
  });
  const demand = new Gauge({
    name: 'gateway_autoscaler_demand_rps',
    help: 'Estimated demand per function (requests/s, headroom included)',
    labelNames: ['function_name'],
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'gateway_autoscaler_decisions_total',
    help: 'Auto-scaler decisions per function and action',
    labelNames: ['function_name', 'action'],
    registers: [registry],
  });
  return {
    record(fn, demandRps, desiredReplicas, action) {
      desired.set({ function_name: fn }, desiredReplicas);
      demand.set({ function_name: fn }, demandRps);
      decisions.inc({ function_name: fn, action });
    },
    forget(fn) {
      desired.remove({ function_name: fn });
      demand.remove({ function_name: fn });
    },
  };
}
