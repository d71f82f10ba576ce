/**
 * The functions the store knows, kept in memory so that an invocation can tell "unknown
 * function" (404) from "no ready replica" without a store round trip. Control-plane handlers
 * update it at once; each reconcile pass replaces it from the store.
 */
export interface FunctionCatalog {
  has(key: string): boolean;
  add(key: string): void;
  remove(key: string): void;
  replaceAll(keys: Iterable<string>): void;
  keys(): string[];
}

export function createFunctionCatalog(): FunctionCatalog {
  let known = new Set<string>();
  return {
    has: (k) => known.has(k),
    add: (k) => void known.add(k),
    remove: (k) => void known.delete(k),
    replaceAll: (keys) => {
      known = new Set(keys);
    },
    keys: () => [...known],
  };
}
