/**
 * Password hashing and checking off the event loop: bcrypt (bcryptjs, the format tenant hashes
 * have always had) runs in a small piscina pool of worker threads (password-worker.mjs). Chosen
 * over switching to crypto.scrypt on libuv's threadpool because every stored hash stays valid with
 * no migration, every check costs the same (one algorithm, one cost), and the CPU a login flood
 * burns is confined to `threads` threads instead of the 4 libuv threads that file and DNS work
 * share. The pool starts on first use (a gateway without auth starts no thread) and its queue is
 * bounded: past `maxQueue` waiting checks a login is answered 503 instead of piling up.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { PlatformError } from '../../core/errors.ts';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Whether `password` matches `hash` (a malformed hash matches nothing). */
  verify(password: string, hash: string): Promise<boolean>;
  /**
   * A check exactly as costly as `verify`, against a hash no password matches: what a rejection
   * of an unknown user or of the admin's name costs, so timing does not tell names apart.
   */
  verifyDummy(password: string): Promise<false>;
  close(): Promise<void>;
}

export interface PasswordHasherOptions {
  rounds: number;
  /** Worker threads; 0 or absent: one less than the cores, at least 1, at most 4. */
  threads?: number;
  /** Checks waiting for a thread beyond which new ones are refused (default 256). */
  maxQueue?: number;
}

type Task = { op: 'hash'; password: string; rounds: number } | { op: 'compare'; password: string; hash: string };

const WORKER = new URL('./password-worker.mjs', import.meta.url).href;

export function createPasswordHasher(o: PasswordHasherOptions): PasswordHasher {
  const threads = o.threads && o.threads > 0 ? o.threads : Math.max(1, Math.min(4, availableParallelism() - 1));
  let pool: Piscina<Task, string | boolean> | undefined;
  let closed = false;
  let dummy: Promise<string> | undefined;

  const run = async <R extends string | boolean>(task: Task): Promise<R> => {
    if (closed) throw new PlatformError('unavailable', 'the gateway is stopping; retry shortly');
    pool ??= new Piscina<Task, string | boolean>({
      filename: WORKER,
      minThreads: 0,
      maxThreads: threads,
      maxQueue: o.maxQueue ?? 256,
      idleTimeout: 30_000,
    });
    try {
      return (await pool.run(task)) as R;
    } catch (err) {
      if (/queue is at limit/i.test((err as Error).message))
        throw new PlatformError(
          'unavailable',
          'too many credential checks are waiting right now; retry in a few seconds',
          { cause: err },
        );
      throw err;
    }
  };
  const verify = (password: string, hash: string) => run<boolean>({ op: 'compare', password, hash });

  return {
    hash: (password) => run<string>({ op: 'hash', password, rounds: o.rounds }),
    verify,
    async verifyDummy(password) {
      dummy ??= run<string>({ op: 'hash', password: randomBytes(18).toString('base64'), rounds: o.rounds });
      dummy.catch(() => (dummy = undefined));
      await verify(password, await dummy);
      return false;
    },
    async close() {
      closed = true;
      await pool?.destroy();
      pool = undefined;
    },
  };
}
