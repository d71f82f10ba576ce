/**
 * The replica runtime convention: a replica listening on PORT answers `GET /_/health` with 200
 * when it can serve. One probe per call, on a fresh connection (no keep-alive, so a draining
 * replica is never held open by the agent).
 */
import { request } from 'node:http';

export const HEALTH_PATH = '/_/health';

export type HealthProbe = (port: number, timeoutMs: number) => Promise<boolean>;

export const httpHealthProbe: HealthProbe = (port, timeoutMs) =>
  new Promise((resolve) => {
    let settled = false;
    const finish = (ok: boolean) => {
      if (!settled) resolve(ok);
      settled = true;
    };
    const req = request({ host: '127.0.0.1', port, path: HEALTH_PATH, method: 'GET', agent: false, headers: { connection: 'close' }, timeout: timeoutMs }, (res) => {
      res.resume();
      finish(res.statusCode === 200);
    });
    req.once('timeout', () => {
      req.destroy();
      finish(false);
    });
    req.once('error', () => finish(false));
    req.end();
  });
