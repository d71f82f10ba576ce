/**
 * Device backends on the node agent's side. Wraps a `ReplicaLauncher`: for a deployment with
 * device annotations (core/contracts/annotations.ts) it sets the replica's device environment and, for `cpu`,
 * pins the process to the cores of its partition with `taskset -c` (the runtime uses as many
 * intra-op threads as it has cores). `check` runs at deploy time, before any replica starts:
 * bad annotation values, an unknown emulated profile, an emulated device index the node does not
 * have (fastgshare/emulated_device against FASTGSHARE_EMULATED_DEVICES) and a `cuda` device on a
 * node without the CUDA libraries are refused with a 400 that says what is wrong. An emulated
 * replica gets the contention socket of its own emulated device (emulated-devices.ts).
 */
import type { FunctionSpec } from '../../core/contracts/node-agent.ts';
import { PlatformError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { threadsForPartition, formatCoreList } from '../../core/devices/cpu-cores.ts';
import { loadLatencyTable, type LatencyTable } from '../../core/profiles/calibration-table.ts';
import type { CudaProbe } from '../../core/devices/cuda-probe.ts';
import { join } from 'node:path';
import type { LaunchPlan, ReplicaBind, ReplicaLauncher } from '../replicas/launcher.ts';
import {
  DEVICE_ANNOTATIONS,
  hasDeviceAnnotations,
  readDeviceId,
  readDeviceRequest,
  type DeviceRequest,
} from '../../core/contracts/annotations.ts';
import { createCoreAllocator, type CoreAllocator } from './core-allocator.ts';
import { deviceEnv } from './device-env.ts';
import type { EmulatedDevices } from './emulated-devices.ts';

export interface DeviceLauncherOptions {
  inner: ReplicaLauncher;
  /** The node's cores that replicas may be pinned to. */
  cores: readonly number[];
  /** Absolute path of `taskset`, or undefined when the node has none (replicas then run unpinned). */
  taskset?: string;
  calibrationDir: string;
  /**
   * Where model replicas keep the shared (optimised, memory-mappable) copies of their models: one folder per namespace
   * below it.
   */
  modelCacheDir?: string;
  /**
   * The node's emulated devices (emulated-devices.ts): an emulated replica gets the socket of the
   * one its fastgshare/emulated_device names. Absent: one device, replicas run without a socket.
   */
  emulatedDevices?: Pick<EmulatedDevices, 'count' | 'socketPath'>;
  /** Looks for the CUDA provider and libraries (deploy-time check of `cuda`). */
  probeCuda: () => CudaProbe;
  log: Logger;
}

export interface DeviceLauncher extends ReplicaLauncher {
  /** Throws PlatformError (400) when the spec's device settings cannot run on this node. */
  check(spec: Pick<FunctionSpec, 'name' | 'annotations'>): DeviceRequest | undefined;
  readonly allocator: CoreAllocator;
}

export function createDeviceLauncher(o: DeviceLauncherOptions): DeviceLauncher {
  const log = o.log.child('devices');
  const allocator = createCoreAllocator(o.cores);
  let table: LatencyTable | undefined;
  const calibration = () => (table ??= loadLatencyTable(o.calibrationDir));

  function check(spec: Pick<FunctionSpec, 'name' | 'annotations'>): DeviceRequest | undefined {
    if (!hasDeviceAnnotations(spec.annotations)) return undefined;
    const req = readDeviceRequest(spec.annotations);
    if (req.device === 'emulated') {
      const t = calibration();
      if (!t.models().includes(req.emulatedProfile!)) {
        throw new PlatformError(
          'bad_request',
          `annotation fastgshare/emulated_profile: no calibration profile "${req.emulatedProfile}"; choose one of ${t.models().join(', ')}`,
          {
            details: { field: 'annotations.fastgshare/emulated_profile' },
          },
        );
      }
      const count = o.emulatedDevices?.count ?? 1;
      if (req.emulatedDevice >= count) {
        const A = DEVICE_ANNOTATIONS.emulatedDevice;
        throw new PlatformError(
          'bad_request',
          `annotation ${A}: this node has ${count} emulated device${count === 1 ? '' : 's'} (FASTGSHARE_EMULATED_DEVICES=${count}), so there is no device ${req.emulatedDevice}; use ${count === 1 ? '0' : `0 to ${count - 1}`}`,
          { details: { field: `annotations.${A}`, emulatedDevices: count } },
        );
      }
    }
    if (req.device === 'cuda') {
      const { missing } = o.probeCuda();
      if (missing.length > 0) {
        const searched = [...new Set(missing.flatMap((m) => m.searched))].join(', ');
        throw new PlatformError(
          'unsupported_device',
          `function "${spec.name}" asks for fastgshare/device=cuda, but this node cannot run CUDA: missing ${missing.map((m) => m.library).join(', ')} (searched ${searched}). ` +
            'Install the CUDA 12 runtime, cuDNN 9 and onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12, or deploy with fastgshare/device=cpu or emulated.',
          { details: { field: 'annotations.fastgshare/device', missing: missing.map((m) => m.library) } },
        );
      }
    }
    return req;
  }

  return {
    allocator,
    check,
    launch(plan: LaunchPlan) {
      const req = check({ name: plan.name, annotations: plan.annotations ?? {} });
      if (!req) return o.inner.launch(plan);
      let cores: number[] | undefined;
      let argv = plan.argv;
      if (req.device === 'cpu') {
        cores = allocator.acquire(threadsForPartition(req.partitionPercent, o.cores.length));
        if (o.taskset) argv = [o.taskset, '-c', formatCoreList(cores), ...plan.argv];
        else log.warn('taskset not found: cpu replica runs unpinned', { replica: plan.replicaId });
      }
      // one model cache per namespace (tenant): functions of a tenant share weights, tenants never share files
      const modelCacheDir = o.modelCacheDir && join(o.modelCacheDir, plan.namespace);
      const emulatedDeviceSocket =
        req.device === 'emulated' ? o.emulatedDevices?.socketPath(req.emulatedDevice) : undefined;
      const env = {
        ...plan.env,
        ...deviceEnv(req, {
          cores,
          coreList: cores && formatCoreList(cores),
          calibrationDir: o.calibrationDir,
          modelCacheDir,
          emulatedDeviceSocket,
        }),
      };
      const binds: ReplicaBind[] = [...(plan.binds ?? []), { path: o.calibrationDir, access: 'ro' }];
      if (modelCacheDir && req.modelSharing) binds.push({ path: modelCacheDir, access: 'rw', group: 'namespace' });
      if (emulatedDeviceSocket) binds.push({ path: emulatedDeviceSocket, access: 'socket' });
      log.debug('replica device', {
        replica: plan.replicaId,
        device: readDeviceId(plan.annotations),
        partition: req.partitionPercent,
        cores,
      });
      let launched;
      try {
        launched = o.inner.launch({ ...plan, argv, env, binds, ...(cores ? { cpus: cores } : {}) });
      } catch (err) {
        if (cores) allocator.release(cores);
        throw err;
      }
      if (cores) {
        const held = cores;
        void launched.exited.then(() => allocator.release(held));
      }
      return launched;
    },
  };
}
