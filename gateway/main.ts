/**
 * Builds a gateway from its parts and serves it; no logic of its own.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { GatewayConfig } from '../core/config.ts';
import type { Store } from '../core/store/open-store.ts';
import type { NodeAgentClient } from '../core/contracts/node-agent.ts';
import type { Logger } from '../core/logger.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { asyncOff, createApp, createRequestListener } from './app.ts';
import { createReplicaDirectory, functionKey } from './nodes/replica-directory.ts';
import { createFunctionCatalog } from './control/function-catalog.ts';
import { createSerial } from './control/serial.ts';
import { createRollout } from './control/rollout.ts';
import { evenSpreadPlacement, type Placement } from './control/placement.ts';
import { createReconciler } from './control/reconciler.ts';
import { createNamespaces } from './control/namespaces.ts';
import { openSecretStore } from './control/open-secrets.ts';
import { createFunctionsControl } from './control/functions.ts';
import { createFunctionQuery } from './control/function-status.ts';
import { createInvocationCounter } from './observers/invocation-counter.ts';
import { createMetricsObserver, registerServiceCount } from './observers/metrics.ts';
import { combineObservers, type InvocationObserver } from './observers/invocation-observer.ts';
import type { Balancer } from './proxy/balancer.ts';
import { createAutoscaleWiring } from './autoscale/wiring.ts';
import type { ProfileSource } from '../scheduler/live/profile-source.ts';
import { createForwarder } from './proxy/forwarder.ts';
import { createInvokeHandler, type InvokeHandler } from './proxy/invoke.ts';
import { createFunctionRoutes } from './routes/functions.ts';
import { createNamespaceRoutes } from './routes/namespaces.ts';
import { createSecretRoutes } from './routes/secrets.ts';
import { createLogRoutes } from './routes/logs.ts';
import { createInfoRoutes } from './routes/info.ts';
import { createHealthRoutes } from './routes/health.ts';
import { createMetricsRoutes } from './routes/metrics.ts';
import { startMetricsListener, type MetricsListener } from './http/metrics-listener.ts';
import { createAsyncInvocations } from './async/async-invocations.ts';
import { createCallbackPolicy, listenersFromUrls } from './async/callback-policy.ts';
import { answerClientError } from './http/client-error.ts';
import { createTenancyWiring } from './tenants/tenancy-wiring.ts';
import { join } from 'node:path';
import { ImageStore } from '../core/images/image-store.ts';
import { createProfiler } from '../profiler/profiler.ts';
import { createProfileRoutes } from './routes/profiles.ts';
import { createTimelineRoutes } from './routes/timeline.ts';
import { toFunctionSpec } from './control/function-spec.ts';
import { PlatformError } from '../core/errors.ts';
import { readAdmissionConfig } from '../core/config.ts';
import { createAdmission } from './admission/admission.ts';
import { createNodeCapacities } from './admission/node-capacities.ts';
import { createTenantLimitsStore } from './admission/tenant-limits.ts';
import { createTenantLimitRoutes } from './routes/tenant-limits.ts';

export interface Gateway {
  url: string;
  port: number;
  /** The metrics listener (FASTGSHARE_METRICS_PORT), when the config has one. */
  metricsUrl?: string;
  close(): Promise<void>;
}

export interface GatewayTuning {
  /** Reconcile period (default 5 s). */
  reconcileMs?: number;
  /** Replica directory poll period (default 250 ms). */
  pollMs?: number;
  /** How often invocation counts are written to the store (default 5 s). */
  countFlushMs?: number;
}

export interface StartGatewayOptions {
  config: GatewayConfig;
  store: Store;
  nodes: NodeAgentClient[];
  log: Logger;
  registry?: Registry;
  clock?: Clock;
  tuning?: GatewayTuning;
  /** Seams for later features; defaults: even spread, least outstanding. */
  placement?: Placement;
  balancer?: Balancer;
  observers?: InvocationObserver[];
  /** Profiles the auto-scaler reads before the calibration table (the profiler's store). */
  profiles?: ProfileSource;
  /** Queues a profiling job for a function (`name.namespace`) the auto-scaler finds without a profile. */
  requestProfile?: (fnKey: string) => void | Promise<void>;
  /** Wrappers around the invocation handler (auth per tenant, admission, async...), outermost first. */
  wrapInvoke?: Array<(next: InvokeHandler) => InvokeHandler>;
}

export async function startGateway(opts: StartGatewayOptions): Promise<Gateway> {
  const { config, store, nodes } = opts;
  const log = opts.log.child('gateway');
  const clock = opts.clock ?? systemClock;
  const registry = opts.registry ?? new Registry();
  if (!registry.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics({ register: registry });
  const models = store.models;

  const namespaces = createNamespaces(models);
  await namespaces.ensureDefault();
  const tenancy = createTenancyWiring({ config, models, namespaces, nodes, clock, log });
  const secrets = await openSecretStore({
    dataDir: config.dataDir,
    keyFile: config.secretsKeyFile,
    models,
    namespaces,
    log: log.child('secrets'),
  });
  const directory = createReplicaDirectory({ nodes, log: log.child('directory'), clock, pollMs: opts.tuning?.pollMs });
  const catalog = createFunctionCatalog();
  catalog.replaceAll(
    (await models.Function.find({}, { name: 1, namespace: 1 }).lean()).map((f) => functionKey(f.name, f.namespace)),
  );
  const serial = createSerial();
  // profiler sweeps (profiler/): queue + worker on Redis; its store is the scheduler's profile source
  const images = new ImageStore({ root: join(config.dataDir, 'images') });
  const profiler = config.profiler
    ? createProfiler({
        config: config.profiler,
        redisUrl: config.redisUrl,
        models,
        nodes,
        async spec(namespace, name) {
          const f = await models.Function.findOne({ namespace, name }).lean();
          if (!f)
            throw new PlatformError(
              'not_found',
              `function "${name}.${namespace}" was removed while it was being profiled`,
            );
          return toFunctionSpec(f, (await secrets.resolve(namespace, f.secrets ?? [], false)).values);
        },
        imageBuiltAt: (image) =>
          images.resolve(image).then(
            (b) => b.manifest.builtAt,
            () => undefined,
          ),
        clock,
        log: log.child('profiler'),
      })
    : undefined;
  const autoscale = createAutoscaleWiring({
    config: config.autoscale,
    clock,
    log,
    registry,
    fallback: opts.placement ?? evenSpreadPlacement,
    profiles: opts.profiles ?? profiler?.source,
    requestProfile: opts.requestProfile ?? (config.profiler?.auto ? profiler?.requestProfile : undefined),
  });
  const rollout = createRollout(autoscale.placement);
  const reconciler = createReconciler({
    models,
    directory,
    rollout,
    secrets,
    catalog,
    serial,
    log: log.child('reconcile'),
    clock,
    periodMs: opts.tuning?.reconcileMs,
    keep: (ns, name) => profiler?.ownsTrial(ns, name) ?? false,
  });
  const counter = createInvocationCounter({ models, log, flushMs: opts.tuning?.countFlushMs });
  registerServiceCount(registry, directory);
  const observer = combineObservers(
    [createMetricsObserver(registry), counter, ...autoscale.observers, tenancy.observer, ...(opts.observers ?? [])],
    (err) => log.warn('invocation observer failed', { error: err as Error }),
  );
  const admission = createAdmission({
    models,
    placement: autoscale.placement,
    capacities: createNodeCapacities({ clock, log: log.child('admission') }),
    limits: createTenantLimitsStore(models),
    config: config.admission ?? readAdmissionConfig({}),
    log: log.child('admission'),
  });
  const control = createFunctionsControl({
    models,
    directory,
    namespaces,
    catalog,
    serial,
    reconciler,
    admission,
    log,
  });
  autoscale.connect({ control, models, serial, reconciler, availableNodes: directory.availableNodes });
  const query = createFunctionQuery({ models, directory, invocations: counter });
  const forwarder = createForwarder();
  const proxy = createInvokeHandler({
    directory,
    exists: catalog.has,
    balancer: opts.balancer ?? autoscale.balancer,
    forwarder,
    observer,
    clock,
    log: log.child('proxy'),
    maxBodyBytes: config.maxBodyBytes,
    readyTimeoutMs: config.readyTimeoutMs,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
  });
  const invoke = [tenancy.wrapInvoke, ...(opts.wrapInvoke ?? [])].reduceRight<InvokeHandler>(
    (next, wrap) => wrap(next),
    proxy,
  );
  const tenantRouters = tenancy.routers(query.list);
  const ownListeners = listenersFromUrls([
    ...nodes.map((n) => ({ url: n.url, what: 'node agent' })),
    { url: store.uri, what: 'store' },
    { url: config.mongoUri, what: 'store' },
    { url: config.redisUrl, what: 'redis' },
  ]);
  // queued calls run through this gateway's own /function/ route (see async/function-caller.ts)
  const asyncCalls = config.async
    ? createAsyncInvocations({
        config: config.async,
        redisUrl: config.redisUrl,
        exists: catalog.has,
        registry,
        clock,
        log: log.child('async'),
        maxBodyBytes: config.maxBodyBytes,
        callTimeoutMs: config.readyTimeoutMs + config.upstreamTimeoutMs + 5_000,
        // jobs keep whom invoke auth accepted the call as; they run with the gateway's in-memory credential
        callerOf: tenancy.callerOf,
        credentials: tenancy.internalHeaders,
        // callbacks never reach the platform's own listeners (the gateway's and metrics' are added once they listen)
        callbackPolicy: createCallbackPolicy({ allow: config.callbackAllow, listeners: () => ownListeners }),
      })
    : undefined;

  const app = createApp({
    invoke,
    open: [
      createHealthRoutes({ store, nodes }),
      createMetricsRoutes(registry, {
        authenticate: config.auth ? tenancy.authenticate : undefined,
        metricsUrl: () => metrics?.url,
      }),
    ],
    system: [
      tenantRouters.scope,
      ...tenantRouters.routes,
      createTenantLimitRoutes(admission),
      createFunctionRoutes({ control, query, namespaces }),
      createNamespaceRoutes(namespaces),
      createSecretRoutes({ secrets, namespaces, onChange: reconciler.trigger }),
      createLogRoutes({ models, directory, log }),
      createInfoRoutes(),
      autoscale.routes,
      createProfileRoutes(profiler?.service),
      createTimelineRoutes({ nodes }),
    ],
    systemAuth: tenancy.systemAuth,
    log,
  });

  directory.start();
  reconciler.start();
  autoscale.start();
  profiler?.startWorker();
  counter.start();
  tenancy.start();
  // /metrics for scrapers, apart from the public port (first, so a taken port stops the start cleanly)
  let metrics: MetricsListener | undefined;
  if (config.metrics) {
    metrics = await startMetricsListener(registry, config.metrics, log);
    log.info('metrics listening', { url: `${metrics.url}/metrics` });
  }
  const server = http.createServer(
    createRequestListener(app, invoke, log, tenancy.wrapInvoke(asyncCalls?.submit ?? asyncOff)),
  );
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (err: unknown) => {
    await metrics?.close();
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  ownListeners.push(
    ...listenersFromUrls([
      { url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`, what: 'gateway' },
      { url: metrics?.url, what: 'metrics' },
    ]),
  );
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info('gateway listening', { url, nodes: nodes.map((n) => n.url).join(','), auth: Boolean(config.auth) });
  asyncCalls?.start(url);

  return {
    url,
    port,
    metricsUrl: metrics?.url,
    async close() {
      await asyncCalls?.close(); // first: running queued calls still use this server
      await autoscale.stop();
      await profiler?.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      directory.stop();
      await reconciler.stop();
      await counter.close();
      await tenancy.close();
      forwarder.close();
      await closed;
      await metrics?.close();
    },
  };
}
