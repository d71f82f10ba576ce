/**
 * The replica runtime convention: a replica listening on PORT answers `GET /_/health` with 200
 * when it can serve. One probe per call, on a fresh connection (no keep-alive, so a draining
 * replica is never held open by the agent). With the replica's forward token the probe sends it
 * (FORWARD_TOKEN_HEADER): a replica answers 403 to requests without it.
 */
import { request } from 'node:http';
import { FORWARD_TOKEN_HEADER } from '../../core/contracts/node-agent.ts';
import { HEALTH_PATH } from '../../core/contracts/replica-http.ts';

export type HealthProbe = (port: number, timeoutMs: number, forwardToken?: string) => Promise<boolean>;

export const httpHealthProbe: HealthProbe = (port, timeoutMs, forwardToken) =>
  new Promise((resolve) => {
    let settled = false;
    const finish = (ok: boolean) => {
      if (!settled) resolve(ok);
      settled = true;
    };
    const headers: Record<string, string> = { connection: 'close' };
    if (forwardToken) headers[FORWARD_TOKEN_HEADER] = forwardToken;
    const req = request(
      { host: '127.0.0.1', port, path: HEALTH_PATH, method: 'GET', agent: false, headers, timeout: timeoutMs },
      (res) => {
        res.resume();
        finish(res.statusCode === 200);
      },
    );
    req.once('timeout', () => {
      req.destroy();
      finish(false);
    });
    req.once('error', () => finish(false));
    req.end();
  });
