/**
 * A replica's device settings, read once from its environment, set by the node agent (the
 * variables: core/contracts/replica-env.ts), with this runtime's defaults:
 *   FASTGSHARE_DEVICE            cpu | emulated | cuda (default cpu)
 *   FASTGSHARE_PARTITION         compute partition of the device, percent 1..100 (default 100)
 *   FASTGSHARE_CPUS              cpu: the cores the replica is pinned to, taskset syntax "0-3,6"
 *                                (default: every core of the machine)
 *   FASTGSHARE_EMULATED_PROFILE  emulated: the calibrated model this function behaves like (e.g. resnet50)
 *   FASTGSHARE_CALIBRATION_DIR   emulated: folder of the calibration CSVs (default: the project's calibration/)
 *   FASTGSHARE_EMULATED_DEVICE_SOCKET  emulated: the node's shared emulated device (batches of
 *                                replicas contend on it); unset = each batch sleeps on its own
 *   FASTGSHARE_CUDA_DEVICE       cuda: device id (default 0)
 *   FASTGSHARE_GPU_MEMORY_BYTES  cuda: device-memory limit of the replica
 *   LD_LIBRARY_PATH              cuda: extra folders searched for the CUDA libraries
 *   FASTGSHARE_MODEL_SHARING     on | off: open the model from the node's shared copy (default on)
 *   FASTGSHARE_MODEL_CACHE       folder of the node's shared model copies (sharing needs it)
 */
import { ConfigError } from 'fastgshare/core/errors.ts';
import type { Env } from 'fastgshare/core/config.ts';
import type { DeviceKind } from 'fastgshare/core/contracts/devices.ts';
import { REPLICA_ENV as E } from 'fastgshare/core/contracts/replica-env.ts';

export interface BackendConfig {
  device: DeviceKind;
  partitionPercent: number;
  cores: number[];
  emulatedProfile?: string;
  calibrationDir?: string;
  emulatedDeviceSocket?: string;
  cudaDeviceId: number;
  gpuMemLimitBytes?: number;
  ldLibraryPath?: string;
  /** Folder of the node's shared model copies when model sharing is on; undefined = unshared. */
  modelCacheDir?: string;
}

/** Parses taskset-style core lists: "0-3,6" → [0,1,2,3,6]. */
export function parseCoreList(raw: string, variable: string = E.cpus): number[] {
  const cores = new Set<number>();
  for (const part of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new ConfigError(variable, `"${part}" is not a core number or range like 0-3`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new ConfigError(variable, `range "${part}" runs backwards`);
    for (let c = lo; c <= hi; c++) cores.add(c);
  }
  if (cores.size === 0) throw new ConfigError(variable, 'names no cores');
  return [...cores].sort((a, b) => a - b);
}

function number(
  env: Env,
  name: string,
  dflt: number | undefined,
  min: number,
  max: number,
  whole: boolean,
): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v) || (whole && !Number.isInteger(v)))
    throw new ConfigError(name, `"${raw}" is not a ${whole ? 'whole ' : ''}number`);
  if (v < min || v > max) throw new ConfigError(name, `${v} is out of range ${min}..${max}`);
  return v;
}

function readModelSharing(env: Env): boolean {
  const raw = (env[E.modelSharing] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'on') return true;
  if (raw === 'off') return false;
  throw new ConfigError(E.modelSharing, `"${env[E.modelSharing]}" is neither on nor off`);
}

export function readBackendConfig(env: Env, machineCores: number): BackendConfig {
  const device = (env[E.device] || 'cpu') as DeviceKind;
  if (!['cpu', 'emulated', 'cuda'].includes(device))
    throw new ConfigError(E.device, `"${device}" is not one of cpu, emulated, cuda`);
  const cpus = env[E.cpus];
  const cores = cpus ? parseCoreList(cpus) : Array.from({ length: machineCores }, (_, i) => i);
  const emulatedProfile = env[E.emulatedProfile] || undefined;
  if (device === 'emulated' && !emulatedProfile)
    throw new ConfigError(
      E.emulatedProfile,
      'the emulated device needs the calibrated model to behave like (e.g. resnet50)',
    );
  return {
    device,
    partitionPercent: number(env, E.partition, 100, 1, 100, false)!,
    cores,
    emulatedProfile,
    calibrationDir: env[E.calibrationDir] || undefined,
    emulatedDeviceSocket: env[E.emulatedDeviceSocket] || undefined,
    cudaDeviceId: number(env, E.cudaDevice, 0, 0, 1024, true)!,
    gpuMemLimitBytes: number(env, E.gpuMemoryBytes, undefined, 1, Number.MAX_SAFE_INTEGER, true),
    ldLibraryPath: env.LD_LIBRARY_PATH,
    modelCacheDir: readModelSharing(env) ? env[E.modelCache] || undefined : undefined,
  };
}
