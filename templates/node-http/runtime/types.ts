/**
 * The handler contract of the node-http template. A function is a module whose default export
 * is a `Handler`; the runtime (index.ts) calls it once per request.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface HandlerEvent {
  /** HTTP method, upper case. */
  method: string;
  /** Request path as the replica sees it ("/" when invoked as /function/<name>). */
  path: string;
  /** Query parameters; when a key repeats, the last value wins. */
  query: Record<string, string>;
  /** Request headers, lower-case names (Node.js form). */
  headers: IncomingHttpHeaders;
  /** The raw request body (empty Buffer when there is none). */
  body: Buffer;
}

export interface HandlerContext {
  functionName: string;
  namespace: string;
  replicaId: string;
  /** The bytes of a secret the function was deployed with (`secrets:` in the stack file). */
  secret(name: string): Promise<Buffer>;
}

export interface HandlerResult {
  /** HTTP status, default 200. */
  status?: number;
  headers?: Record<string, string | string[]>;
  /** Strings are sent as text, Buffers as bytes, anything else as JSON. */
  body?: string | Buffer | Uint8Array | object | null;
}

export type Handler = (
  event: HandlerEvent,
  context: HandlerContext,
) => Promise<HandlerResult | undefined | void> | HandlerResult | undefined | void;
