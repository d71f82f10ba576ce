/**
 * The replica sandbox of a node agent. `createSandbox` checks at start that confinement works
 * (preflight.ts: bubblewrap and setpriv present, running as root, cgroups writable, a trivial
 * command run sandboxed) and gives the innermost `ReplicaLauncher`:
 *   - on (FASTGSHARE_SANDBOX default): every replica runs in a sandbox (sandbox-launcher.ts), and
 *     an nftables rule keeps replicas from connecting to this host's services (network-policy.ts);
 *   - on but broken: the agent runs, but refuses to start replicas (`admit` and `launch` throw a
 *     PlatformError that says what is missing and how to fix it);
 *   - off (FASTGSHARE_SANDBOX=off): replicas run unconfined as the agent's user, with a loud
 *     warning at start and at every replica start.
 */
import { accessSync, chmodSync, constants, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SandboxConfig } from '../../core/config.ts';
import { PlatformError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { createProcessLauncher, type ReplicaLauncher } from '../replicas/launcher.ts';
import { findExecutable } from '../devices/node-devices.ts';
import { openCgroups } from './cgroups.ts';
import { createNamespaceGids, createUidPool } from './id-pool.ts';
import { createSandboxLauncher, HOST_SIDE_PATH } from './sandbox-launcher.ts';
import { runPreflight } from './preflight.ts';
import { applyNetworkPolicy, type NetworkPolicy } from './network-policy.ts';

export type SandboxState = 'on' | 'off' | 'unavailable';

export interface Sandbox {
  readonly state: SandboxState;
  /** What is missing, when the state is 'unavailable'. */
  readonly problem?: string;
  /** The innermost launcher of the agent's chain. */
  readonly launcher: ReplicaLauncher;
  /** Throws PlatformError 'unavailable' when replicas may not start on this node. */
  admit(): void;
  /** Removes what the sandbox installed on the host (its network rule). */
  close(): Promise<void>;
}

export interface CreateSandboxOptions {
  config: SandboxConfig;
  dataDir: string;
  platformRoot: string;
  /** Sockets every replica may connect to (the token channel). */
  sockets: readonly string[];
  log: Logger;
  /** Where cgroups are mounted (default /sys/fs/cgroup). */
  cgroupMount?: string;
}

const FIX =
  "install bubblewrap (apt-get install -y bubblewrap), run the node agent as root on a host with cgroups at /sys/fs/cgroup, or set FASTGSHARE_SANDBOX=off to run tenants' code unconfined (never on a shared machine)";

export async function createSandbox(o: CreateSandboxOptions): Promise<Sandbox> {
  const log = o.log.child('sandbox');
  // the data dir (store snapshots, secrets of replicas, images) is the agent's alone
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(o.dataDir, 0o700);

  if (!o.config.enabled) {
    const warning =
      "REPLICA SANDBOX IS OFF (FASTGSHARE_SANDBOX=off): tenants' code runs unconfined as the agent's user and can read the data dir, other replicas' secrets and the platform's environment";
    log.warn(warning);
    const inner = createProcessLauncher();
    return {
      state: 'off',
      launcher: {
        launch(plan) {
          log.warn('replica starts WITHOUT a sandbox (FASTGSHARE_SANDBOX=off)', {
            replica: plan.replicaId,
            function: `${plan.name}.${plan.namespace}`,
          });
          return inner.launch(plan);
        },
      },
      admit() {},
      close: async () => {},
    };
  }

  const refuse = (problem: string): Sandbox => {
    const message = `replicas cannot start: the replica sandbox does not work on this node: ${problem}. To fix: ${FIX}`;
    log.error(message);
    const fail = () => {
      throw new PlatformError('unavailable', message);
    };
    return { state: 'unavailable', problem, launcher: { launch: fail }, admit: fail, close: async () => {} };
  };

  const bwrap = o.config.bwrap.includes('/')
    ? isExecutable(o.config.bwrap)
      ? o.config.bwrap
      : undefined
    : findExecutable(o.config.bwrap, HOST_SIDE_PATH);
  const setpriv = findExecutable('setpriv', HOST_SIDE_PATH);
  if (!bwrap) return refuse(`bubblewrap ("${o.config.bwrap}") is not installed (FASTGSHARE_SANDBOX_BWRAP)`);
  if (!setpriv) return refuse('setpriv (util-linux) is not installed');
  if (process.getuid?.() !== 0)
    return refuse(`the agent runs as uid ${process.getuid?.()}, and only root can run replicas as uids of their own`);
  let cgroups;
  try {
    cgroups = openCgroups(o.cgroupMount);
  } catch (err) {
    return refuse(`cgroups are not writable: ${(err as Error).message}`);
  }
  const swept = cgroups.sweep(60_000);
  if (swept.length) log.info('removed cgroups left by a previous agent', { cgroups: swept.length });

  const node = process.execPath;
  const extraSystemDirs = /^\/(usr|bin|sbin|lib)/.test(node) ? [] : [dirname(dirname(node))];
  const launcher = createSandboxLauncher({
    bwrap,
    setpriv,
    platformRoot: o.platformRoot,
    dataDir: o.dataDir,
    extraSystemDirs,
    cgroups,
    uids: createUidPool({ base: o.config.uidBase, count: o.config.uidCount }),
    gids: createNamespaceGids({ base: o.config.uidBase, count: o.config.uidCount }),
    pidsMax: o.config.pidsMax,
    sockets: o.sockets,
    log: o.log,
  });
  const failure = await runPreflight({ launcher, dataDir: o.dataDir, platformRoot: o.platformRoot });
  if (failure) return refuse(`a trivial sandboxed command (${bwrap}) failed: ${failure}`);
  let network: NetworkPolicy | undefined;
  if (o.config.network === 'isolated') {
    const nft = findExecutable('nft', HOST_SIDE_PATH);
    if (!nft)
      return refuse(
        "nftables (nft) is not installed, and replicas must not reach this host's services (apt-get install -y nftables, or FASTGSHARE_SANDBOX_NETWORK=open)",
      );
    try {
      network = await applyNetworkPolicy({
        nft,
        uidBase: o.config.uidBase,
        uidCount: o.config.uidCount,
        allow: o.config.egressAllow,
        log,
      });
    } catch (err) {
      return refuse(
        `the network rule could not be installed (${(err as Error).message}); FASTGSHARE_SANDBOX_NETWORK=open runs replicas without it`,
      );
    }
  } else {
    log.warn(
      "replica network rule is off (FASTGSHARE_SANDBOX_NETWORK=open): replicas can connect to this host's services (Redis, the node agent, other replicas)",
    );
  }
  log.info('replica sandbox on', {
    bwrap,
    cgroups: `v${cgroups.version}`,
    uids: `${o.config.uidBase}..${o.config.uidBase + o.config.uidCount - 1}`,
    pidsMax: o.config.pidsMax,
    network: network?.table ?? 'open',
  });
  return { state: 'on', launcher, admit() {}, close: async () => network?.close() };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
