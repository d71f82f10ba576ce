/**
 * Tenancy and metering as one part of the gateway, so that main.ts only wires it:
 * - `systemAuth`: admin or tenant basic auth for /system/* (when the gateway has auth on)
 * - `routers`: the tenant scope (first), /system/tenants, /system/cost
 * - `wrapInvoke`: per-function invocation auth (fastgshare/invoke_auth), for /function and /async-function
 * - `observer`: invocation metering; `start`/`close` run the node usage poller and flushes.
 * With auth off every caller is the admin, as before.
 */
import type { RequestHandler, Router } from 'express';
import type { GatewayConfig } from '../../core/config.ts';
import { readTenancyConfig } from '../../core/config.ts';
import type { Models } from '../../core/store/models.ts';
import type { NodeAgentClient } from '../../core/contracts/node-agent.ts';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { FunctionStatus } from '../../core/contracts/openfaas.ts';
import type { Namespaces } from '../control/namespaces.ts';
import type { InvokeHandler } from '../proxy/invoke.ts';
import type { InvocationObserver } from '../observers/invocation-observer.ts';
import { createTenantStore, type TenantStore } from './tenant-store.ts';
import { createFunctionInfoCache } from './function-info.ts';
import { createAuthenticator, createSystemAuth, type Authenticate } from './system-auth.ts';
import { createInvokeAuth } from './invoke-auth.ts';
import { createTenantScope } from './scope.ts';
import { ADMIN } from './principal.ts';
import { createMetering, type Metering } from '../metering/metering.ts';
import { createHttpUsageSource } from '../metering/usage-source.ts';
import { createTenantRoutes } from '../routes/tenants.ts';
import { createCostRoutes } from '../routes/cost.ts';

export interface TenancyWiring {
  tenants: TenantStore;
  authenticate: Authenticate;
  systemAuth?: RequestHandler;
  wrapInvoke: (next: InvokeHandler) => InvokeHandler;
  observer: InvocationObserver;
  metering?: Metering;
  /** /system routers; the scope must come before every other /system route. */
  routers(listFunctions: (namespace: string, usage: boolean) => Promise<FunctionStatus[]>): { scope: Router; routes: Router[] };
  start(): void;
  close(): Promise<void>;
}

export function createTenancyWiring(d: { config: GatewayConfig; models: Models; namespaces: Namespaces; nodes: NodeAgentClient[]; clock: Clock; log: Logger }): TenancyWiring {
  const t = d.config.tenancy ?? readTenancyConfig({});
  const log = d.log.child('tenancy');
  const tenants = createTenantStore({ models: d.models, namespaces: d.namespaces, clock: d.clock, hashRounds: t.hashRounds });
  const info = createFunctionInfoCache({ models: d.models, clock: d.clock });
  const authenticate: Authenticate = d.config.auth ? createAuthenticator(d.config.auth, tenants) : async () => ADMIN;
  const metering = t.metering
    ? createMetering({ models: d.models, sources: d.nodes.map((n) => createHttpUsageSource(n)), info, clock: d.clock, log, options: { pollMs: t.meterPollMs, flushMs: t.meterFlushMs, minuteRetentionDays: t.minuteRetentionDays } })
    : undefined;
  return {
    tenants,
    authenticate,
    systemAuth: d.config.auth ? createSystemAuth(authenticate) : undefined,
    wrapInvoke: createInvokeAuth({ info, authenticate }),
    observer: metering?.observer ?? {},
    metering,
    routers: (listFunctions) => ({
      scope: createTenantScope({ listFunctions }),
      routes: [createTenantRoutes({ tenants, log }), createCostRoutes({ models: d.models, tenants, pricing: t.pricing, clock: d.clock, beforeReport: metering?.flush })],
    }),
    start: () => metering?.start(),
    close: async () => metering?.close(),
  };
}
