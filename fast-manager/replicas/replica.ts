/**
 * One supervised replica of a function: spawns its process (through the launcher), health-checks
 * it until ready and while ready, restarts it with exponential backoff when it crashes or breaks
 * its memory limit (`limits.memory`: resident memory of its process group; cuda replicas also
 * `fastgshare/gpu_mem`: device memory of its process group), and drains it (grace, SIGTERM,
 * timeout, SIGKILL) when stopped. Every state change is reported through `onChange`; crashes are
 * written to the function's log stream.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { settlesWithin, type Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type {
  FunctionSpec,
  ReplicaExit,
  ReplicaState,
  ReplicaStatus,
  DeviceMemoryLimitStatus,
} from '../../core/contracts/node-agent.ts';
import type { AgentTuning } from '../tuning.ts';
import type { HostEnv } from '../host-env.ts';
import type { LogHub } from '../logs/log-hub.ts';
import type { DeviceMemoryUsage, UsageSample, UsageSampler } from '../usage/sampler.ts';
import type { LaunchedProcess, ExitInfo, ReplicaLauncher } from './launcher.ts';
import type { PortAllocator } from './ports.ts';
import type { HealthProbe } from './health.ts';
import { backoffDelay, formatDelay } from './backoff.ts';
import { buildReplicaEnv } from './env.ts';
import { replicaProcess, type ReplicaProcess } from '../watchdog/launch.ts';
import { commandExists } from '../watchdog/command.ts';
import { createWorkspace, type ReplicaWorkspace } from './workspace.ts';
import { signalGroup } from './process-group.ts';
import { formatBytes } from '../../core/contracts/quantity.ts';
import { HEALTH_PATH } from '../../core/contracts/replica-http.ts';

/** Everything a replica is started from; replicas of one template are interchangeable. */
export interface ReplicaTemplate {
  spec: FunctionSpec;
  argv: string[];
  bundleDir: string;
  /** Replicas whose template fingerprint differs from the deployment's are rolled. */
  fingerprint: string;
  memoryLimitBytes?: number;
  /** Set for cuda replicas: their device memory is measured, and a limit is enforced. */
  deviceMemory?: { limitBytes?: number; /** The limit as written in fastgshare/gpu_mem. */ limit?: string };
}

export const DEVICE_MEMORY_ANNOTATION = 'fastgshare/gpu_mem';

export interface ReplicaDeps {
  node: string;
  /** Host name in replica URLs (how the gateway reaches this node). */
  urlHost: string;
  dataDir: string;
  startTimeoutMs: number;
  drainTimeoutMs: number;
  tuning: AgentTuning;
  hostEnv: HostEnv;
  launcher: ReplicaLauncher;
  ports: PortAllocator;
  probe: HealthProbe;
  sampler: UsageSampler;
  logs: LogHub;
  clock: Clock;
  log: Logger;
}

export interface ReplicaHooks {
  onChange(replica: Replica): void;
  onCrash(replica: Replica, exit: ReplicaExit): void;
}

export class Replica {
  state: ReplicaState = 'starting';
  private restarts = 0;
  private streak = 0;
  private pid: number | null = null;
  private port = 0;
  private startedAt: Date;
  private readyAt?: Date;
  private lastExit?: ReplicaExit;
  private usage: ReplicaStatus['usage'] = { cpu: 0, totalMemoryBytes: 0 };
  private deviceLimit?: DeviceMemoryLimitStatus;
  private proc?: LaunchedProcess;
  private run = 0;
  private killReason?: string;
  private failures = 0;
  private stopRequested = false;
  private stopping?: Promise<void>;
  private starting?: Promise<void>;
  private workspace?: ReplicaWorkspace;
  private unwatch?: () => void;
  /** Cancellers of the pending timers (on the injected clock). */
  private timers: { health?: () => void; start?: () => void; backoff?: () => void; reset?: () => void } = {};
  private readonly log: Logger;

  constructor(
    readonly id: string,
    /** Creation order within the node, for "newest first". */
    readonly seq: number,
    readonly template: ReplicaTemplate,
    private readonly deps: ReplicaDeps,
    private readonly hooks: ReplicaHooks,
  ) {
    this.startedAt = deps.clock.date();
    this.log = deps.log.child('replica');
  }

  get name(): string {
    return this.template.spec.name;
  }
  get namespace(): string {
    return this.template.spec.namespace;
  }
  get fingerprint(): string {
    return this.template.fingerprint;
  }
  /** The port of the current (or last) process. */
  get currentPort(): number | null {
    return this.port || null;
  }
  get isStopping(): boolean {
    return this.stopRequested;
  }

  /** Prepares the workspace and spawns the first process; failures become crashes (with backoff). */
  start(): Promise<void> {
    this.starting ??= this.prepareAndSpawn();
    return this.starting;
  }

  private async prepareAndSpawn(): Promise<void> {
    try {
      this.workspace = await createWorkspace(this.deps.dataDir, this.id, this.template.spec.secrets);
    } catch (err) {
      this.crashed({ code: null, signal: null }, `could not prepare its directory: ${(err as Error).message}`);
      return;
    }
    await this.spawn();
  }

  /** Drains and stops the replica for good; safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  status(): ReplicaStatus {
    return {
      id: this.id,
      name: this.name,
      namespace: this.namespace,
      node: this.deps.node,
      url: `http://${this.deps.urlHost}:${this.port}`,
      pid: this.pid,
      state: this.state,
      restarts: this.restarts,
      startedAt: this.startedAt.toISOString(),
      ...(this.readyAt ? { readyAt: this.readyAt.toISOString() } : {}),
      ...(this.lastExit ? { lastExit: this.lastExit } : {}),
      usage: { ...this.usage },
      ...(this.deviceLimit ? { deviceMemoryLimit: { ...this.deviceLimit } } : {}),
    };
  }

  private setState(state: ReplicaState): void {
    if (this.state === state) return;
    this.state = state;
    this.hooks.onChange(this);
  }

  private clearTimers(): void {
    for (const cancel of Object.values(this.timers)) cancel?.();
    this.timers = {};
  }

  private async spawn(): Promise<void> {
    if (this.stopRequested) return;
    const run = ++this.run;
    const { spec, argv: resolvedArgv, bundleDir } = this.template;
    let how: ReplicaProcess;
    try {
      how = await replicaProcess({ argv: resolvedArgv, bundleDir, envVars: spec.envVars, envProcess: spec.envProcess });
    } catch (err) {
      if (this.stopRequested || run !== this.run) return;
      this.crashed({ code: null, signal: null }, `could not start: ${(err as Error).message}`);
      return;
    }
    if (this.stopRequested || run !== this.run) return;
    const argv = how.argv;
    let port: number;
    try {
      port = await this.deps.ports.acquire();
    } catch (err) {
      this.crashed({ code: null, signal: null }, `could not get a port: ${(err as Error).message}`);
      return;
    }
    if (this.stopRequested || run !== this.run) {
      this.deps.ports.release(port);
      return;
    }
    const ws = this.workspace!;
    this.port = port;
    this.startedAt = this.deps.clock.date();
    this.readyAt = undefined;
    this.killReason = undefined;
    this.failures = 0;
    this.usage = { cpu: 0, totalMemoryBytes: 0 };
    const dm = this.template.deviceMemory;
    this.deviceLimit =
      dm?.limitBytes !== undefined
        ? {
            annotation: DEVICE_MEMORY_ANNOTATION,
            limit: dm.limit ?? formatBytes(dm.limitBytes),
            limitBytes: dm.limitBytes,
            enforcement: 'pending',
          }
        : undefined;
    const env = buildReplicaEnv({
      envVars: spec.envVars,
      name: spec.name,
      namespace: spec.namespace,
      replicaId: this.id,
      port,
      secretsDir: ws.secretsDir,
      tmpDir: ws.tmpDir,
      host: this.deps.hostEnv,
      fprocess: how.fprocess,
    });
    const forked = how.forkArgv?.[0];
    if (forked !== undefined && !commandExists(forked, env.PATH ?? '', bundleDir)) {
      // as a directly run fprocess that is not there: said before the watchdog starts at all
      this.deps.ports.release(port);
      this.crashed(
        { code: null, signal: null },
        `could not start "${forked}": spawn ${forked} ENOENT (run once per request under the built-in watchdog: ${how.mode.reason})`,
      );
      return;
    }
    let proc: LaunchedProcess;
    try {
      proc = this.deps.launcher.launch({
        replicaId: this.id,
        namespace: spec.namespace,
        name: spec.name,
        argv,
        cwd: bundleDir,
        env,
        port,
        annotations: spec.annotations,
        workspace: { dir: ws.dir, secretsDir: ws.secretsDir, tmpDir: ws.tmpDir },
        ...(this.template.memoryLimitBytes !== undefined ? { memoryLimitBytes: this.template.memoryLimitBytes } : {}),
        readOnlyRootFilesystem: spec.readOnlyRootFilesystem,
      });
    } catch (err) {
      this.deps.ports.release(port);
      this.crashed({ code: null, signal: null }, `could not start "${argv[0]}": ${(err as Error).message}`);
      return;
    }
    this.proc = proc;
    this.pid = proc.pid;
    this.capture(proc.stdout);
    this.capture(proc.stderr);
    if (proc.pid)
      this.unwatch = this.deps.sampler.watch(proc.pid, (s) => this.onUsage(s, run), { deviceMemory: dm !== undefined });
    this.timers.start = this.deps.clock.after(this.deps.startTimeoutMs, () =>
      this.kill(`did not answer GET ${HEALTH_PATH} with 200 within ${this.deps.startTimeoutMs}ms`),
    );
    this.scheduleProbe(run, this.deps.tuning.startPollMs);
    this.state = 'starting';
    this.hooks.onChange(this);
    this.log.debug('replica started', {
      replica: this.id,
      pid: proc.pid,
      port,
      mode: how.mode.kind,
      why: how.mode.reason,
    });
    if (how.mode.kind === 'fork')
      this.deps.logs.append(
        this.namespace,
        this.name,
        this.id,
        `replica runs "${how.fprocess}" once per request under the built-in watchdog: ${how.mode.reason}`,
      );
    void proc.exited.then((info) => this.onExit(info, run));
  }

  private capture(stream: Readable | null): void {
    if (!stream) return;
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    rl.on('line', (line) => this.deps.logs.append(this.namespace, this.name, this.id, line));
    stream.on('error', () => rl.close());
  }

  private scheduleProbe(run: number, delayMs: number): void {
    this.timers.health = this.deps.clock.after(delayMs, () => {
      void this.deps.probe(this.port, this.deps.tuning.healthTimeoutMs).then((ok) => {
        if (run === this.run && this.proc && !this.stopRequested) this.onProbe(ok, run);
      });
    });
  }

  private onProbe(ok: boolean, run: number): void {
    const t = this.deps.tuning;
    if (this.state === 'starting') {
      if (!ok) return this.scheduleProbe(run, t.startPollMs);
      this.timers.start?.();
      this.readyAt = this.deps.clock.date();
      this.timers.reset = this.deps.clock.after(t.backoffResetMs, () => (this.streak = 0));
      this.log.info('replica ready', { replica: this.id, function: `${this.name}.${this.namespace}`, port: this.port });
      this.setState('ready');
      return this.scheduleProbe(run, t.healthIntervalMs);
    }
    if (this.state !== 'ready' && this.state !== 'unhealthy') return;
    if (ok) {
      this.failures = 0;
      this.setState('ready');
    } else {
      this.failures++;
      if (this.failures >= t.restartAfterFailures) return this.kill(`failed ${this.failures} health checks in a row`);
      if (this.failures >= t.unhealthyAfter && this.state === 'ready') {
        this.timers.reset?.();
        this.log.warn('replica unhealthy', { replica: this.id, failures: this.failures });
        this.setState('unhealthy');
      }
    }
    this.scheduleProbe(run, t.healthIntervalMs);
  }

  private onUsage(sample: UsageSample, run: number): void {
    if (run !== this.run) return;
    this.usage = {
      cpu: sample.cpu,
      totalMemoryBytes: sample.rssBytes,
      ...(sample.device?.ok ? { deviceMemoryBytes: sample.device.bytes } : {}),
    };
    const limit = this.template.memoryLimitBytes;
    if (limit !== undefined && sample.rssBytes > limit && !this.killReason && !this.stopRequested) {
      const limitText = this.template.spec.limits?.memory ?? formatBytes(limit);
      this.kill(`killed: memory limit ${limitText} exceeded (used ${formatBytes(sample.rssBytes)})`);
    }
    if (this.deviceLimit && sample.device) this.checkDeviceMemory(this.deviceLimit, sample.device);
  }

  private checkDeviceMemory(lim: DeviceMemoryLimitStatus, d: DeviceMemoryUsage): void {
    if (!d.ok) {
      // the reader logs the node-wide problem once; the status of each replica carries it
      const reason = `cannot measure device memory: ${d.error}`;
      if (lim.reason !== reason)
        this.log.debug('device memory limit of replica not enforced', { replica: this.id, limit: lim.limit, reason });
      lim.enforcement = 'unenforced';
      lim.reason = reason;
      return;
    }
    if (d.bytes > lim.limitBytes && !this.killReason && !this.stopRequested) {
      this.kill(
        `killed: device memory limit ${lim.limit} (${lim.annotation}) exceeded (used ${formatBytes(d.bytes)} of GPU memory, ${d.bytes} bytes)`,
      );
    }
    if (d.unreported > 0) {
      lim.enforcement = 'unenforced';
      lim.reason = `the GPU driver does not report the device memory of ${d.unreported} process(es) of the replica ([N/A] in nvidia-smi)`;
    } else {
      lim.enforcement = 'enforced';
      delete lim.reason;
    }
  }

  /** Kills the running process group; its exit is then handled as a crash with `reason`. */
  private kill(reason: string): void {
    if (!this.pid || this.killReason) return;
    this.killReason = reason;
    this.log.warn('killing replica', { replica: this.id, reason });
    this.signal(this.proc, this.pid, 'SIGKILL');
  }

  /** Signals every process of the replica: through its launcher when that knows them, else its process group. */
  private signal(proc: LaunchedProcess | undefined, pid: number, sig: NodeJS.Signals): boolean {
    return proc?.signal ? proc.signal(sig) : signalGroup(pid, sig);
  }

  private onExit(info: ExitInfo, run: number): void {
    if (run !== this.run) return;
    const pid = this.pid;
    const proc = this.proc;
    this.clearTimers();
    this.unwatch?.();
    this.unwatch = undefined;
    this.deps.ports.release(this.port);
    if (pid) this.signal(proc, pid, 'SIGKILL'); // children the leader left behind
    this.proc = undefined;
    this.pid = null;
    if (this.stopRequested) return;
    // the kernel's word (an OOM kill in the replica's cgroup) comes before our own RSS check's
    const reason =
      info.reason ??
      this.killReason ??
      (info.error
        ? `could not start "${this.template.argv[0]}": ${info.error.message}`
        : info.code !== null
          ? `exited with code ${info.code}`
          : `killed by ${info.signal}`);
    this.crashed(info, reason);
  }

  private crashed(info: { code: number | null; signal: string | null }, reason: string): void {
    const exit: ReplicaExit = {
      code: info.code,
      signal: info.signal,
      at: this.deps.clock.date().toISOString(),
      reason,
    };
    this.lastExit = exit;
    this.restarts++;
    this.streak++;
    const delay = backoffDelay(this.streak, this.deps.tuning.backoffBaseMs, this.deps.tuning.backoffMaxMs);
    const line = `replica ${reason}; restarting in ${formatDelay(delay)}`;
    this.deps.logs.append(this.namespace, this.name, this.id, line);
    this.log.warn(line, { replica: this.id, function: `${this.name}.${this.namespace}` });
    this.hooks.onCrash(this, exit);
    this.setState('backoff');
    this.timers.backoff = this.deps.clock.after(delay, () => void this.spawn());
  }

  private async drain(): Promise<void> {
    this.stopRequested = true;
    this.clearTimers();
    await this.starting; // a start under way finishes first (or sees the stop and spawns nothing)
    this.clearTimers();
    const proc = this.proc;
    if (proc && proc.pid) {
      const pid = proc.pid;
      this.setState('draining');
      const gone = proc.exited;
      await settlesWithin(this.deps.clock, gone, this.deps.tuning.drainGraceMs);
      this.signal(proc, pid, 'SIGTERM');
      const exited = await settlesWithin(this.deps.clock, gone, this.deps.drainTimeoutMs);
      if (!exited) {
        this.log.warn('replica did not stop in time; killing it', {
          replica: this.id,
          drainTimeoutMs: this.deps.drainTimeoutMs,
        });
        this.signal(proc, pid, 'SIGKILL');
        await gone;
      }
      this.signal(proc, pid, 'SIGKILL');
    }
    this.run++; // no later callback of the last run applies
    this.unwatch?.();
    this.pid = null;
    await this.workspace
      ?.remove()
      .catch((err) => this.log.warn('cannot remove replica directory', { replica: this.id, err }));
    this.setState('stopped');
  }
}
