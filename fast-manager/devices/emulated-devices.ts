/**
 * The node's emulated devices (node config FASTGSHARE_EMULATED_DEVICES): one contention server
 * (emulated-device-server.ts) per device, so batches of replicas on one device contend and those
 * on different devices never slow each other. A replica picks its device with the
 * fastgshare/emulated_device annotation (core/contracts/annotations.ts); its token scheduler is that device's
 * too (readDeviceId: "emulated", "emulated:1", …). Device 0 listens on `<data>/run/emu.sock`,
 * device i on `<data>/run/emu-<i>.sock` (a unix socket path must stay under ~100 bytes).
 */
import { join } from 'node:path';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import { startEmulatedDeviceServer, type EmulatedDeviceServer } from './emulated-device-server.ts';
import { emulatedDeviceId } from '../../core/contracts/devices.ts';
import type { DeviceTimelines } from '../timeline/recorder.ts';

export interface EmulatedDevices {
  /** How many the node has (indexes 0 … count-1). */
  readonly count: number;
  /** The contention server's socket of device `index`. */
  socketPath(index: number): string;
  /** Batches running now on device `index`. */
  running(index: number): number;
  close(): Promise<void>;
}

/** The socket of emulated device `index` under the agent's data directory. */
export function emulatedDeviceSocketPath(dataDir: string, index: number): string {
  return join(dataDir, 'run', index === 0 ? 'emu.sock' : `emu-${index}.sock`);
}

export async function startEmulatedDevices(o: {
  dataDir: string;
  count: number;
  clock: Clock;
  log: Logger;
  timeline?: DeviceTimelines;
}): Promise<EmulatedDevices> {
  const servers: EmulatedDeviceServer[] = [];
  try {
    for (let i = 0; i < o.count; i++) {
      servers.push(
        await startEmulatedDeviceServer({
          socketPath: emulatedDeviceSocketPath(o.dataDir, i),
          clock: o.clock,
          log: o.log,
          timeline: o.timeline?.device(emulatedDeviceId(i)),
        }),
      );
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }
  const server = (index: number) => {
    const s = servers[index];
    if (!s)
      throw new RangeError(
        `emulated device ${index} does not exist: the node has ${servers.length} (0 to ${servers.length - 1})`,
      );
    return s;
  };
  return {
    count: servers.length,
    socketPath: (index) => server(index).socketPath,
    running: (index) => server(index).running(),
    close: async () => void (await Promise.all(servers.map((s) => s.close()))),
  };
}
