/**
 * The node agent (FaST-Manager of one node): wires the supervisor, logs, usage sampling,
 * durable replica records, metrics and the HTTP API, after reaping replicas that a previous
 * agent of this node left running. It keeps all its state in its data dir and uses no store.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import type { NodeConfig } from '../core/config.ts';
import type { ImageStore } from '../core/images/image-store.ts';
import type { Logger } from '../core/logger.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { PlatformError } from '../core/errors.ts';
import { resolveTuning, type AgentTuning } from './tuning.ts';
import { readHostEnv, type HostEnv } from './host-env.ts';
import { createLogHub } from './logs/log-hub.ts';
import { startEmulatedDevices } from './devices/emulated-devices.ts';
import { createProcReader, type ProcReader } from './usage/proc.ts';
import { createUsageSampler } from './usage/sampler.ts';
import { createNvidiaSmiReader, listGpus, type DeviceMemoryReader, type GpuInfo } from './usage/device-memory.ts';
import { createPortAllocator } from './replicas/ports.ts';
import type { ReplicaLauncher } from './replicas/launcher.ts';
import { createSandbox } from './sandbox/sandbox.ts';
import { removeOrphanWorkDirs } from './records/work-dirs.ts';
import { httpHealthProbe, type HealthProbe } from './replicas/health.ts';
import { createReplicaRecords } from './records/replica-records.ts';
import { lockAgentDataDir, type DataDirLock } from './records/data-dir-lock.ts';
import { createAgentMetrics } from './metrics.ts';
import { createNodeSupervisor, type NodeSupervisor } from './supervisor/node-supervisor.ts';
import { createNodeApi } from './http/api.ts';
import { nodeInfo } from './node-info.ts';
import { advertisedUrl } from './advertised-url.ts';
import { PLATFORM_ROOT } from '../core/version.ts';
import { createDeviceLauncher } from './devices/device-launcher.ts';
import { cudaProbe, findExecutable, nodeCores } from './devices/node-devices.ts';
import type { CudaProbe } from '../core/devices/cuda-probe.ts';
import { createNodeSharing } from './sharing/node-sharing.ts';
import { loadOrCreateNodeToken } from './http/node-token.ts';
import { createForwardTokens } from './http/forward-tokens.ts';
import type { TokenSchedulerOptions } from './sharing/token-scheduler.ts';
import { createDeviceTimelines, type DeviceTimelines } from './timeline/recorder.ts';

export interface NodeAgent {
  url: string;
  port: number;
  name: string;
  /** The bearer token of this agent's API (clients send `Authorization: Bearer <token>`). */
  token: string;
  close(): Promise<void>;
}

export interface StartNodeAgentOptions {
  config: NodeConfig;
  images: ImageStore;
  log: Logger;
  registry?: Registry;
  clock?: Clock;
  /** Supervision timings (tests shorten them). */
  tuning?: Partial<AgentTuning>;
  /** How replica processes are started; device backends wrap the default. */
  launcher?: ReplicaLauncher;
  probe?: HealthProbe;
  proc?: ProcReader;
  /** Device memory of cuda replicas (default: nvidia-smi at config.nvidiaSmi). */
  deviceMemory?: DeviceMemoryReader;
  /** The node's GPUs for GET /v1/node (default: listed once by nvidia-smi at config.nvidiaSmi; none when it fails). */
  gpus?: () => Promise<GpuInfo[]>;
  /** PATH and HOME passed on to replicas (default: the agent's own). */
  hostEnv?: HostEnv;
  /** Device backends: the cores cpu replicas are pinned to (default: all), the CUDA probe. */
  devices?: { cores?: number[]; probeCuda?: () => CudaProbe };
  /** Token scheduler settings of every device (window, base and min quota; tests shorten them). */
  sharing?: Partial<TokenSchedulerOptions>;
  /** The device timelines (default: a recorder of config.timelineEvents per device). */
  timeline?: DeviceTimelines;
}

export async function startNodeAgent(opts: StartNodeAgentOptions): Promise<NodeAgent> {
  // one agent per data dir: another one would take this one's replicas for orphans
  const lock = await lockAgentDataDir(opts.config.dataDir);
  try {
    return await startLockedAgent(opts, lock);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function startLockedAgent(opts: StartNodeAgentOptions, lock: DataDirLock): Promise<NodeAgent> {
  const { config } = opts;
  const log = opts.log.child('node-agent');
  const clock = opts.clock ?? systemClock;
  const tuning = resolveTuning(opts.tuning);
  const registry = opts.registry ?? new Registry();
  const proc = opts.proc ?? createProcReader();
  // listed while the rest starts; a node without nvidia-smi has no GPUs to report
  const gpus = (opts.gpus ?? (() => defaultGpus(config.nvidiaSmi, log)))();

  // the node's own file (<dataDir>/replica-records.json): a node needs no database
  const records = createReplicaRecords({
    dataDir: config.dataDir,
    node: config.name,
    proc,
    log,
    clock,
    killTimeoutMs: Math.min(config.drainTimeoutMs, 5_000),
  });
  try {
    await records.reapOrphans();
  } catch (err) {
    throw new PlatformError(
      'unavailable',
      `cannot reap replicas left by a previous agent of node "${config.name}": ${(err as Error).message}`,
      { cause: err },
    );
  }
  // no replica of this agent lives yet: every work dir (plaintext secrets) is a dead replica's
  const orphanDirs = await removeOrphanWorkDirs(config.dataDir);
  if (orphanDirs.length) log.info('removed work dirs of dead replicas', { removed: orphanDirs.length });

  const logs = createLogHub({
    dir: join(config.dataDir, 'logs'),
    linesPerFunction: tuning.logLinesPerFunction,
    fileMaxBytes: tuning.logFileMaxBytes,
    clock,
    log,
  });
  const deviceMemory = opts.deviceMemory ?? createNvidiaSmiReader({ binary: config.nvidiaSmi, log });
  const sampler = createUsageSampler({ proc, clock, intervalMs: tuning.usageIntervalMs, log, deviceMemory });
  let supervisorRef: NodeSupervisor | undefined;
  const metrics = createAgentMetrics(
    registry,
    () => supervisorRef?.states() ?? [],
    () => supervisorRef?.list() ?? [],
  );

  const nodeToken = await loadOrCreateNodeToken(config.dataDir, config.nodeToken, log);
  const forward = createForwardTokens();
  // the port is taken first (its URL is the node's identity); until the API is wired, a caller
  // gets a quick 503 instead of a request that hangs until its own timeout
  let api: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (api) return api(req, res);
    req.resume();
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end(
      JSON.stringify({
        code: 'unavailable',
        message: `node agent "${config.name}" is starting; try again in a moment`,
      }),
    );
  });
  server.listen(config.port, config.host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const url = advertisedUrl(config, port);
  const urlHost = new URL(url).hostname;

  // per device: every token grant/release and emulated batch, for GET /v1/devices/:device/timeline
  const timeline = opts.timeline ?? createDeviceTimelines({ clock, capacity: config.timelineEvents });
  const sharing = await createNodeSharing({
    dataDir: config.dataDir,
    registry,
    clock,
    log,
    scheduler: opts.sharing,
    timeline,
  });
  const hostEnv = opts.hostEnv ?? readHostEnv();
  // the node's emulated devices: emulated replicas run their batches through their device's server, so racing ones
  // contend
  const emulatedDevices = await startEmulatedDevices({
    dataDir: config.dataDir,
    count: config.emulatedDevices,
    clock,
    log,
    timeline,
  });
  // replicas run sandboxed (fast-manager/sandbox/) unless FASTGSHARE_SANDBOX=off; a test may inject its own launcher
  const sandbox = await createSandbox({
    config: config.sandbox,
    dataDir: config.dataDir,
    platformRoot: PLATFORM_ROOT,
    sockets: [sharing.tokens.socketPath],
    log,
  });
  const devices = createDeviceLauncher({
    inner: opts.launcher ?? sandbox.launcher,
    cores: opts.devices?.cores ?? nodeCores(),
    taskset: findExecutable('taskset', hostEnv.path),
    calibrationDir: join(PLATFORM_ROOT, 'calibration'),
    modelCacheDir: join(config.dataDir, 'model-cache'),
    emulatedDevices,
    probeCuda: opts.devices?.probeCuda ?? cudaProbe(hostEnv.ldLibraryPath),
    log,
  });
  const supervisor = sharing.wrapSupervisor(
    createNodeSupervisor({
      images: opts.images,
      log,
      admit: (spec) => {
        sandbox.admit();
        devices.check(spec);
      },
      replicaDeps: {
        node: config.name,
        urlHost,
        dataDir: config.dataDir,
        startTimeoutMs: config.startTimeoutMs,
        drainTimeoutMs: config.drainTimeoutMs,
        tuning,
        hostEnv,
        launcher: forward.wrapLauncher(sharing.wrapLauncher(devices)),
        ports: createPortAllocator(),
        probe: forward.probe(opts.probe ?? httpHealthProbe),
        sampler,
        logs,
        clock,
        log,
      },
      observer: {
        onChange(r) {
          if (r.state === 'stopped') records.remove(r.id);
          else records.save(r.status(), r.currentPort);
        },
        onCrash(r) {
          metrics.replicaRestarted(r.namespace, r.name);
        },
      },
    }),
  );
  supervisorRef = supervisor;

  const deviceCounts = { emulated: emulatedDevices.count, gpus: await gpus };
  const app = createNodeApi({
    supervisor,
    logs,
    registry,
    info: () => nodeInfo(config.name, url, deviceCounts),
    usage: () => sharing.usage(),
    timeline,
    log,
    token: nodeToken.token,
    forwardTokens: forward,
  });
  api = app;
  log.info('node agent listening', {
    node: config.name,
    url,
    dataDir: config.dataDir,
    emulatedDevices: emulatedDevices.count,
    gpus: deviceCounts.gpus.length,
    token: nodeToken.from,
    sandbox: sandbox.state,
  });

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    name: config.name,
    token: nodeToken.token,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await supervisor.stopAll();
        await sandbox.close();
        await sharing.close();
        await emulatedDevices.close();
        server.closeAllConnections();
        await closed;
        sampler.stop();
        await records.flush();
        await logs.close();
        await lock.release();
        log.info('node agent stopped', { node: config.name });
      })();
      return closing;
    },
  };
}

/** The GPUs nvidia-smi lists; none (logged) when it cannot list them. */
async function defaultGpus(binary: string, log: Logger): Promise<GpuInfo[]> {
  const r = await listGpus({ binary });
  if (r.ok) return r.gpus;
  log.info('no GPUs listed: the node reports no cuda devices', { reason: r.error });
  return [];
}
