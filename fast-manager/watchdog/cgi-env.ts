/**
 * A request as environment variables of the forked process, as the OpenFaaS watchdogs pass it
 * (cgi_headers): every header as `Http_<Canonical_Name>` ('-' → '_', e.g. `Http_X_Call_Id`,
 * `Http_Content_Type`), plus `Http_Method`, `Http_ContentLength` and `Http_Content_Length`
 * (-1 when unknown), `Http_Transfer_Encoding` when sent, `Http_Query` (without '?'),
 * `Http_Path` (as sent) and `Http_Host`.
 */
import type { IncomingMessage } from 'node:http';

/** "x-call-id" → "X_Call_Id" (Go's canonical header form, '-' replaced). */
export function canonicalHeaderVariable(name: string): string {
  return name
    .split('-')
    .map((p) => (p ? p[0]!.toUpperCase() + p.slice(1).toLowerCase() : p))
    .join('_');
}

export function cgiEnvironment(req: Pick<IncomingMessage, 'headers' | 'method' | 'url'>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    // Go keeps the first value of a repeated header in these variables
    env[`Http_${canonicalHeaderVariable(name)}`] = Array.isArray(value) ? (value[0] ?? '') : value;
  }
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? '' : raw.slice(q + 1);
  const length = req.headers['content-length'] ?? '-1';
  env.Http_Method = (req.method ?? 'GET').toUpperCase();
  env.Http_ContentLength = length;
  env.Http_Content_Length = length;
  const te = req.headers['transfer-encoding'];
  if (te) env.Http_Transfer_Encoding = te;
  if (query) env.Http_Query = query;
  env.Http_Path = path || '/';
  if (req.headers.host) env.Http_Host = req.headers.host;
  return env;
}
