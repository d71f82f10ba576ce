/**
 * Address ranges that are not the public internet: loopback, unspecified, link-local, private
 * (RFC 1918, unique-local), shared (CGNAT), multicast and reserved. One list for every part that
 * must keep traffic off this host and its private network: the callback destination policy
 * (gateway/async/callback-policy.ts, with net.BlockList) and the replica sandbox's network rule
 * (fast-manager/sandbox/network-policy.ts, as nftables sets). Sources: IANA IPv4 and IPv6
 * special-purpose address registries (RFC 6890).
 */

export interface NonPublicRange {
  /** Short name of the rule, shown in refusals ("loopback", "private", ...). */
  rule: string;
  /** What an address in it is, for messages. */
  what: string;
  address: string;
  prefix: number;
}

export const NON_PUBLIC_V4: readonly NonPublicRange[] = [
  { rule: 'loopback', what: 'a loopback address', address: '127.0.0.0', prefix: 8 },
  { rule: 'unspecified', what: 'an unspecified ("this network") address', address: '0.0.0.0', prefix: 8 },
  { rule: 'link-local', what: 'a link-local address', address: '169.254.0.0', prefix: 16 },
  { rule: 'private', what: 'a private (RFC 1918) address', address: '10.0.0.0', prefix: 8 },
  { rule: 'private', what: 'a private (RFC 1918) address', address: '172.16.0.0', prefix: 12 },
  { rule: 'private', what: 'a private (RFC 1918) address', address: '192.168.0.0', prefix: 16 },
  { rule: 'shared', what: 'a shared (carrier-grade NAT, 100.64.0.0/10) address', address: '100.64.0.0', prefix: 10 },
  { rule: 'reserved', what: 'an IETF protocol assignment address', address: '192.0.0.0', prefix: 24 },
  { rule: 'reserved', what: 'a benchmarking address', address: '198.18.0.0', prefix: 15 },
  { rule: 'reserved', what: 'a multicast, broadcast or reserved address', address: '224.0.0.0', prefix: 3 },
];

export const NON_PUBLIC_V6: readonly NonPublicRange[] = [
  { rule: 'loopback', what: 'a loopback address', address: '::1', prefix: 128 },
  { rule: 'unspecified', what: 'an unspecified address', address: '::', prefix: 128 },
  { rule: 'link-local', what: 'a link-local address', address: 'fe80::', prefix: 10 },
  { rule: 'private', what: 'a unique-local (private) address', address: 'fc00::', prefix: 7 },
  { rule: 'reserved', what: 'a multicast address', address: 'ff00::', prefix: 8 },
  { rule: 'reserved', what: 'an IPv4-compatible IPv6 address (deprecated)', address: '::', prefix: 96 },
];

/** IPv6 prefixes that embed an IPv4 address (IPv4-mapped, NAT64): an IPv4 rule applies to them too. */
export const IPV4_EMBEDDING_V6: readonly NonPublicRange[] = [
  { rule: 'ipv4-mapped', what: 'an IPv4-mapped IPv6 address', address: '::ffff:0:0', prefix: 96 },
  { rule: 'nat64', what: 'a NAT64 address', address: '64:ff9b::', prefix: 96 },
];

export const cidr = (r: NonPublicRange): string => `${r.address}/${r.prefix}`;
