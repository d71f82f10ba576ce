/**
 * The node's emulated device: a unix socket through which emulated replicas run their batches, so
 * that batches of different replicas contend for one device (emulated-contention.ts) instead of
 * each sleeping as if the device were its own.
 *
 * Protocol: newline-delimited JSON, run → done, or an error and the socket closed; the messages
 * and their framing are core/contracts/emulated-device.ts's, which also reads (validates) what a
 * replica sends. A closed connection cancels its running batches. Time is the server's clock.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { once } from 'node:events';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import { readJsonLines, writeJsonLine } from '../../core/net/ndjson.ts';
import {
  EMULATED_DEVICE_MAX_LINE,
  readRunMessage,
  type EmulatedDeviceMessage,
} from '../../core/contracts/emulated-device.ts';
import { DeviceContention, type CompletedJob } from './emulated-contention.ts';
import type { DeviceRecorder } from '../timeline/recorder.ts';

export interface EmulatedDeviceServer {
  socketPath: string;
  /** Batches running now. */
  running(): number;
  close(): Promise<void>;
}

export async function startEmulatedDeviceServer(o: {
  socketPath: string;
  clock: Clock;
  log: Logger;
  timeline?: DeviceRecorder;
}): Promise<EmulatedDeviceServer> {
  const log = o.log.child('emulated-device');
  const device = new DeviceContention();
  const rec = o.timeline;
  /** Each batch's owner; `batch` is its key in the timeline. */
  const owners = new Map<string, { socket: Socket; id: string; mine: Set<string>; batch?: number }>();
  let connections = 0;
  const sockets = new Set<Socket>();
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;

  const send = (socket: Socket, msg: EmulatedDeviceMessage) => writeJsonLine(socket, msg);

  const deliver = (done: CompletedJob[]) => {
    for (const d of done) {
      const owner = owners.get(d.id);
      owners.delete(d.id);
      owner?.mine.delete(d.id);
      if (owner?.batch !== undefined) rec?.batchEnd(owner.batch, d.elapsedMs);
      if (owner) send(owner.socket, { op: 'done', id: owner.id, elapsedMs: Math.round(d.elapsedMs * 1000) / 1000 });
    }
  };

  const reschedule = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const next = device.nextCompletionAt();
    if (next === undefined) return;
    timer = setTimeout(tick, Math.max(0, next - o.clock.now()));
  };

  function tick(): void {
    timer = undefined;
    deliver(device.complete(o.clock.now()));
    reschedule();
  }

  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    const mine = new Set<string>();
    const source = ++connections;
    const bad = (message: string) => {
      send(socket, { op: 'error', message });
      socket.end();
    };
    readJsonLines(
      socket,
      {
        bad,
        message(msg) {
          const read = readRunMessage(msg);
          if ('error' in read) return bad(read.error);
          const { id, partition, ms } = read.run;
          const key = `${++seq}`;
          mine.add(key);
          const now = o.clock.now();
          const done = device.start(key, partition, ms, now);
          deliver(done); // batches that finished before this one started are recorded first
          owners.set(key, { socket, id, mine, batch: rec?.batchStart(source, partition, ms) });
          reschedule();
        },
      },
      EMULATED_DEVICE_MAX_LINE,
    );
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      sockets.delete(socket);
      for (const key of mine) {
        const owner = owners.get(key);
        if (!owner) continue;
        owners.delete(key);
        deliver(device.cancel(key, o.clock.now()));
        if (owner.batch !== undefined) rec?.batchEnd(owner.batch, NaN, true);
      }
      reschedule();
    });
  });

  mkdirSync(dirname(o.socketPath), { recursive: true });
  rmSync(o.socketPath, { force: true }); // left by a previous agent
  server.listen(o.socketPath);
  await once(server, 'listening');
  log.info('emulated device listening', { socket: o.socketPath });

  return {
    socketPath: o.socketPath,
    running: () => device.running,
    async close() {
      if (timer) clearTimeout(timer);
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
      rmSync(o.socketPath, { force: true });
    },
  };
}
