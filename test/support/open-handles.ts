/**
 * Mocha root hook (loaded by .mocharc.json `require`): a diagnostic for handles a test leaves open.
 * Mocha runs without `exit: true`, so a timer, socket, server, child process or worker that a test
 * (or the code under test) forgets to close keeps the process alive after the summary.
 *
 * Off by default. With FASTGSHARE_TEST_HANDLES=1 it records where each handle (timer, socket,
 * server, child process, worker; not promises) was made and during which test or hook, and once
 * every test has run it waits a moment (FASTGSHARE_TEST_HANDLES_MS, default 2000) and prints the
 * handles still holding the event loop with the stack that made them. If the process exits before
 * that, nothing was left open and nothing is printed. It never closes anything.
 */
import { createHook } from 'node:async_hooks';
import { writeSync } from 'node:fs';
import Mocha from 'mocha';

const enabled = process.env.FASTGSHARE_TEST_HANDLES === '1';

// the kinds of resource that can hold the event loop open (requests in flight end by themselves)
const holding = new Set([
  'Timeout',
  'TCPWRAP',
  'TCPSERVERWRAP',
  'PIPEWRAP',
  'PIPESERVERWRAP',
  'PROCESSWRAP',
  'UDPWRAP',
  'SIGNALWRAP',
  'FSEVENTWRAP',
  'STATWATCHER',
  'WORKER',
  'MESSAGEPORT',
  'TTYWRAP',
]);

interface Made {
  type: string;
  stack: string;
  resource: object;
  during: string;
}
const alive = new Map<number, Made>();
// the test or hook running (or the last one that ran) when a handle was made: a handle made by a
// callback of the code under test shows the test that started that code, or one soon after it
let during = '(loading the test files)';

if (enabled) {
  const proto = Mocha.Runnable.prototype as unknown as {
    run: (...a: unknown[]) => unknown;
    fullTitle(): string;
    file?: string;
  };
  const run = proto.run;
  proto.run = function (this: typeof proto, ...a: unknown[]) {
    during = `${this.file ?? '?'}: ${this.fullTitle()}`;
    return run.apply(this, a);
  };
  createHook({
    init(asyncId, type, _triggerAsyncId, resource) {
      if (!holding.has(type)) return;
      const stack = (new Error().stack ?? '')
        .split('\n')
        .slice(2)
        .filter((l) => !l.includes('node:internal') && !l.includes('open-handles.ts'))
        .slice(0, 12)
        .join('\n');
      alive.set(asyncId, { type, stack, resource, during });
    },
    destroy(asyncId) {
      alive.delete(asyncId);
    },
  }).enable();
}

function holdsLoop(resource: object): boolean {
  const r = resource as { hasRef?: () => boolean };
  return typeof r.hasRef === 'function' ? r.hasRef() : true;
}

function report(): void {
  const held = [...alive.values()].filter((m) => holdsLoop(m.resource));
  const lines = [`\n[open-handles] still active: ${JSON.stringify(process.getActiveResourcesInfo())}`];
  for (const m of held) lines.push(`[open-handles] ${m.type}, made during ${m.during}\n${m.stack}`);
  writeSync(2, lines.join('\n') + '\n');
}

export const mochaHooks = {
  afterAll(): void {
    if (!enabled) return;
    setTimeout(report, Number(process.env.FASTGSHARE_TEST_HANDLES_MS ?? 2000)).unref();
  },
};
