/**
 * What a sandboxed replica sees, as bubblewrap options: a new root with the system folders
 * read-only, a few files of /etc, its own /proc (pid namespace) and a minimal /dev, the platform
 * root read-only with the data dir hidden under an empty tmpfs, its bundle read-only as working
 * directory, its scratch space writable at /tmp, its secrets read-only at
 * /var/openfaas/secrets, and the extra paths it was given (sockets, the calibration and its
 * namespace's model cache). Everything is mounted at its host path, so paths in its environment
 * stay valid. The options carry the replica's environment (--clearenv, --setenv) and are passed
 * to bwrap on a pipe (`--args`), not on its command line; `command` is what comes after them.
 */
import { lstatSync, readlinkSync, existsSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { ReplicaBind } from '../replicas/launcher.ts';

export const SECRETS_MOUNT = '/var/openfaas/secrets';
export const SCRATCH_MOUNT = '/tmp';

export interface MountPlanInput {
  platformRoot: string;
  dataDir: string;
  bundleDir: string;
  scratchDir: string;
  secretsDir: string;
  binds: readonly ReplicaBind[];
  /** Folder of the node binary when it is not under /usr (e.g. /opt/node): shown read-only. */
  extraSystemDirs?: readonly string[];
  env: Record<string, string>;
  uid: number;
  gid: number;
  argv: readonly string[];
  setpriv: string;
}

/** Top-level system folders: a symlink (merged /usr) is recreated, a real folder is bound read-only. */
const SYSTEM_TOP = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** The files of /etc that programs need (TLS roots, name resolution, time zone). */
const ETC_FILES = [
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/alternatives',
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/nsswitch.conf',
  '/etc/host.conf',
  '/etc/gai.conf',
  '/etc/localtime',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
];

const inside = (child: string, parent: string) => {
  const r = relative(parent, child);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
};
const depth = (p: string) => p.split(sep).filter(Boolean).length;

interface Mount {
  dest: string;
  args: string[];
  /** True when the host's tree appears unchanged at dest (its sub-folders exist inside). */
  identity: boolean;
}

export function bwrapOptions(i: MountPlanInput): string[] {
  const out: string[] = ['--ro-bind', '/usr', '/usr'];
  for (const top of SYSTEM_TOP) {
    let st;
    try {
      st = lstatSync(top);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) out.push('--symlink', readlinkSync(top), top);
    else if (st.isDirectory()) out.push('--ro-bind', top, top);
  }
  out.push('--perms', '0755', '--dir', '/etc');
  for (const f of ETC_FILES) out.push('--ro-bind-try', f, f);
  out.push('--proc', '/proc', '--dev', '/dev', '--perms', '1777', '--tmpfs', '/dev/shm');
  out.push(
    '--perms',
    '0755',
    '--dir',
    '/var',
    '--perms',
    '0755',
    '--dir',
    '/var/openfaas',
    '--ro-bind',
    i.secretsDir,
    SECRETS_MOUNT,
  );

  // the rest, parents before children, so that a later mount is never hidden by an earlier one
  const mounts: Mount[] = [{ dest: SCRATCH_MOUNT, args: ['--bind', i.scratchDir, SCRATCH_MOUNT], identity: false }];
  for (const d of i.extraSystemDirs ?? []) mounts.push({ dest: d, args: ['--ro-bind', d, d], identity: true });
  mounts.push({ dest: i.platformRoot, args: ['--ro-bind', i.platformRoot, i.platformRoot], identity: true });
  if (inside(i.dataDir, i.platformRoot) && i.dataDir !== i.platformRoot)
    mounts.push({ dest: i.dataDir, args: ['--perms', '0755', '--tmpfs', i.dataDir], identity: false });
  mounts.push({ dest: i.bundleDir, args: ['--ro-bind', i.bundleDir, i.bundleDir], identity: true });
  for (const b of i.binds) {
    const p = resolve(b.path);
    if (b.access === 'socket' && !existsSync(p)) continue;
    mounts.push({ dest: p, args: [b.access === 'ro' ? '--ro-bind' : '--bind', p, p], identity: true });
  }
  mounts.sort((a, b) => depth(a.dest) - depth(b.dest));

  const placed: Mount[] = [];
  const made = new Set<string>(['/', '/usr', '/etc', '/var', '/var/openfaas', '/tmp', '/proc', '/dev']);
  for (const m of mounts) {
    // a mount point's parents: present when an unchanged host tree covers them, else made 0755
    // (bwrap would make them 0700 root, which the replica's uid could not pass through)
    const parents: string[] = [];
    for (let p = dirname(m.dest); p !== '/' && p !== '.'; p = dirname(p)) parents.unshift(p);
    for (const p of parents) {
      if (made.has(p)) continue;
      const cover = [...placed].reverse().find((c) => inside(p, c.dest));
      if (cover?.identity && existsSync(p)) continue;
      out.push('--perms', '0755', '--dir', p);
      made.add(p);
    }
    out.push(...m.args);
    placed.push(m);
    made.add(m.dest);
  }

  out.push('--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup', '--clearenv');
  for (const [k, v] of Object.entries(i.env)) out.push('--setenv', k, v);
  out.push('--chdir', i.bundleDir);
  return out;
}

/**
 * What bwrap runs: setpriv drops to the replica's uid and its namespace's gid, no capabilities, no_new_privs, then
 * execs argv.
 */
export function sandboxCommand(i: Pick<MountPlanInput, 'uid' | 'gid' | 'argv' | 'setpriv'>): string[] {
  return [
    i.setpriv,
    '--reuid',
    String(i.uid),
    '--regid',
    String(i.gid),
    '--clear-groups',
    '--no-new-privs',
    '--bounding-set',
    '-all',
    '--inh-caps',
    '-all',
    '--',
    ...i.argv,
  ];
}
