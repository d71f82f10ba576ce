/** Turns a handler's result into an HTTP response. */
import type { ServerResponse } from 'node:http';
import type { HandlerResult } from './types.ts';

function hasHeader(headers: Record<string, string | string[]>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

export function encodeResult(result: HandlerResult | undefined | void): {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
} {
  const status = result?.status ?? 200;
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new Error(`handler returned status ${String(status)}: use an HTTP status code between 100 and 599`);
  }
  const headers: Record<string, string | string[]> = { ...(result?.headers ?? {}) };
  const raw = result?.body;
  let body: Buffer;
  let type: string | undefined;
  if (raw === undefined || raw === null) {
    body = Buffer.alloc(0);
  } else if (typeof raw === 'string') {
    body = Buffer.from(raw, 'utf8');
    type = 'text/plain; charset=utf-8';
  } else if (Buffer.isBuffer(raw) || raw instanceof Uint8Array) {
    body = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    type = 'application/octet-stream';
  } else {
    body = Buffer.from(JSON.stringify(raw), 'utf8');
    type = 'application/json';
  }
  if (type && !hasHeader(headers, 'content-type')) headers['content-type'] = type;
  return { status, headers, body };
}

export function sendResult(res: ServerResponse, result: HandlerResult | undefined | void): void {
  const { status, headers, body } = encodeResult(result);
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader('content-length', body.length);
  res.writeHead(status);
  res.end(body);
}

export function sendText(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(text.endsWith('\n') ? text : text + '\n', 'utf8');
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length, ...extra });
  res.end(body);
}
