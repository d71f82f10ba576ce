/**
 * The node's token channel: a unix domain socket under the agent's data dir through which
 * token-gated replicas ask their device's `TokenScheduler` for a time token before each batch.
 *
 * Protocol: newline-delimited JSON, hello → welcome, acquire → grant, release, and yield from the
 * server; the messages and their framing are core/contracts/token-channel.ts's, which also reads
 * (validates) what a replica sends.
 * The key is the replica's own secret (FASTGSHARE_TOKEN_KEY, made per launch by node-sharing.ts and
 * only in that process's environment), compared in constant time: a process that knows another
 * replica's id cannot take its place (nor push it off the channel). A wrong key is an
 * `unauthorized` error, then the server closes.
 * Time is charged by the server's clock, grant → release, so a replica cannot exceed its limit by
 * under-reporting. A closed connection releases the replica's token at once (charged up to then)
 * and removes it from the scheduler; it re-enters on its next hello while it stays registered.
 *
 * Yield: a replica may keep its token for a moment after its work ends (the next request often
 * comes within a few ms, and a new token would cost a round trip). After each pass that left a
 * replica within its limits waiting, every holder on the device is told to yield once per token,
 * so a token is never kept idle while someone waits for it.
 *
 * Expiry: nothing is pre-empted. When a token's quota runs out without a release the server only
 * runs a scheduling pass (and counts the expiry); the holder keeps running and, when it releases,
 * is charged the whole held time, overrun included, which pushes its windowed usage over its
 * limit so it waits longer for its next token. Passes also run on every acquire and release and
 * at each scheduler's `nextWakeAt` (window slide).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { once } from 'node:events';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import { PlatformError } from '../../core/errors.ts';
import { secretEqual } from '../../core/secret-equal.ts';
import { readJsonLines } from '../../core/net/ndjson.ts';
import { REPLICA_ENV } from '../../core/contracts/replica-env.ts';
import {
  readTokenRequest,
  TOKEN_CHANNEL_MAX_LINE,
  type TokenChannelErrorCode,
  type TokenServerMessage,
} from '../../core/contracts/token-channel.ts';
import {
  TokenScheduler,
  validateShare,
  type ShareConfig,
  type TokenSchedulerOptions,
  type Grant,
} from './token-scheduler.ts';
import type { TokenMeter } from './meter.ts';
import type { DeviceRecorder, DeviceTimelines } from '../timeline/recorder.ts';

export interface TokenRegistration {
  /** "name.namespace" of the replica's function. */
  function: string;
  /** The device whose scheduler serves it ("cpu", "emulated", "cuda:0"). */
  device: string;
  share: ShareConfig;
  /**
   * The secret the replica must present in its hello. Required when a replica is first registered;
   * omitted on a later register (a share update), the current key stays.
   */
  key?: string;
}

export interface TokenServer {
  readonly socketPath: string;
  /** Admits a replica id (or updates its share in place, applied to its next token). */
  register(replicaId: string, reg: TokenRegistration): void;
  /** Forgets a replica: closes its connection and releases its token. */
  unregister(replicaId: string): void;
  isRegistered(replicaId: string): boolean;
  /** Current holders of a device's tokens. */
  holders(device: string): Grant[];
  /** Per device: wall seconds with at least one token out, holders now, most holders at once. */
  devices(): DeviceOccupancy[];
  /** Token expiries seen (a holder ran past its quota without releasing). */
  readonly expiries: number;
  close(): Promise<void>;
}

export interface TokenServerOptions {
  socketPath: string;
  clock: Clock;
  log: Logger;
  meter: TokenMeter;
  scheduler?: Partial<TokenSchedulerOptions>;
  /** Records every acquire, grant, release and leave per device (fast-manager/timeline/). */
  timeline?: DeviceTimelines;
}

interface Conn {
  socket: Socket;
  replicaId?: string;
  waitingSince?: number;
  /** Cancels the pass at the held token's expiry. */
  expiry?: () => void;
  /** A yield was sent for the token held now. */
  yielded?: boolean;
}

export interface DeviceOccupancy {
  device: string;
  /** The device's scheduling window W (quotas are fractions of it). */
  windowMs: number;
  busySeconds: number;
  holders: number;
  maxHolders: number;
}

interface Device {
  scheduler: TokenScheduler;
  busyMs: number;
  count: number;
  maxCount: number;
  lastAt: number;
  /** Cancels the pass at the next window slide. */
  wake?: () => void;
  wakeAt?: number;
  rec?: DeviceRecorder;
}

export async function createTokenServer(o: TokenServerOptions): Promise<TokenServer> {
  const log = o.log.child('tokens');
  const admitted = new Map<string, TokenRegistration>();
  const conns = new Map<string, Conn>();
  const devices = new Map<string, Device>();
  let expiries = 0;
  let closed = false;

  const deviceOf = (id: string): Device => {
    let d = devices.get(id);
    if (!d)
      devices.set(
        id,
        (d = {
          scheduler: new TokenScheduler(o.clock, o.scheduler),
          busyMs: 0,
          count: 0,
          maxCount: 0,
          lastAt: o.clock.now(),
          rec: o.timeline?.device(id),
        }),
      );
    return d;
  };
  /** Accrues busy time at the holder count since the last change; call after every change. */
  const touch = (d: Device) => {
    const now = o.clock.now();
    if (d.count > 0) d.busyMs += now - d.lastAt;
    d.lastAt = now;
    d.count = d.scheduler.holders().length;
    d.maxCount = Math.max(d.maxCount, d.count);
  };

  const send = (c: Conn, msg: TokenServerMessage) => {
    if (!c.socket.destroyed) c.socket.write(`${JSON.stringify(msg)}\n`);
  };
  const fail = (c: Conn, code: TokenChannelErrorCode, message: string) => {
    send(c, { op: 'error', code, message });
    c.socket.end();
  };

  /** Ends the token `id` holds and charges it (`usedMs`: what the replica reported, for the timeline). */
  const releaseToken = (id: string, c: Conn | undefined, usedMs?: number) => {
    const reg = admitted.get(id);
    if (!reg) return;
    const d = deviceOf(reg.device);
    c?.expiry?.();
    if (c) c.expiry = undefined;
    if (!d.scheduler.has(id)) return;
    const held = d.scheduler.holding(id) !== undefined;
    const used = d.scheduler.release(id);
    if (held) d.rec?.release(id, reg.share.partition, used, usedMs);
    touch(d);
    if (used > 0) o.meter.held(id, used);
  };

  const leaveScheduler = (id: string, c: Conn | undefined) => {
    const reg = admitted.get(id);
    if (!reg) return;
    releaseToken(id, c);
    const d = deviceOf(reg.device);
    if (d.scheduler.has(id)) d.rec?.leave(id, reg.share.partition);
    d.scheduler.unregister(id);
    touch(d);
    pass(reg.device);
  };

  function pass(deviceId: string): void {
    if (closed) return;
    const d = deviceOf(deviceId);
    const { grants, nextWakeAt, blocked } = d.scheduler.schedule();
    const now = o.clock.now();
    for (const g of grants) {
      const c = conns.get(g.id);
      if (!c) {
        // granted to a replica whose connection just went: give it back at once
        d.scheduler.unregister(g.id);
        continue;
      }
      o.meter.granted(g.id, now - (c.waitingSince ?? now));
      d.rec?.grant(g.id, admitted.get(g.id)?.share.partition ?? 0, g.quotaMs, now - (c.waitingSince ?? now));
      c.waitingSince = undefined;
      c.yielded = false;
      c.expiry = o.clock.after(Math.max(1, g.quotaMs), () => {
        c.expiry = undefined;
        expiries++;
        log.debug('token expired without release; the overrun is charged on release', {
          replica: g.id,
          quotaMs: g.quotaMs,
        });
        pass(deviceId);
      });
      send(c, { op: 'grant', quotaMs: g.quotaMs });
    }
    if (blocked > 0) {
      for (const h of d.scheduler.holders()) {
        const c = conns.get(h.id);
        if (c && !c.yielded) {
          c.yielded = true;
          send(c, { op: 'yield' });
        }
      }
    }
    touch(d);
    if (nextWakeAt !== undefined && (d.wakeAt === undefined || nextWakeAt < d.wakeAt)) {
      d.wake?.();
      d.wakeAt = nextWakeAt;
      d.wake = o.clock.after(Math.max(1, Math.ceil(nextWakeAt - now)), () => {
        d.wake = undefined;
        d.wakeAt = undefined;
        pass(deviceId);
      });
    }
  }

  const onMessage = (c: Conn, raw: unknown) => {
    const read = readTokenRequest(raw);
    if (!read) return fail(c, 'bad_request', 'each line must be a JSON object with an "op"');
    const { op, msg: m } = read;
    if (op === 'hello') {
      if (c.replicaId) return fail(c, 'bad_request', 'hello was already sent on this connection');
      if (m?.op !== 'hello') return fail(c, 'bad_request', 'hello needs "replicaId" (a string)');
      const reg = admitted.get(m.replicaId);
      if (!reg) return fail(c, 'not_found', `replica ${m.replicaId} is not registered with this node's token server`);
      if (!reg.key || !secretEqual(m.key, reg.key)) {
        log.warn('token channel hello with a wrong key refused', { replica: m.replicaId });
        return fail(
          c,
          'unauthorized',
          `hello for replica ${m.replicaId} has a wrong "key": a replica presents the ${REPLICA_ENV.tokenKey} of its own environment`,
        );
      }
      const previous = conns.get(m.replicaId);
      if (previous) {
        // a reconnect that beat the old connection's close: the old one goes
        previous.replicaId = undefined;
        previous.socket.destroy();
        leaveScheduler(m.replicaId, previous);
      }
      c.replicaId = m.replicaId;
      conns.set(m.replicaId, c);
      const d = deviceOf(reg.device);
      d.scheduler.register(m.replicaId, reg.share);
      send(c, { op: 'welcome', device: reg.device, windowMs: d.scheduler.options.windowMs });
      return;
    }
    const id = c.replicaId;
    if (!id) return fail(c, 'bad_request', `"${op}" before hello: send {"op":"hello","replicaId":...} first`);
    const reg = admitted.get(id)!;
    const d = deviceOf(reg.device);
    if (m?.op === 'acquire') {
      if (d.scheduler.holding(id)) releaseToken(id, c); // asking again ends the token it held
      c.waitingSince ??= o.clock.now();
      d.rec?.acquire(id, reg.share.partition, m.burstMs);
      d.scheduler.request(id, { burstMs: m.burstMs, minRunMs: m.minRunMs, slackMs: m.slackMs });
      pass(reg.device);
    } else if (m?.op === 'release') {
      releaseToken(id, c, m.usedMs);
      pass(reg.device);
    } else {
      fail(c, 'bad_request', `unknown op "${op}": use hello, acquire or release`);
    }
  };

  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    const c: Conn = { socket };
    readJsonLines(
      socket,
      { message: (msg) => onMessage(c, msg), bad: (message) => fail(c, 'bad_request', message) },
      TOKEN_CHANNEL_MAX_LINE,
    );
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      const id = c.replicaId;
      if (!id || conns.get(id) !== c) return;
      conns.delete(id);
      leaveScheduler(id, c);
    });
  });

  mkdirSync(dirname(o.socketPath), { recursive: true });
  rmSync(o.socketPath, { force: true }); // a socket file left by a previous agent
  server.listen(o.socketPath);
  await once(server, 'listening');
  log.info('token server listening', { socket: o.socketPath });

  return {
    socketPath: o.socketPath,
    get expiries() {
      return expiries;
    },
    register(id, reg) {
      validateShare(reg.share, `replica ${id}`);
      const old = admitted.get(id);
      if (old && old.device !== reg.device)
        throw new PlatformError(
          'bad_request',
          `replica ${id} cannot move from device ${old.device} to ${reg.device} while it runs`,
        );
      const key = reg.key ?? old?.key;
      if (!key)
        throw new PlatformError(
          'bad_request',
          `replica ${id} is registered without a key: give the key its process presents in hello`,
        );
      if (old?.key && reg.key && old.key !== reg.key) {
        // a new process for this id: the old one's connection (and its key) is no longer good
        const c = conns.get(id);
        if (c) {
          conns.delete(id);
          c.socket.destroy();
          leaveScheduler(id, c);
        }
      }
      admitted.set(id, { ...reg, key, share: { ...reg.share } });
      o.meter.track(id, reg.function, reg.device, reg.share);
      o.timeline?.replica(reg.device, {
        id,
        function: reg.function,
        partition: reg.share.partition,
        quotaRequest: reg.share.quotaRequest,
        quotaLimit: reg.share.quotaLimit,
      });
      const d = deviceOf(reg.device);
      if (d.scheduler.has(id)) {
        d.scheduler.register(id, reg.share); // same id: the share is updated in place
        pass(reg.device);
      }
    },
    unregister(id) {
      if (!admitted.has(id)) return;
      const c = conns.get(id);
      if (c) {
        conns.delete(id);
        c.socket.destroy();
      }
      leaveScheduler(id, c);
      admitted.delete(id);
      o.meter.forget(id);
    },
    isRegistered: (id) => admitted.has(id),
    devices() {
      return [...devices].map(([device, d]) => {
        touch(d);
        return {
          device,
          windowMs: d.scheduler.options.windowMs,
          busySeconds: d.busyMs / 1000,
          holders: d.count,
          maxHolders: d.maxCount,
        };
      });
    },
    holders: (device) => devices.get(device)?.scheduler.holders() ?? [],
    async close() {
      closed = true;
      for (const d of devices.values()) d.wake?.();
      for (const c of conns.values()) {
        c.expiry?.();
        c.socket.destroy();
      }
      conns.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(o.socketPath, { force: true });
    },
  };
}
