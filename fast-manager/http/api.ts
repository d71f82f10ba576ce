/**
 * The node agent's HTTP API (core/contracts/node-agent.ts), as an express app. Every route,
 * /healthz and /metrics included, needs the node token (auth.ts) before anything else is read.
 */
import express from 'express';
import type { Registry } from 'prom-client';
import { PlatformError } from '../../core/errors.ts';
import { validateFunctionName, validateNamespace } from '../../core/names.ts';
import type { Logger } from '../../core/logger.ts';
import { NODE_API_PREFIX, type NodeInfo } from '../../core/contracts/node-agent.ts';
import type { NodeUsage } from '../../core/contracts/node-usage.ts';
import { validateApply } from '../apply/request.ts';
import type { NodeSupervisor } from '../supervisor/node-supervisor.ts';
import type { LogHub } from '../logs/log-hub.ts';
import { logsRoute } from './logs-route.ts';
import { errorHandler, notFound } from './errors.ts';
import { requireNodeToken } from './auth.ts';
import type { ForwardTokens } from './forward-tokens.ts';
import type { DeviceTimelines } from '../timeline/recorder.ts';
import { readTimelineQuery } from '../../core/contracts/timeline-query.ts';

export interface NodeApiDeps {
  supervisor: NodeSupervisor;
  logs: LogHub;
  registry: Registry;
  info: () => NodeInfo;
  /** Metered use of shared devices (sharing/meter.ts), for `GET /v1/usage`. */
  usage?: () => NodeUsage;
  /** Per-device token and batch events, for `GET /v1/devices/:device/timeline`. */
  timeline?: DeviceTimelines;
  log: Logger;
  /** Largest ApplyFunctionRequest body (secrets travel in it). */
  maxBodyBytes?: number;
  /** The bearer token every request must carry (node-token.ts). */
  token: string;
  /** Adds each replica's forward token to the statuses this API reports. */
  forwardTokens?: Pick<ForwardTokens, 'annotate'>;
}

export function createNodeApi(deps: NodeApiDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requireNodeToken(deps.token));
  app.use(express.json({ limit: deps.maxBodyBytes ?? 16 * 1024 * 1024 }));

  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
  app.get('/v1/node', (_req, res) => {
    res.json(deps.info());
  });
  app.get('/v1/functions', (_req, res) => {
    const fns = deps.supervisor.list();
    res.json(deps.forwardTokens ? deps.forwardTokens.annotate(fns) : fns);
  });
  app.put('/v1/functions/:namespace/:name', async (req, res) => {
    const v = validateApply(req.body, { namespace: req.params.namespace, name: req.params.name });
    const fn = await deps.supervisor.apply(v);
    res.json(deps.forwardTokens ? deps.forwardTokens.annotate(fn) : fn);
  });
  app.delete('/v1/functions/:namespace/:name', async (req, res) => {
    const namespace = validateNamespace(req.params.namespace);
    const name = validateFunctionName(req.params.name, 'name');
    if (!(await deps.supervisor.remove(namespace, name))) {
      throw new PlatformError('not_found', `function "${name}.${namespace}" is not on this node`);
    }
    res.json({ removed: true });
  });
  app.get('/v1/logs', logsRoute(deps.logs));
  if (deps.usage) {
    const usage = deps.usage;
    app.get('/v1/usage', (_req, res) => {
      res.json(usage());
    });
  }

  if (deps.timeline) {
    const timeline = deps.timeline;
    app.get(`${NODE_API_PREFIX}/devices/:device/timeline`, (req, res) => {
      const device = req.params.device!;
      const known = deps.info().devices?.map((d) => d.id) ?? [];
      if (!known.includes(device) && !timeline.devices().includes(device)) {
        throw new PlatformError(
          'not_found',
          `device "${device}" is not on this node; its devices are ${known.join(', ') || 'none'}`,
        );
      }
      if (timeline.capacity === 0)
        throw new PlatformError(
          'not_implemented',
          'this node agent records no timeline (FASTGSHARE_TIMELINE_EVENTS=0)',
        );
      res.json(timeline.snapshot(device, readTimelineQuery(req.query)));
    });
  }

  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}
