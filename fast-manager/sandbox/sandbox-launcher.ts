/**
 * The innermost launcher when the sandbox is on: runs a plan with bubblewrap as an unprivileged
 * uid of its own (and its namespace's gid), no capabilities, no_new_privs, in its own mount,
 * pid, ipc, uts and cgroup namespaces (mount-plan.ts), inside a cgroup with its limits
 * (cgroups.ts). The agent spawns `/bin/sh`, which writes its own pid into the cgroup and then
 * execs bwrap, so nothing the replica starts is outside the cgroup. bwrap reads its options
 * (with the replica's environment) from a pipe, so the environment shows in no command line,
 * and the host side (sh, bwrap) runs with a fixed minimal environment, never with the tenant's
 * (an LD_PRELOAD there would run as root).
 *
 * Signals: bwrap's monitor (the group leader the agent sees) does not pass signals on, and a
 * SIGTERM would end it at once, so a SIGTERM goes to the replica's own processes (the cgroup's,
 * minus the monitor) and it drains; the monitor then exits with the replica's status. A SIGKILL
 * goes to all of them. Without --die-with-parent, replicas of an agent that died keep running
 * until the next agent reaps them (records/replica-records.ts), as without a sandbox.
 */
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { Writable } from 'node:stream';
import type { Logger } from '../../core/logger.ts';
import type { ExitInfo, LaunchPlan, LaunchedProcess, ReplicaLauncher } from '../replicas/launcher.ts';
import { formatBytes } from '../../core/contracts/quantity.ts';
import { REPLICA_ENV } from '../../core/contracts/replica-env.ts';
import { commandExists } from '../watchdog/command.ts';
import type { Cgroups, ReplicaCgroup } from './cgroups.ts';
import type { NamespaceGids, UidPool } from './id-pool.ts';
import { bwrapOptions, sandboxCommand, SCRATCH_MOUNT, SECRETS_MOUNT } from './mount-plan.ts';
import { prepareReplicaFiles } from './replica-files.ts';

export interface SandboxLauncherOptions {
  bwrap: string;
  setpriv: string;
  platformRoot: string;
  dataDir: string;
  extraSystemDirs: readonly string[];
  cgroups: Cgroups;
  uids: UidPool;
  gids: NamespaceGids;
  pidsMax: number;
  /** Sockets every replica may connect to (the token channel). */
  sockets: readonly string[];
  log: Logger;
}

/** The only environment the host side of a sandbox (sh, bwrap) gets. */
export const HOST_SIDE_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
/** sh joins the cgroups ($2…), then becomes bwrap ($1) with its options on fd 3 and the command after them. */
// umask 007: what a replica makes is its group's (the namespace's, e.g. in the shared model cache) and nobody else's
const JOIN_SCRIPT =
  'umask 007; b=$1; n=$2; shift 2; for f in $(seq 1 "$n"); do echo $$ > "$1" || { echo "sandbox: cannot join cgroup $1" >&2; exit 125; }; shift; done; exec "$b" --args 3 "$@"';

export function createSandboxLauncher(o: SandboxLauncherOptions): ReplicaLauncher {
  const log = o.log.child('sandbox');
  return {
    launch(plan: LaunchPlan): LaunchedProcess {
      const ws = plan.workspace;
      if (!ws) throw new Error('a sandboxed replica needs its workspace (scratch and secrets folders)');
      const argv0 = plan.argv[0] ?? '';
      // the sandbox shows a subset of the host at the same paths: what the host lacks, it lacks too
      if (!commandExists(argv0, plan.env.PATH ?? '', plan.cwd))
        throw Object.assign(new Error(`spawn ${argv0} ENOENT`), { code: 'ENOENT' });
      const uid = o.uids.acquire();
      const gid = o.gids.of(plan.namespace);
      const binds = [...(plan.binds ?? []), ...o.sockets.map((path) => ({ path, access: 'socket' as const }))];
      let cgroup: ReplicaCgroup | undefined;
      try {
        prepareReplicaFiles({ scratchDir: ws.tmpDir, secretsDir: ws.secretsDir, binds, uid, gid });
        cgroup = o.cgroups.create(plan.replicaId, {
          memoryBytes: plan.memoryLimitBytes,
          pidsMax: o.pidsMax,
          cpus: plan.cpus,
        });
      } catch (err) {
        o.uids.release(uid);
        throw err;
      }
      const cg = cgroup;
      const env: Record<string, string> = {
        ...plan.env,
        HOME: SCRATCH_MOUNT,
        TMPDIR: SCRATCH_MOUNT,
        [REPLICA_ENV.secretsDir]: SECRETS_MOUNT,
      };
      const options = bwrapOptions({
        platformRoot: o.platformRoot,
        dataDir: o.dataDir,
        bundleDir: plan.cwd,
        scratchDir: ws.tmpDir,
        secretsDir: ws.secretsDir,
        binds,
        extraSystemDirs: o.extraSystemDirs,
        env,
        uid,
        gid,
        argv: plan.argv,
        setpriv: o.setpriv,
      });
      const command = sandboxCommand({ uid, gid, argv: plan.argv, setpriv: o.setpriv });
      const child = spawn(
        '/bin/sh',
        ['-c', JOIN_SCRIPT, 'sh', o.bwrap, String(cg.procsFiles.length), ...cg.procsFiles, ...command],
        {
          cwd: '/',
          // the records reaper finds a replica left by a previous agent by this variable in its group
          env: { PATH: HOST_SIDE_PATH, [REPLICA_ENV.replicaId]: plan.replicaId },
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        },
      );
      const optionsPipe = child.stdio[3] as Writable | null;
      optionsPipe?.on('error', () => {}); // sh died before bwrap read them: its exit says why
      optionsPipe?.end(options.map((a) => `${a}\0`).join(''));
      const leader = child.pid;

      let cleaned: Promise<void> | undefined;
      const cleanup = () =>
        (cleaned ??= (async () => {
          try {
            await cg.remove();
          } catch (err) {
            log.warn('cannot remove the cgroup of a replica', { replica: plan.replicaId, err });
          }
          o.uids.release(uid);
        })());
      const exited = new Promise<ExitInfo>((resolve) => {
        let done = false;
        const finish = async (info: ExitInfo) => {
          if (done) return;
          done = true;
          const oom = cg.oomKills();
          const peak = cg.peakMemoryBytes();
          await cleanup();
          if (oom > 0) {
            const limit =
              plan.memoryLimitBytes !== undefined
                ? `memory limit ${formatBytes(plan.memoryLimitBytes)} exceeded`
                : 'out of memory';
            const used = peak !== undefined ? `used ${formatBytes(peak)}; ` : '';
            info = {
              ...info,
              reason: `killed: ${limit} (${used}the kernel's OOM killer ended ${oom === 1 ? 'a process' : `${oom} processes`} of its cgroup)`,
            };
          } else if (info.code === 125) {
            info = { ...info, reason: 'could not enter its sandbox (see its log)' };
          }
          resolve(info);
        };
        child.once('exit', (code, signal) => void finish(replicaStatus(code, signal)));
        child.once('error', (error) => {
          if (child.pid === undefined) void finish({ code: null, signal: null, error });
        });
      });
      return {
        pid: leader ?? null,
        stdout: child.stdout,
        stderr: child.stderr,
        exited,
        signal(sig) {
          let sent = false;
          for (const pid of cg.pids()) {
            if (sig !== 'SIGKILL' && pid === leader) continue;
            try {
              process.kill(pid, sig);
              sent = true;
            } catch {
              /* exited meanwhile */
            }
          }
          return sent;
        },
      };
    },
  };
}

/** bwrap exits with 128+n when the replica died of signal n: reported as that signal, as without a sandbox. */
function replicaStatus(code: number | null, signal: NodeJS.Signals | null): ExitInfo {
  if (code !== null && code > 128) {
    const name = (Object.keys(osConstants.signals) as NodeJS.Signals[]).find(
      (k) => osConstants.signals[k] === code - 128,
    );
    if (name) return { code: null, signal: name };
  }
  return { code, signal };
}
