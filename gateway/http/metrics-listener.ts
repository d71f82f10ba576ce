/**
 * The metrics listener: a small HTTP server of its own that answers `GET /metrics` (and HEAD)
 * with the gateway's Prometheus registry and 404 to everything else. It is apart from the
 * public port, as OpenFaaS serves its gateway metrics on :8082, and listens on 127.0.0.1 by
 * default (FASTGSHARE_METRICS_HOST) so that only local scrapers reach it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { MetricsListenConfig } from '../../core/config.ts';
import { PlatformError } from '../../core/errors.ts';
import { errorReference, sendError } from './send-error.ts';
import { writeMetrics } from '../routes/metrics.ts';
import type { Logger } from '../../core/logger.ts';

export interface MetricsListener {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startMetricsListener(
  registry: Registry,
  config: MetricsListenConfig,
  log: Logger,
): Promise<MetricsListener> {
  const server = http.createServer((req, res) => {
    req.resume();
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      return sendError(res, new PlatformError('not_found', 'this is the metrics port: it serves GET /metrics only'));
    }
    writeMetrics(registry).then(
      (m) => {
        res.setHeader('Content-Type', m.contentType);
        res.setHeader('Content-Length', Buffer.byteLength(m.body));
        res.end(req.method === 'HEAD' ? undefined : m.body);
      },
      (err: unknown) => {
        const ref = errorReference();
        log.error('metrics failed', { ref, error: err as Error });
        sendError(res, new PlatformError('internal', (err as Error).message), ref);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new PlatformError(
              'conflict',
              `FASTGSHARE_METRICS_PORT: ${config.host}:${config.port} is in use; set FASTGSHARE_METRICS_PORT to a free port (0: any)`,
            )
          : err,
      ),
    );
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
