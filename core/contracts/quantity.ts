/**
 * Kubernetes resource quantities ("256Mi", "1.5G", "500m", "2", "1e3"), as OpenFaaS sends them in
 * `limits` and `requests`. Parsing is exact about the grammar so that a typo is a clear 400.
 */
import { PlatformError } from '../errors.ts';

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};
const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

/** The value of a quantity as a plain number (e.g. "256Mi" → 268435456, "500m" → 0.5), or what is wrong with it. */
export function readQuantity(raw: unknown): { value: number } | { problem: string } {
  if (typeof raw !== 'string' || raw.trim() === '')
    return { problem: 'expected a resource quantity such as "256Mi" or "500m"' };
  const m = QUANTITY.exec(raw.trim());
  if (!m)
    return {
      problem: `"${raw}" is not a resource quantity; use a number with an optional suffix (Ki, Mi, Gi, Ti, k, M, G, T, m), e.g. "256Mi" or "500m"`,
    };
  const [, sign, digits, suffix, exponent] = m;
  if (sign === '-') return { problem: `"${raw}" must not be negative` };
  const base = Number(digits);
  const scale =
    exponent !== undefined
      ? 10 ** Number(exponent)
      : suffix !== undefined && suffix in BINARY
        ? BINARY[suffix]!
        : DECIMAL[suffix ?? '']!;
  const value = base * scale;
  if (!Number.isFinite(value)) return { problem: `"${raw}" is too large` };
  return { value };
}

/** A memory quantity in whole bytes (rounded up, as Kubernetes does; must be positive), or what is wrong with it. */
export function readMemoryBytes(raw: unknown): { value: number } | { problem: string } {
  const q = readQuantity(raw);
  if ('problem' in q) return q;
  const bytes = Math.ceil(q.value);
  if (bytes <= 0) return { problem: `"${String(raw)}" must be more than zero bytes` };
  if (bytes > Number.MAX_SAFE_INTEGER) return { problem: `"${String(raw)}" is too large` };
  return { value: bytes };
}

function orBadRequest(r: { value: number } | { problem: string }, field: string): number {
  if ('problem' in r) throw new PlatformError('bad_request', `${field}: ${r.problem}`, { details: { field } });
  return r.value;
}

/** readQuantity, or a 400 naming `field`. */
export function parseQuantity(raw: unknown, field: string): number {
  return orBadRequest(readQuantity(raw), field);
}

/** readMemoryBytes, or a 400 naming `field`. */
export function parseMemoryBytes(raw: unknown, field: string): number {
  return orBadRequest(readMemoryBytes(raw), field);
}

/** A byte count for people: "300Mi", "1.5Gi", "512Ki", "100B". */
export function formatBytes(bytes: number): string {
  const units: [string, number][] = [
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ];
  for (const [unit, size] of units) {
    if (bytes >= size) {
      const v = bytes / size;
      return `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10}${unit}`;
    }
  }
  return `${bytes}B`;
}
