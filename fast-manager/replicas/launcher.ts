/**
 * The seam through which a replica's process comes to life. A `LaunchPlan` says what to run
 * (argv, working directory, environment); a `ReplicaLauncher` runs it. Device backends (cpu core
 * sets, emulated or CUDA devices) extend a plan's environment and argv by wrapping a launcher,
 * so the supervisor never knows which device a replica uses.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { Readable } from 'node:stream';

export interface LaunchPlan {
  replicaId: string;
  namespace: string;
  name: string;
  /** argv[0] is looked up on `env.PATH`. */
  argv: string[];
  cwd: string;
  /** The complete environment (nothing is inherited implicitly). */
  env: Record<string, string>;
  port: number;
  /** The deployment's annotations (device backends read their settings from them). */
  annotations?: Record<string, string>;
  /** The replica's private directory (workspace.ts): a sandbox mounts its scratch and secrets. */
  workspace?: { dir: string; secretsDir: string; tmpDir: string };
  /** limits.memory in bytes: a sandbox enforces it in the kernel (cgroup). */
  memoryLimitBytes?: number;
  /** The cores a device backend gave the replica: a sandbox confines it to them (cpuset). */
  cpus?: readonly number[];
  /** The deployment's readOnlyRootFilesystem (the bundle is read-only in a sandbox either way). */
  readOnlyRootFilesystem?: boolean;
  /** Host paths besides its bundle that the replica needs (sockets, caches); a sandbox shows only these. */
  binds?: ReplicaBind[];
}

/**
 * A host path a replica uses. `socket`: a unix socket it connects to; `ro`/`rw`: a directory;
 * `group: 'namespace'` marks a directory shared by the replicas of one namespace (tenant).
 */
export interface ReplicaBind {
  path: string;
  access: 'socket' | 'ro' | 'rw';
  group?: 'namespace';
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  error?: Error;
  /** Why the launcher's confinement ended it (e.g. the kernel's OOM killer), when it knows. */
  reason?: string;
}

export interface LaunchedProcess {
  /** Also the process group id: a launched process leads its own group. */
  pid: number | null;
  stdout: Readable | null;
  stderr: Readable | null;
  /** Settles once, when the process (the group leader) is gone. */
  exited: Promise<ExitInfo>;
  /**
   * Sends `signal` to every process of the replica; false when none is left. Absent: the
   * supervisor signals the process group led by `pid`.
   */
  signal?(signal: NodeJS.Signals): boolean;
}

export interface ReplicaLauncher {
  launch(plan: LaunchPlan): LaunchedProcess;
}

/** Runs a plan as a plain child process in a new process group (session), without a shell. */
export function createProcessLauncher(): ReplicaLauncher {
  return {
    launch(plan) {
      // directories it writes into (model caches) exist before it starts, as in a sandbox
      for (const b of plan.binds ?? []) if (b.access === 'rw') mkdirSync(b.path, { recursive: true });
      const [command, ...args] = plan.argv;
      const child = spawn(command!, args, {
        cwd: plan.cwd,
        env: plan.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<ExitInfo>((resolve) => {
        let done = false;
        child.once('exit', (code, signal) => {
          if (!done) resolve({ code, signal });
          done = true;
        });
        child.once('error', (error) => {
          // 'error' without a pid: the process never started, so no 'exit' follows
          if (!done && child.pid === undefined) resolve({ code: null, signal: null, error });
          if (child.pid === undefined) done = true;
        });
      });
      return { pid: child.pid ?? null, stdout: child.stdout, stderr: child.stderr, exited };
    },
  };
}
