/**
 * Tenancy and metering as one part of the gateway, so that main.ts only wires it:
 * - `systemAuth`: admin or tenant basic auth for /system/* (when the gateway has auth on),
 *   throttled per user and source, passwords checked on worker threads
 * - `routers`: the tenant scope (first), /system/tenants (and API keys), /system/cost
 * - `wrapInvoke`: per-function invocation auth (fastgshare/invoke_auth), for /function and
 *   /async-function; it consumes the credential headers. `callerOf` tells the async submission
 *   whom a call was accepted as, `internalHeaders` is what queued calls present instead.
 * - `observer`: invocation metering; `start`/`close` run the node usage poller and flushes.
 * With auth off every caller is the admin, as before.
 */
import type { IncomingMessage } from 'node:http';
import type { RequestHandler, Router } from 'express';
import type { GatewayConfig } from '../../core/config.ts';
import { readTenancyConfig } from '../../core/config.ts';
import type { Models } from '../../core/store/models.ts';
import type { NodeAgentClient } from '../../core/contracts/node-agent.ts';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { FunctionStatus } from '../../core/contracts/openfaas.ts';
import type { InvocationCaller } from '../../core/contracts/tenants.ts';
import type { Namespaces } from '../control/namespaces.ts';
import type { InvokeHandler } from '../proxy/invoke.ts';
import type { InvocationObserver } from '../observers/invocation-observer.ts';
import { createTenantStore, type TenantStore } from './tenant-store.ts';
import { createFunctionInfoCache } from './function-info.ts';
import {
  asAuthenticate,
  createAuthenticator,
  createSystemAuth,
  OPEN_AUTHENTICATOR,
  type Authenticate,
} from './system-auth.ts';
import { createInvokeAuth } from './invoke-auth.ts';
import { createTenantScope } from './scope.ts';
import { createPasswordHasher } from './password-hasher.ts';
import { createLoginThrottle } from './login-throttle.ts';
import { createApiKeyStore, type ApiKeyStore } from './api-keys.ts';
import { createInternalCredential } from './internal-credential.ts';
import { createMetering, type Metering } from '../metering/metering.ts';
import { createHttpUsageSource } from '../metering/usage-source.ts';
import { createTenantRoutes } from '../routes/tenants.ts';
import { createCostRoutes } from '../routes/cost.ts';

export interface TenancyWiring {
  tenants: TenantStore;
  keys: ApiKeyStore;
  /** /system-terms check of an Authorization header (throttled like the rest). */
  authenticate: Authenticate;
  systemAuth?: RequestHandler;
  wrapInvoke: (next: InvokeHandler) => InvokeHandler;
  /** Whom a request that passed `wrapInvoke` was accepted as. */
  callerOf(req: IncomingMessage): InvocationCaller;
  /** Headers of the gateway's calls to itself on behalf of `caller` (queued async calls). */
  internalHeaders(caller: InvocationCaller): Record<string, string>;
  observer: InvocationObserver;
  metering?: Metering;
  /** /system routers; the scope must come before every other /system route. */
  routers(listFunctions: (namespace: string, usage: boolean) => Promise<FunctionStatus[]>): {
    scope: Router;
    routes: Router[];
  };
  start(): void;
  close(): Promise<void>;
}

export function createTenancyWiring(d: {
  config: GatewayConfig;
  models: Models;
  namespaces: Namespaces;
  nodes: NodeAgentClient[];
  clock: Clock;
  log: Logger;
}): TenancyWiring {
  const t = d.config.tenancy ?? readTenancyConfig({});
  const log = d.log.child('tenancy');
  const hasher = createPasswordHasher({ rounds: t.hashRounds, threads: t.authThreads });
  const keys = createApiKeyStore({ models: d.models, clock: d.clock });
  const tenants = createTenantStore({ models: d.models, namespaces: d.namespaces, clock: d.clock, hasher, keys });
  const info = createFunctionInfoCache({ models: d.models, clock: d.clock });
  const internal = createInternalCredential();
  const throttle = createLoginThrottle({ ...t.login, clock: d.clock });
  const auth = d.config.auth
    ? createAuthenticator({ admin: d.config.auth, tenants, keys, hasher, throttle, internal })
    : OPEN_AUTHENTICATOR;
  const invokeAuth = createInvokeAuth({ info, auth });
  const metering = t.metering
    ? createMetering({
        models: d.models,
        sources: d.nodes.map((n) => createHttpUsageSource(n)),
        info,
        clock: d.clock,
        log,
        options: { pollMs: t.meterPollMs, flushMs: t.meterFlushMs, minuteRetentionDays: t.minuteRetentionDays },
      })
    : undefined;
  return {
    tenants,
    keys,
    authenticate: asAuthenticate(auth),
    systemAuth: d.config.auth ? createSystemAuth(auth) : undefined,
    wrapInvoke: invokeAuth.wrap,
    callerOf: invokeAuth.callerOf,
    internalHeaders: internal.headers,
    observer: metering?.observer ?? {},
    metering,
    routers: (listFunctions) => ({
      scope: createTenantScope({ listFunctions }),
      routes: [
        createTenantRoutes({ tenants, keys, log }),
        createCostRoutes({
          models: d.models,
          tenants,
          pricing: t.pricing,
          clock: d.clock,
          beforeReport: metering?.flush,
        }),
      ],
    }),
    start: () => metering?.start(),
    close: async () => {
      await metering?.close();
      await hasher.close();
    },
  };
}
