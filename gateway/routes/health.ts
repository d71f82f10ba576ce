/** /healthz: 200 when the store and at least one node agent answer; 503 saying why otherwise. */
import { Router } from 'express';
import type { Store } from '../../core/store/open-store.ts';
import type { NodeAgentClient } from '../../core/contracts/node-agent.ts';
import { PlatformError } from '../../core/errors.ts';

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>(
      (_, reject) => (t = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)),
    ),
  ]).finally(() => clearTimeout(t));
}

export function createHealthRoutes(d: { store: Store; nodes: NodeAgentClient[]; timeoutMs?: number }): Router {
  const timeoutMs = d.timeoutMs ?? 2_000;
  const r = Router();
  r.get('/healthz', async (_req, res) => {
    const problems: string[] = [];
    try {
      const db = d.store.connection.db;
      if (!db) throw new Error('not connected');
      await within(db.command({ ping: 1 }), timeoutMs, 'the store');
    } catch (err) {
      problems.push(`store: ${(err as Error).message}`);
    }
    const answers = await Promise.allSettled(d.nodes.map((n) => within(n.info(), timeoutMs, n.url)));
    if (!answers.some((a) => a.status === 'fulfilled')) {
      problems.push(
        d.nodes.length === 0
          ? 'no node agents configured (FASTGSHARE_NODES)'
          : `no node agent answers (${answers.map((a, i) => `${d.nodes[i]!.url}: ${a.status === 'rejected' ? (a.reason as Error).message : 'ok'}`).join('; ')})`,
      );
    }
    if (problems.length) throw new PlatformError('unavailable', `not ready: ${problems.join('; ')}`);
    res.type('text/plain').send('OK');
  });
  return r;
}
