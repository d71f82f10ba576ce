/**
 * The replica's side of the node's token channel (fast-manager/sharing/token-server.ts): before
 * each batch the runtime calls `acquire()` and waits for a time token; after it, `release()`.
 * Newline-delimited JSON over a unix socket (the messages: core/contracts/token-channel.ts):
 * hello{replicaId, key} → welcome; acquire{burstMs?, minRunMs?, slackMs?} → grant{quotaMs}; release{usedMs}; and, from
 * the server, yield (others wait: give an idle token back). The server charges by its own clock;
 * `usedMs` is informational.
 *
 * If the connection drops (the agent restarts its server, say) the client reconnects with
 * backoff and re-sends a pending acquire; a token held at that moment is gone (the server released
 * it). A server that no longer knows the replica (`not_found`) or refuses its key (`unauthorized`)
 * ends the client for good. The key (FASTGSHARE_TOKEN_KEY) proves the replica is the process the
 * agent registered under that id.
 */
import { readJsonLines } from 'fastgshare/core/net/ndjson.ts';
import type { AcquireHint, TokenRequest, TokenServerMessage } from 'fastgshare/core/contracts/token-channel.ts';
import { REPLICA_ENV } from 'fastgshare/core/contracts/replica-env.ts';
import { createConnection, type Socket } from 'node:net';

export interface TokenGrant {
  quotaMs: number;
  /** performance.now() when the grant arrived. */
  grantedAt: number;
}

export interface TokenClient {
  /** Resolves when the device's scheduler grants a token; `hint` is what the acquire message tells it. */
  acquire(hint?: AcquireHint): Promise<TokenGrant>;
  /** Gives the token back (no-op when none is held). */
  release(): void;
  /** Calls `fn` whenever the server asks the holder to yield its token (others wait for the device). */
  onYield(fn: () => void): void;
  close(): void;
  /** The device serving this replica and the scheduler's window, from the server's welcome. */
  readonly device: string;
  readonly windowMs: number;
}

export interface TokenClientOptions {
  socketPath: string;
  replicaId: string;
  /** The replica's secret for hello (FASTGSHARE_TOKEN_KEY, set by the node agent). */
  key: string;
  /** Reconnect backoff (ms): doubles from base up to max. */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** How long the first connection (and hello) may take. */
  connectTimeoutMs?: number;
}

export class TokenChannelError extends Error {
  override name = 'TokenChannelError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Pending {
  resolve(g: TokenGrant): void;
  reject(e: Error): void;
  hint: AcquireHint;
  promise: Promise<TokenGrant>;
}

/** The acquire message for a pending request (fields left out when unknown). */
const acquireMessage = (hint: AcquireHint): TokenRequest => ({
  op: 'acquire',
  ...Object.fromEntries(Object.entries(hint).filter(([, v]) => v !== undefined)),
});

export async function connectTokenClient(o: TokenClientOptions): Promise<TokenClient> {
  const base = o.reconnectBaseMs ?? 50;
  const max = o.reconnectMaxMs ?? 2_000;
  let socket: Socket | undefined;
  let ready = false;
  let closed = false;
  let fatal: Error | undefined;
  let pending: Pending | undefined;
  let held: TokenGrant | undefined;
  let device = '';
  let windowMs = 0;
  let attempt = 0;
  let retry: NodeJS.Timeout | undefined;
  const yieldListeners: (() => void)[] = [];

  const write = (msg: TokenRequest) => {
    if (socket && !socket.destroyed) socket.write(`${JSON.stringify(msg)}\n`);
  };

  const end = (err: Error) => {
    fatal ??= err;
    closed = true;
    if (retry) clearTimeout(retry);
    socket?.destroy();
    const p = pending;
    pending = undefined;
    p?.reject(err);
  };

  /** One connection: hello, then serve messages; resolves at welcome, rejects if it never comes. */
  const open = () =>
    new Promise<void>((resolve, reject) => {
      let welcomed = false;
      const s = createConnection(o.socketPath);
      socket = s;
      s.setNoDelay(true);
      s.once('connect', () => write({ op: 'hello', replicaId: o.replicaId, key: o.key }));
      readJsonLines(s, {
        bad: () => {}, // a line we cannot read: skip it, the server speaks again
        message: (msg) => {
          // the agent's server speaks the contract; a field it left out reads as empty, not as a crash
          const m = msg as Partial<TokenServerMessage>;
          if (m.op === 'welcome') {
            welcomed = true;
            ready = true;
            attempt = 0;
            device = m.device ?? '';
            windowMs = m.windowMs ?? 0;
            if (pending) write(acquireMessage(pending.hint));
            resolve();
          } else if (m.op === 'grant' && pending) {
            const p = pending;
            pending = undefined;
            held = { quotaMs: Number(m.quotaMs), grantedAt: performance.now() };
            p.resolve(held);
          } else if (m.op === 'yield') {
            if (held) for (const fn of yieldListeners) fn();
          } else if (m.op === 'error') {
            const err = new TokenChannelError(m.code ?? 'internal', `token server: ${m.message ?? 'error'}`);
            if (!welcomed) reject(err);
            if (m.code === 'not_found' || m.code === 'bad_request' || m.code === 'unauthorized') end(err);
          }
        },
      });
      s.on('error', (err: NodeJS.ErrnoException) => {
        if (!welcomed) {
          const msg =
            err.code === 'ENOENT'
              ? `token socket ${o.socketPath} does not exist: is the node agent running, and is ${REPLICA_ENV.tokenSocket} right?`
              : err.code === 'ECONNREFUSED'
                ? `token socket ${o.socketPath} refuses connections: the node agent's token server is not running`
                : `cannot reach the token socket ${o.socketPath}: ${err.message}`;
          reject(new TokenChannelError(err.code ?? 'unavailable', msg));
        }
      });
      s.on('close', () => {
        if (socket !== s) return;
        ready = false;
        held = undefined; // the server released it when the connection went
        if (!welcomed)
          reject(
            new TokenChannelError(
              'unavailable',
              `the token server at ${o.socketPath} closed the connection before welcoming replica ${o.replicaId}`,
            ),
          );
        if (!closed) scheduleReconnect();
      });
    });

  const scheduleReconnect = () => {
    if (closed || retry) return;
    const delay = Math.min(max, base * 2 ** attempt++);
    retry = setTimeout(() => {
      retry = undefined;
      open().catch((err: Error) => {
        if (err instanceof TokenChannelError && (err.code === 'not_found' || err.code === 'unauthorized')) end(err);
        // other failures: the socket's close schedules the next attempt
      });
    }, delay);
  };

  const timeoutMs = o.connectTimeoutMs ?? 5_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      open(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new TokenChannelError(
                'upstream_timeout',
                `no welcome from the token server at ${o.socketPath} within ${timeoutMs}ms`,
              ),
            ),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    end(err as Error);
    throw err;
  } finally {
    clearTimeout(timer);
  }

  return {
    get device() {
      return device;
    },
    get windowMs() {
      return windowMs;
    },
    acquire(hint = {}) {
      if (fatal) return Promise.reject(fatal);
      if (closed) return Promise.reject(new TokenChannelError('unavailable', 'the token client is closed'));
      if (pending) return pending.promise;
      if (held) held = undefined; // asking again ends the token held (the server does the same)
      let resolve!: (g: TokenGrant) => void, reject!: (e: Error) => void;
      const promise = new Promise<TokenGrant>((res, rej) => ((resolve = res), (reject = rej)));
      pending = { resolve, reject, hint, promise };
      if (ready) write(acquireMessage(hint));
      return promise;
    },
    release() {
      if (!held) return;
      const usedMs = performance.now() - held.grantedAt;
      held = undefined;
      if (ready) write({ op: 'release', usedMs });
    },
    onYield(fn) {
      yieldListeners.push(fn);
    },
    close() {
      end(new TokenChannelError('unavailable', 'the token client is closed'));
    },
  };
}
