/**
 * The sandbox's network rule: replicas share the host's network (the gateway reaches them on
 * their port), so without a rule a replica could open connections to everything that listens on
 * this host or its private network — Redis (no password), the node agent, other replicas, the
 * cloud's metadata address. The rule is an nftables table of this agent's own
 * (`inet fastgshare_<agent pid>_<n>`) that matches sockets by owner uid (`meta skuid`, the replica
 * uid range) and rejects every NEW connection from them to an address of this host
 * (`fib daddr type local`), loopback, link-local, private, CGNAT, multicast and reserved ranges,
 * in IPv4 and IPv6 (IPv4-mapped and NAT64 forms too), except DNS and the CIDRs the operator
 * allows (FASTGSHARE_SANDBOX_EGRESS_ALLOW). Answers to connections made TO a replica
 * (established) pass, so the gateway and health checks are not affected.
 *
 * nftables (Debian package `nftables`) is the kernel's packet filter front end; one table per
 * agent keeps agents that share a host (tests) independent, and tables of agents that died are
 * removed by the next one.
 */
import { execFile } from 'node:child_process';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import type { Logger } from '../../core/logger.ts';
import { cidr, IPV4_EMBEDDING_V6, NON_PUBLIC_V4, NON_PUBLIC_V6 } from '../../core/net/non-public-ranges.ts';
import { isProcessAlive } from '../../core/process-alive.ts';

const run = promisify(execFile);

export interface NetworkPolicy {
  /** The nftables table, e.g. `inet fastgshare_1234`. */
  readonly table: string;
  close(): Promise<void>;
}

export interface NetworkPolicyOptions {
  nft: string;
  uidBase: number;
  uidCount: number;
  /** CIDRs replicas may still connect to. */
  allow: readonly string[];
  log: Logger;
}

export const TABLE_PREFIX = 'fastgshare_';
let tables = 0;

const BLOCKED_V4 = NON_PUBLIC_V4.map(cidr);
// nftables matches IPv6 literally: the prefixes that embed IPv4 addresses are refused whole
const BLOCKED_V6 = [...NON_PUBLIC_V6, ...IPV4_EMBEDDING_V6].map(cidr);

/** The ruleset, as `nft -f` reads it. */
export function renderRuleset(o: {
  table: string;
  uidBase: number;
  uidCount: number;
  allow: readonly string[];
}): string {
  const v4 = o.allow.filter((c) => isIP(c.split('/')[0] ?? '') === 4);
  const v6 = o.allow.filter((c) => isIP(c.split('/')[0] ?? '') === 6);
  const reject = 'reject with icmpx type admin-prohibited';
  return [
    `table ${o.table} {`,
    '  chain replica {',
    '    ct state established,related accept',
    ...(v4.length ? [`    ip daddr { ${v4.join(', ')} } accept`] : []),
    ...(v6.length ? [`    ip6 daddr { ${v6.join(', ')} } accept`] : []),
    '    meta l4proto { tcp, udp } th dport 53 accept',
    `    fib daddr type local ${reject}`,
    `    ip daddr { ${BLOCKED_V4.join(', ')} } ${reject}`,
    `    ip6 daddr { ${BLOCKED_V6.join(', ')} } ${reject}`,
    '  }',
    '  chain output {',
    '    type filter hook output priority 0; policy accept;',
    `    meta skuid ${o.uidBase}-${o.uidBase + o.uidCount - 1} jump replica`,
    '  }',
    '}',
    '',
  ].join('\n');
}

async function nft(bin: string, args: string[], input?: string): Promise<string> {
  if (input === undefined) return (await run(bin, args, { timeout: 10_000 })).stdout;
  return new Promise((resolve, reject) => {
    const child = execFile(bin, args, { timeout: 10_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${bin} ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout),
    );
    child.stdin?.end(input);
  });
}

/** Removes tables left by agents that are gone (their pid is the suffix). */
async function sweepStale(bin: string, log: Logger): Promise<void> {
  const listed = await nft(bin, ['list', 'tables']);
  for (const m of listed.matchAll(new RegExp(`^table inet (${TABLE_PREFIX}(\\d+)_\\d+)$`, 'gm'))) {
    const pid = Number(m[2]);
    if (pid === process.pid || isProcessAlive(pid)) continue;
    await nft(bin, ['delete', 'table', 'inet', m[1]!]).catch((err: Error) =>
      log.warn('cannot remove a stale sandbox network table', { pid, error: err.message }),
    );
  }
}

/** Installs the rule; throws with nft's message when it cannot (no nft, no permission, no kernel support). */
export async function applyNetworkPolicy(o: NetworkPolicyOptions): Promise<NetworkPolicy> {
  // one table per agent: several agents may run in one process (tests), each removes only its own
  const name = `${TABLE_PREFIX}${process.pid}_${++tables}`;
  const table = `inet ${name}`;
  await sweepStale(o.nft, o.log);
  await nft(o.nft, ['-f', '-'], renderRuleset({ table, uidBase: o.uidBase, uidCount: o.uidCount, allow: o.allow }));
  let closed: Promise<void> | undefined;
  return {
    table,
    close() {
      closed ??= nft(o.nft, ['delete', 'table', 'inet', name]).then(
        () => undefined,
        (err: Error) => o.log.warn('cannot remove the sandbox network table', { table, error: err.message }),
      );
      return closed;
    },
  };
}
