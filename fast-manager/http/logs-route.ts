/**
 * `GET /v1/logs?namespace=&name=&instance=&tail=&since=&follow=`: a function's log lines as
 * NDJSON `LogMessage`s; with follow=true the response stays open, streaming new lines until
 * the client goes away. A function with no lines (yet) gives an empty stream, not an error, so
 * a gateway can ask every node.
 */
import type { RequestHandler } from 'express';
import { PlatformError } from '../../core/errors.ts';
import { validateFunctionName, validateNamespace } from '../../core/names.ts';
import type { LogQuery } from '../../core/contracts/node-agent.ts';
import type { LogHub } from '../logs/log-hub.ts';

function one(v: unknown, field: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new PlatformError('bad_request', `${field}: give the parameter once`);
  return v;
}

export function parseLogQuery(q: Record<string, unknown>): LogQuery {
  const name = validateFunctionName(one(q.name, 'name'), 'name');
  const namespace = validateNamespace(one(q.namespace, 'namespace'));
  const query: LogQuery = { name, namespace };
  const instance = one(q.instance, 'instance');
  if (instance) query.instance = instance;
  const tail = one(q.tail, 'tail');
  if (tail !== undefined && tail !== '') {
    if (!/^-?\d+$/.test(tail) || Number(tail) < -1)
      throw new PlatformError('bad_request', `tail: "${tail}" must be a whole number of lines (-1 for all)`);
    query.tail = Number(tail);
  }
  const since = one(q.since, 'since');
  if (since !== undefined && since !== '') {
    const d = new Date(since);
    if (Number.isNaN(d.getTime()))
      throw new PlatformError('bad_request', `since: "${since}" is not an RFC 3339 time such as 2024-01-02T15:04:05Z`);
    query.since = d;
  }
  const follow = (one(q.follow, 'follow') ?? 'false').toLowerCase();
  if (!['true', 'false', '1', '0', ''].includes(follow))
    throw new PlatformError('bad_request', `follow: "${follow}" must be true or false`);
  query.follow = follow === 'true' || follow === '1';
  return query;
}

export function logsRoute(logs: LogHub): RequestHandler {
  return (req, res) => {
    const q = parseLogQuery(req.query as Record<string, unknown>);
    const log = logs.log(q.namespace, q.name);
    res.status(200).type('application/x-ndjson');
    res.setHeader('cache-control', 'no-cache');
    const write = (l: object) => res.write(JSON.stringify(l) + '\n');
    for (const line of log.query({ instance: q.instance, since: q.since, tail: q.tail })) write(line);
    if (!q.follow) {
      res.end();
      return;
    }
    res.flushHeaders();
    const unsubscribe = log.subscribe((line) => {
      if (q.instance !== undefined && line.instance !== q.instance) return;
      write(line);
    });
    const done = () => {
      unsubscribe();
      if (!res.writableEnded) res.end();
    };
    req.on('close', done);
    res.on('close', done);
  };
}
