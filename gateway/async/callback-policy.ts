/**
 * Where async callbacks may go. By default a callback may not reach loopback, unspecified,
 * link-local, private (RFC 1918, unique-local), shared (CGNAT), multicast or reserved addresses,
 * nor their IPv4-mapped / IPv4-compatible / NAT64 IPv6 forms, nor this host's own addresses,
 * nor any of the platform's own listeners (gateway, node agents, store, Redis).
 * FASTGSHARE_CALLBACK_ALLOW opens CIDRs (any port, but never a platform listener) and host:port
 * endpoints (exactly that port; the only way to reach a platform listener).
 *
 * The check runs on the address actually connected to: `connectOptions` gives the HTTP client a
 * `lookup` that resolves the name, drops refused addresses and fails when none is left, and
 * checks an IP literal (which the client connects to without a lookup) before any connection.
 * Address matching uses node's net.BlockList, which also matches IPv4-mapped IPv6 addresses
 * against IPv4 rules. Submission-time checks (`checkUrl`) catch what is known without DNS.
 */
import dns from 'node:dns';
import net, { type LookupFunction } from 'node:net';
import { networkInterfaces } from 'node:os';
import { PlatformError } from '../../core/errors.ts';
import type { CallbackAllowRule } from '../../core/config.ts';
import { NON_PUBLIC_V4, NON_PUBLIC_V6 } from '../../core/net/non-public-ranges.ts';

export const CALLBACK_ALLOW_SETTING = 'FASTGSHARE_CALLBACK_ALLOW';

/** A socket the platform itself listens on (host may be a wildcard, an address or a name). */
export interface PlatformListener {
  host: string;
  port: number;
  /** What it is, for logs only ("gateway", "node agent", "store", "redis"). */
  what: string;
}

export interface CallbackDestination {
  /** The address connected to (IPv4 or IPv6, no brackets). */
  address: string;
  port: number;
  /** The URL's host name as given (lower case), for host:port allow entries. */
  host?: string;
}

export type Verdict = { allowed: true } | { allowed: false; rule: string; reason: string };

/** A callback the policy refused; never retried. */
export class CallbackRefusedError extends PlatformError {
  override name = 'CallbackRefusedError';
  constructor(
    message: string,
    readonly rule: string,
  ) {
    super('bad_request', message, { details: { field: 'X-Callback-Url', rule, setting: CALLBACK_ALLOW_SETTING } });
  }
}

export interface CallbackPolicy {
  /** The verdict for one resolved destination. */
  check(d: CallbackDestination): Verdict;
  /** Submission-time check without DNS (IP literals, localhost); throws CallbackRefusedError. */
  checkUrl(url: URL): void;
  /**
   * Options for http(s).request to `url`: a lookup that only yields allowed addresses. Throws
   * CallbackRefusedError at once for a refused IP literal.
   */
  connectOptions(url: URL): { host: string; port: number; lookup: LookupFunction };
}

export interface CallbackPolicyOptions {
  allow: readonly CallbackAllowRule[];
  /** The platform's listeners, read at each check (the gateway's port is known only once it listens). */
  listeners: () => readonly PlatformListener[];
  /** This host's addresses (default: os.networkInterfaces(), re-read at most every 5 s). */
  hostAddresses?: () => readonly string[];
  /** Resolver (default dns.lookup), a seam for tests of DNS rebinding. */
  resolve?: (
    host: string,
    cb: (err: Error | null, addresses: Array<{ address: string; family: number }>) => void,
  ) => void;
}

type Family = 'ipv4' | 'ipv6';

interface DenyRange {
  rule: string;
  what: string;
  list: net.BlockList;
}

function familyOf(address: string): Family | undefined {
  const v = net.isIP(address);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : undefined;
}

/** Removes the brackets of an IPv6 URL host and a trailing dot of a name. */
export function bareHost(hostname: string): string {
  const h = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return h.toLowerCase().replace(/\.$/, '');
}

function buildDenyRanges(): DenyRange[] {
  const byRule = new Map<string, DenyRange>();
  const add = (rule: string, what: string, addr: string, prefix: number, family: Family) => {
    const key = `${rule}\0${what}`;
    let r = byRule.get(key);
    if (!r) byRule.set(key, (r = { rule, what, list: new net.BlockList() }));
    r.list.addSubnet(addr, prefix, family);
  };
  for (const { rule, what, address: addr, prefix } of NON_PUBLIC_V4) {
    // BlockList matches IPv4-mapped IPv6 (::ffff:a.b.c.d) against IPv4 rules by itself;
    // NAT64 (64:ff9b::/96) embeds an IPv4 address the same way and is added explicitly
    add(rule, what, addr, prefix, 'ipv4');
    add(rule, `${what} (in NAT64 form)`, `64:ff9b::${addr}`, 96 + prefix, 'ipv6');
  }
  for (const { rule, what, address: addr, prefix } of NON_PUBLIC_V6) add(rule, what, addr, prefix, 'ipv6');
  return [...byRule.values()];
}

const DENY = buildDenyRanges();
const LOCAL_NAMES = /^(localhost|.*\.localhost)$/;

function defaultHostAddresses(): () => readonly string[] {
  let cached: string[] = [];
  let at = 0;
  return () => {
    const now = Date.now();
    if (now - at > 5_000) {
      cached = Object.values(networkInterfaces()).flatMap((list) =>
        (list ?? []).map((i) => i.address.replace(/%.*$/, '')),
      );
      at = now;
    }
    return cached;
  };
}

function listOf(addresses: readonly string[]): net.BlockList {
  const b = new net.BlockList();
  for (const a of addresses) {
    const f = familyOf(a);
    if (f) b.addAddress(a, f);
  }
  return b;
}

export function createCallbackPolicy(o: CallbackPolicyOptions): CallbackPolicy {
  const cidrs = new net.BlockList();
  const endpoints: Array<{ host: string; port: number; address?: net.BlockList }> = [];
  for (const r of o.allow) {
    if (r.kind === 'cidr') cidrs.addSubnet(r.address, r.prefix, r.family);
    else endpoints.push({ host: r.host, port: r.port, address: familyOf(r.host) ? listOf([r.host]) : undefined });
  }
  const hostAddresses = o.hostAddresses ?? defaultHostAddresses();
  const resolve = o.resolve ?? ((host, cb) => dns.lookup(host, { all: true, verbatim: true }, cb));

  const matches = (list: net.BlockList, address: string) => {
    const f = familyOf(address);
    return f ? list.check(address, f) : false;
  };
  const isLocal = (address: string, own: net.BlockList) =>
    matches(own, address) ||
    DENY.some((d) => (d.rule === 'loopback' || d.rule === 'unspecified') && matches(d.list, address));

  function platformListener(d: CallbackDestination): PlatformListener | undefined {
    const own = listOf(hostAddresses());
    for (const l of o.listeners()) {
      if (l.port !== d.port) continue;
      const host = bareHost(l.host);
      const lf = familyOf(host);
      const listenerLocal = host === '' || host === 'localhost' || (lf !== undefined && isLocal(host, own));
      if (listenerLocal && isLocal(d.address, own)) return l;
      if (lf && matches(listOf([host]), d.address)) return l;
      if (!lf && d.host !== undefined && d.host === host) return l;
    }
    return undefined;
  }

  function check(d: CallbackDestination): Verdict {
    const f = familyOf(d.address);
    if (!f) return { allowed: false, rule: 'not-an-address', reason: `"${d.address}" is not an IP address` };
    const host = d.host === undefined ? undefined : bareHost(d.host);
    if (
      endpoints.some(
        (e) => e.port === d.port && (e.address ? e.address.check(d.address, f) : host !== undefined && e.host === host),
      )
    )
      return { allowed: true };
    const listener = platformListener(d);
    if (listener) {
      return {
        allowed: false,
        rule: 'platform-listener',
        reason: `${fmt(d.address)}:${d.port} is one of the platform's own listeners (${listener.what}); only an explicit host:port entry in ${CALLBACK_ALLOW_SETTING} opens it`,
      };
    }
    if (cidrs.check(d.address, f)) return { allowed: true };
    for (const r of DENY) {
      if (r.list.check(d.address, f)) return { allowed: false, rule: r.rule, reason: `${fmt(d.address)} is ${r.what}` };
    }
    if (matches(listOf(hostAddresses()), d.address))
      return {
        allowed: false,
        rule: 'this-host',
        reason: `${fmt(d.address)} is an address of the platform's own host`,
      };
    return { allowed: true };
  }

  function refuse(url: URL, v: { rule: string; reason: string }): CallbackRefusedError {
    return new CallbackRefusedError(
      `X-Callback-Url to ${url.host} is refused (rule: ${v.rule}): ${v.reason}. Callbacks go only to public addresses; to let them reach a local receiver, list it in ${CALLBACK_ALLOW_SETTING} (comma-separated CIDRs such as 10.1.0.0/16 or host:port such as 127.0.0.1:9000)`,
      v.rule,
    );
  }

  function portOf(url: URL): number {
    return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  }

  return {
    check,
    checkUrl(url) {
      const host = bareHost(url.hostname);
      const port = portOf(url);
      // an IP literal, or a name that is loopback by definition (RFC 6761); others wait for DNS
      const addresses = familyOf(host) ? [host] : LOCAL_NAMES.test(host) ? ['127.0.0.1', '::1'] : [];
      const verdicts = addresses.map((address) => check({ address, port, host }));
      const refused = verdicts.filter((v): v is Extract<Verdict, { allowed: false }> => !v.allowed);
      if (refused.length && refused.length === verdicts.length) throw refuse(url, refused[0]!);
    },
    connectOptions(url) {
      const host = bareHost(url.hostname);
      const port = portOf(url);
      if (familyOf(host)) {
        const v = check({ address: host, port, host });
        if (!v.allowed) throw refuse(url, v);
      }
      const lookup = ((
        hostname: string,
        options: dns.LookupOptions,
        cb: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void,
      ) => {
        resolve(hostname, (err, found) => {
          if (err) return cb(err, '', 0);
          let last: Verdict | undefined;
          const allowed = found.filter((a) => {
            if (options.family && options.family !== a.family) return false;
            const v = check({ address: a.address, port, host });
            if (!v.allowed) last = v;
            return v.allowed;
          });
          if (allowed.length === 0) {
            const v =
              last && !last.allowed
                ? last
                : { rule: 'no-address', reason: `${hostname} resolved to no usable address` };
            return cb(refuse(url, v) as unknown as NodeJS.ErrnoException, '', 0);
          }
          if (options.all) return cb(null, allowed);
          return cb(null, allowed[0]!.address, allowed[0]!.family);
        });
      }) as LookupFunction;
      return { host, port, lookup };
    },
  };
}

function fmt(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** The host:port of each URL, as platform listeners (URLs that do not parse are skipped). */
export function listenersFromUrls(
  entries: ReadonlyArray<{ url: string | undefined; what: string }>,
): PlatformListener[] {
  const out: PlatformListener[] = [];
  for (const e of entries) {
    if (!e.url) continue;
    let u: URL;
    try {
      u = new URL(e.url);
    } catch {
      continue;
    }
    const dflt: Record<string, number> = {
      'http:': 80,
      'https:': 443,
      'redis:': 6379,
      'rediss:': 6379,
      'mongodb:': 27017,
    };
    const port = u.port ? Number(u.port) : dflt[u.protocol];
    if (port !== undefined && u.hostname) out.push({ host: u.hostname, port, what: e.what });
  }
  return out;
}
