/**
 * Devices, in the words every part uses:
 *   device kind   what a replica runs on, as a deployment names it (fastgshare/device):
 *                 cpu | emulated | cuda. The node agent, the template runtime, admission, the
 *                 profiler and metering speak of kinds (usage records' `device`, the pricing
 *                 file's `devices`).
 *   device class  the hardware a profile row describes (ProfileEntry.deviceClass): cpu | v100 |
 *                 cuda. Only profiles and the scheduler speak of classes; an emulated replica
 *                 behaves like the calibrated V100, so its kind `emulated` has class `v100`.
 *   device id     one device of a node, as its token scheduler and GET /v1/usage name it:
 *                 "cpu", "emulated", "emulated:1", …, "cuda:0", … (NodeDevice.id).
 */
import { V100_DEVICE_CLASS } from '../profiles/calibration-profiles.ts';

export const DEVICE_KINDS = ['cpu', 'emulated', 'cuda'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export function isDeviceKind(s: string): s is DeviceKind {
  return (DEVICE_KINDS as readonly string[]).includes(s);
}

const CLASS_OF_KIND: Readonly<Record<DeviceKind, string>> = { cpu: 'cpu', emulated: V100_DEVICE_CLASS, cuda: 'cuda' };

/** The device class whose profiles describe replicas of `kind`. */
export function deviceClassOf(kind: DeviceKind): string {
  return CLASS_OF_KIND[kind];
}

/** The device kind of a device class; the class itself when no kind has it (a class profiled elsewhere). */
export function deviceKindOf(deviceClass: string): string {
  return DEVICE_KINDS.find((k) => CLASS_OF_KIND[k] === deviceClass) ?? deviceClass;
}

/**
 * The token scheduler's id of emulated device `index`: "emulated" for 0 (the node's first), "emulated:<i>" after it.
 */
export function emulatedDeviceId(index: number): string {
  return index === 0 ? 'emulated' : `emulated:${index}`;
}

/** The token scheduler's id of GPU `index`. */
export function cudaDeviceId(index: number): string {
  return `cuda:${index}`;
}
