/**
 * Follows a sweep until it ends, for `fastgshare profile NAME`: a progress line (a bar, the running
 * configuration and the ETA; or what the sweep waits for), polled every second. The sweep runs on
 * the gateway, not in this process, so:
 * - a failed poll (gateway restarting, a timeout, a 5xx) is retried with a doubling wait, saying so;
 *   only after `giveUpAfterMs` without an answer does the command stop, saying how to re-attach;
 * - Ctrl-C stops following, not the sweep: it says that the sweep goes on and the command to cancel it.
 */
import { PlatformError } from '../core/errors.ts';
import type { CommandContext } from './context.ts';
import type { JobView, ProfileApi } from './profile-api.ts';

export interface FollowOptions {
  pollMs?: number;
  /** Longest wait between retries of a failed poll (default 15 s). */
  maxBackoffMs?: number;
  /** Stop after this long without an answer (default 5 min). */
  giveUpAfterMs?: number;
  /** Rewrite one line in place (a terminal) rather than print a line per change. */
  tty?: boolean;
  now?: () => number;
}

export type FollowOutcome = { kind: 'ended'; view: JobView } | { kind: 'detached'; view: JobView };

const ENDED = new Set(['completed', 'failed', 'cancelled']);

const mmss = (s: number) => `${Math.floor(s / 60)}m${String(Math.round(s) % 60).padStart(2, '0')}s`;

/** `[#####-----] 3/8 trials  p50 q0.4 b1  trial  ETA 1m20s`, or what a sweep that is not running waits for. */
export function progressLine(v: JobView, width = 24): string {
  const p = v.progress;
  const total = p?.total || v.trials || 1;
  const done = Math.min(total, p?.done ?? 0);
  const fill = Math.round((done / total) * width);
  const bar = `[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${done}/${total} trials`;
  if (v.state !== 'active') return `${bar}  ${v.state}${v.waitingFor ? `, waiting for ${v.waitingFor}` : ''}`;
  const eta = p?.etaSeconds ?? v.estimateSeconds;
  const cfg = p?.config ? `  p${p.config.partitionPercent} q${p.config.quota} b${p.config.batch}` : '';
  return `${bar}${cfg}  ${p?.phase ?? v.state}  ETA ${mmss(eta)}`;
}

/** The CLI command that reaches this sweep again (`fastgshare profile NAME [-n NS]`). */
export function profileCommand(name: string, namespace?: string): string {
  return `fastgshare profile ${name}${namespace ? ` -n ${namespace}` : ''}`;
}

export async function followSweep(
  ctx: CommandContext,
  api: ProfileApi,
  name: string,
  namespace: string | undefined,
  first: JobView,
  o: FollowOptions = {},
): Promise<FollowOutcome> {
  const pollMs = o.pollMs ?? 1000;
  const maxBackoff = o.maxBackoffMs ?? 15_000;
  const giveUp = o.giveUpAfterMs ?? 300_000;
  const now = o.now ?? Date.now;
  const tty = o.tty ?? false;
  const cmd = profileCommand(name, namespace);
  const err = ctx.io.stderr;
  let v = first;
  let shown = '';
  let stop = false;
  let wake: (() => void) | undefined;
  void ctx.stopSignal().then(() => {
    stop = true;
    wake?.();
  });
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(t);
        wake = undefined;
        resolve();
      };
    });
  const show = (line: string, key: string) => {
    if (tty) err.write(`\r\x1b[K${line}`);
    else if (key !== shown) err.write(`${line}\n`);
    shown = key;
  };
  const render = () =>
    show(
      progressLine(v),
      `${v.state}|${v.progress?.phase}|${v.progress?.done}|${v.progress?.trial}|${v.waitingFor ?? ''}`,
    );
  const endLine = () => {
    if (tty) err.write('\n');
  };

  render();
  let failingSince: number | undefined;
  let failures = 0;
  let backoff = pollMs;
  while (!ENDED.has(v.state)) {
    await pause(failingSince === undefined ? pollMs : backoff);
    if (stop) {
      endLine();
      err.write(
        `Stopped following. The sweep goes on on the gateway (job ${v.id}): follow it again with \`${cmd}\`, cancel it with \`${cmd} --cancel\`.\n`,
      );
      return { kind: 'detached', view: v };
    }
    try {
      v = (await (
        await api.call('GET', `/${encodeURIComponent(name)}/job`, { query: { namespace } })
      ).json()) as JobView;
      if (failingSince !== undefined) {
        endLine();
        err.write('The gateway answers again.\n');
        shown = '';
      }
      failingSince = undefined;
      failures = 0;
      render();
    } catch (e) {
      // the sweep was removed from the queue (cancelled while it waited, or automatic profiling turned off)
      if (e instanceof PlatformError && e.code === 'not_found') {
        endLine();
        throw new PlatformError(
          'not_found',
          `sweep ${v.id} of ${name} is no longer queued (it was cancelled before it ran); start one with \`${cmd}\``,
        );
      }
      if (!(e instanceof PlatformError) || e.code !== 'unavailable') throw e;
      failingSince ??= now();
      if (now() - failingSince >= giveUp) {
        endLine();
        throw new PlatformError(
          'unavailable',
          `${e.message}; no answer for ${mmss(giveUp / 1000)}, so this command stops. The sweep (job ${v.id}) goes on if the gateway does: follow it again with \`${cmd}\``,
        );
      }
      backoff = Math.min(maxBackoff, pollMs * 2 ** failures++);
      endLine();
      err.write(
        `${e.message}; trying again in ${Math.round(backoff / 1000)} s (the sweep goes on; Ctrl-C stops following)\n`,
      );
      shown = '';
    }
  }
  endLine();
  return { kind: 'ended', view: v };
}
