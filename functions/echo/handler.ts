/**
 * echo: sends the request body back unchanged with the request's content-type; `GET` answers
 * a small JSON description of the request. Used by tests and the gateway benchmark.
 */
import type { HandlerContext, HandlerEvent, HandlerResult } from '../../templates/node-http/runtime/types.ts';

const HEADERS_OF_INTEREST = [
  'content-type',
  'user-agent',
  'x-call-id',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-start-time',
];

export default async function handle(event: HandlerEvent, context: HandlerContext): Promise<HandlerResult> {
  if (event.method === 'GET') {
    const headers: Record<string, string> = {};
    for (const name of HEADERS_OF_INTEREST) {
      const v = event.headers[name];
      if (v !== undefined) headers[name] = Array.isArray(v) ? v.join(', ') : v;
    }
    return {
      body: { function: context.functionName, method: event.method, path: event.path, query: event.query, headers },
    };
  }
  return {
    headers: { 'content-type': event.headers['content-type'] ?? 'application/octet-stream' },
    body: event.body,
  };
}
