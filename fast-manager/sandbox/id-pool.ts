/**
 * The ids sandboxed replicas run as: every live replica has a uid of its own, taken from the
 * configured range and given back when its process is gone; every namespace (tenant) has a gid
 * from the same numbers, derived from its name so that it stays the same across agent restarts
 * (files a tenant's replicas leave in its model cache keep their group).
 */
import { createHash } from 'node:crypto';

export interface IdRange {
  base: number;
  count: number;
}

export interface UidPool {
  /** A uid no live replica of this agent has; throws when the range is used up. */
  acquire(): number;
  release(uid: number): void;
  readonly inUse: number;
}

export function createUidPool(range: IdRange, random: () => number = Math.random): UidPool {
  const used = new Set<number>();
  return {
    acquire() {
      if (used.size >= range.count)
        throw new Error(
          `all ${range.count} sandbox uids (${range.base}..${range.base + range.count - 1}) are in use; raise FASTGSHARE_SANDBOX_UID_COUNT`,
        );
      // a random start keeps two agents on one host (tests) from handing out the same uid first
      let uid = range.base + Math.floor(random() * range.count);
      while (used.has(uid)) uid = uid + 1 >= range.base + range.count ? range.base : uid + 1;
      used.add(uid);
      return uid;
    },
    release(uid) {
      used.delete(uid);
    },
    get inUse() {
      return used.size;
    },
  };
}

export interface NamespaceGids {
  /** The gid of `namespace`: the same on every call and every start, unless two names collide. */
  of(namespace: string): number;
}

export function createNamespaceGids(range: IdRange): NamespaceGids {
  const byName = new Map<string, number>();
  const taken = new Map<number, string>();
  return {
    of(namespace) {
      const known = byName.get(namespace);
      if (known !== undefined) return known;
      const h = createHash('sha256').update(namespace).digest().readUInt32BE(0);
      let gid = range.base + (h % range.count);
      for (let i = 0; taken.has(gid); i++) {
        if (i >= range.count) throw new Error(`all ${range.count} sandbox gids are in use by namespaces`);
        gid = gid + 1 >= range.base + range.count ? range.base : gid + 1;
      }
      byName.set(namespace, gid);
      taken.set(gid, namespace);
      return gid;
    },
  };
}
