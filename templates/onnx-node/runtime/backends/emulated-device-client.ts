/**
 * The replica's side of the node's emulated device (fast-manager/devices/emulated-device-server.ts;
 * the messages: core/contracts/emulated-device.ts):
 * `run(ms)` hands a batch of `ms` solo device time at the replica's partition to the device and
 * resolves when the device says it is done, later than `ms` when other replicas' batches
 * oversubscribe it. Used as the emulated backend's `sleep`.
 *
 * Connects on first use. When the socket cannot be reached or drops, batches fall back to a local
 * timer (no contention) and the replica logs it once; the next batch tries to connect again.
 */
import { createConnection, type Socket } from 'node:net';
import type { Logger } from 'fastgshare/core/logger.ts';
import { readJsonLines, writeJsonLine } from 'fastgshare/core/net/ndjson.ts';
import type { EmulatedDeviceMessage, RunMessage } from 'fastgshare/core/contracts/emulated-device.ts';
import { timerSleep, type Sleep } from './emulated.ts';

export interface EmulatedDeviceClient {
  run: Sleep;
  close(): void;
}

export function emulatedDeviceClient(o: {
  socketPath: string;
  partitionPercent: number;
  logger: Logger;
  connectTimeoutMs?: number;
}): EmulatedDeviceClient {
  let socket: Socket | undefined;
  let connecting: Promise<Socket | undefined> | undefined;
  let warned = false;
  let seq = 0;
  const pending = new Map<string, () => void>();

  const fallback = (why: string) => {
    if (!warned)
      o.logger.warn(
        'emulated device unreachable: batches run on a local timer, without contention from other replicas',
        { socket: o.socketPath, why },
      );
    warned = true;
  };

  const connect = (): Promise<Socket | undefined> =>
    (connecting ??= new Promise<Socket | undefined>((resolve) => {
      const s = createConnection(o.socketPath);
      s.setNoDelay(true);
      const timeout = setTimeout(() => s.destroy(new Error('connect timed out')), o.connectTimeoutMs ?? 2000);
      s.once('connect', () => {
        clearTimeout(timeout);
        warned = false;
        socket = s;
        resolve(s);
      });
      readJsonLines(s, {
        bad: () => s.destroy(),
        message(msg) {
          const m = msg as Partial<EmulatedDeviceMessage>;
          if (m.op === 'done' && m.id !== undefined) {
            pending.get(m.id)?.();
            pending.delete(m.id);
          } else if (m.op === 'error') {
            fallback(m.message ?? 'error');
          }
        },
      });
      s.on('error', (err) => {
        clearTimeout(timeout);
        fallback(err.message);
        resolve(undefined);
      });
      s.on('close', () => {
        socket = undefined;
        connecting = undefined;
        // batches the device was running: finish them locally (their time is lost, not their answer)
        const waiting = [...pending.values()];
        pending.clear();
        for (const done of waiting) done();
      });
    }));

  return {
    async run(ms) {
      const s = socket ?? (await connect());
      if (!s) {
        connecting = undefined;
        return timerSleep(ms);
      }
      const id = String(++seq);
      await new Promise<void>((resolve) => {
        pending.set(id, resolve);
        const run: RunMessage = { op: 'run', id, partition: o.partitionPercent, ms };
        writeJsonLine(s, run);
      });
    },
    close() {
      socket?.destroy();
    },
  };
}
