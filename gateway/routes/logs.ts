/**
 * /system/logs: NDJSON of LogMessage from every node that hosts the function. Without
 * `follow` the lines are merged in time order (and `tail` applies to the merge); with it,
 * lines are written as they arrive until the client goes away.
 */
import { Router } from 'express';
import type { Models } from '../../core/store/models.ts';
import type { LogMessage } from '../../core/contracts/openfaas.ts';
import type { LogQuery } from '../../core/contracts/node-agent.ts';
import type { Logger } from '../../core/logger.ts';
import { PlatformError } from '../../core/errors.ts';
import { validateFunctionName, validateNamespace } from '../../core/names.ts';
import { functionKey, type ReplicaDirectory } from '../nodes/replica-directory.ts';
import { queryFlag, queryString } from './query.ts';

export function parseLogQuery(query: unknown): LogQuery {
  const rawName = queryString(query, 'name');
  if (!rawName)
    throw new PlatformError(
      'bad_request',
      'query parameter "name" is required: /system/logs?name=FUNCTION[&namespace=NS]',
    );
  const q: LogQuery = {
    name: validateFunctionName(rawName, 'name'),
    namespace: validateNamespace(queryString(query, 'namespace')),
    follow: queryFlag(query, 'follow'),
  };
  const instance = queryString(query, 'instance');
  if (instance) q.instance = instance;
  const tail = queryString(query, 'tail');
  if (tail !== undefined && tail !== '') {
    if (!/^-?\d+$/.test(tail))
      throw new PlatformError(
        'bad_request',
        `query parameter "tail" must be a whole number (-1 for all lines), got "${tail}"`,
      );
    q.tail = Number(tail);
  }
  const since = queryString(query, 'since');
  if (since) {
    const t = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(since)
      ? new Date(since)
      : new Date(NaN);
    if (Number.isNaN(t.getTime()))
      throw new PlatformError(
        'bad_request',
        `query parameter "since" must be an RFC 3339 time such as 2024-01-02T15:04:05Z, got "${since}"`,
      );
    q.since = t;
  }
  return q;
}

export function createLogRoutes(d: { models: Models; directory: ReplicaDirectory; log: Logger }): Router {
  const r = Router();
  r.get('/system/logs', async (req, res) => {
    const q = parseLogQuery(req.query);
    if (!(await d.models.Function.exists({ namespace: q.namespace, name: q.name }))) {
      throw new PlatformError('not_found', `function "${q.name}" not found in namespace "${q.namespace}"`);
    }
    const nodes = d.directory.view(functionKey(q.name, q.namespace))?.nodes ?? [];
    const ctl = new AbortController();
    res.on('close', () => ctl.abort());
    res.status(200).setHeader('Content-Type', 'application/x-ndjson');
    const write = (m: LogMessage) => res.write(JSON.stringify(m) + '\n');
    if (!q.follow) {
      const all: LogMessage[] = [];
      await Promise.all(
        nodes.map(async (n) => {
          for await (const m of n.logs(q, ctl.signal)) all.push(m);
        }),
      );
      all.sort((a, b) => a.timestamp.localeCompare(b.timestamp));
      const lines = q.tail !== undefined && q.tail >= 0 ? all.slice(Math.max(0, all.length - q.tail)) : all;
      for (const m of lines) write(m);
      res.end();
      return;
    }
    res.flushHeaders();
    await Promise.all(
      nodes.map(async (n) => {
        try {
          for await (const m of n.logs(q, ctl.signal)) write(m);
        } catch (err) {
          if (!ctl.signal.aborted)
            d.log.warn('log stream from node failed', { node: n.url, error: (err as Error).message });
        }
      }),
    );
    res.end();
  });
  return r;
}
