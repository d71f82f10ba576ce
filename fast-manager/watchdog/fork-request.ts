/**
 * One request in the classic watchdog model: fork the function's process, write the request body
 * to its stdin, read its stdout (and stderr) until it exits. When a time limit passes or the
 * caller goes away, the process and everything it started are killed (process-tree.ts).
 */
import { spawn } from 'node:child_process';
import { killTree } from './process-tree.ts';

export interface ForkInput {
  argv: readonly string[];
  cwd: string;
  env: Record<string, string>;
  body: Buffer;
  /** stderr joins stdout in `output` (in arrival order); false: kept apart in `stderr`. */
  combineOutput: boolean;
  /** Hard limit of the process (0: none). */
  execTimeoutMs: number;
  /** When the answer is due, from the start of the request (0: none); `elapsedMs` has passed already. */
  writeTimeoutMs: number;
  elapsedMs: number;
  /** Aborted when the caller has gone: the process is killed. */
  signal?: AbortSignal;
}

export type ForkOutcome =
  | { kind: 'exited'; code: number; output: Buffer; stderr: Buffer }
  | { kind: 'killed'; signal: NodeJS.Signals; output: Buffer; stderr: Buffer }
  | { kind: 'timeout'; limit: 'exec_timeout' | 'write_timeout'; ms: number; output: Buffer; stderr: Buffer }
  | { kind: 'not-started'; error: Error }
  | { kind: 'aborted' };

export function runForked(i: ForkInput): Promise<ForkOutcome> {
  return new Promise((resolve) => {
    const [command, ...args] = i.argv;
    // in the replica's process group (not detached): the agent's usage, limits and stop signals cover it
    const child = spawn(command!, args, { cwd: i.cwd, env: i.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let settled = false;
    let stopped:
      { kind: 'timeout'; limit: 'exec_timeout' | 'write_timeout'; ms: number } | { kind: 'aborted' } | undefined;
    const timers: NodeJS.Timeout[] = [];

    const finish = (o: ForkOutcome) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      i.signal?.removeEventListener('abort', onAbort);
      resolve(o);
    };
    const stop = (why: NonNullable<typeof stopped>) => {
      if (stopped || settled) return;
      stopped = why;
      if (child.pid !== undefined) killTree(child.pid);
    };
    const onAbort = () => stop({ kind: 'aborted' });

    // the nearer limit decides; exec_timeout (the classic watchdog's) wins a tie
    const limits: Array<{ limit: 'exec_timeout' | 'write_timeout'; ms: number; after: number }> = [];
    if (i.execTimeoutMs > 0) limits.push({ limit: 'exec_timeout', ms: i.execTimeoutMs, after: i.execTimeoutMs });
    if (i.writeTimeoutMs > 0)
      limits.push({ limit: 'write_timeout', ms: i.writeTimeoutMs, after: Math.max(0, i.writeTimeoutMs - i.elapsedMs) });
    const nearest = limits.reduce<(typeof limits)[number] | undefined>(
      (a, b) => (!a || b.after < a.after ? b : a),
      undefined,
    );
    if (nearest)
      timers.push(setTimeout(() => stop({ kind: 'timeout', limit: nearest.limit, ms: nearest.ms }), nearest.after));
    if (i.signal?.aborted) onAbort();
    else i.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (i.combineOutput ? out : err).push(c));
    // a process that never reads its stdin (`echo hi`) closes the pipe: not an error of the request
    child.stdin.on('error', () => {});
    child.stdin.end(i.body);

    child.once('error', (error) => {
      // no pid: it never started (ENOENT, EACCES), and no 'close' follows
      if (child.pid === undefined) finish({ kind: 'not-started', error });
    });
    child.once('close', (code, signal) => {
      const output = Buffer.concat(out);
      const stderr = Buffer.concat(err);
      if (stopped?.kind === 'aborted') return finish({ kind: 'aborted' });
      if (stopped) return finish({ ...stopped, output, stderr });
      if (code !== null) return finish({ kind: 'exited', code, output, stderr });
      finish({ kind: 'killed', signal: signal ?? 'SIGKILL', output, stderr });
    });
  });
}
