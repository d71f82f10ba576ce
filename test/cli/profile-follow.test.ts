/**
 * `fastgshare profile` following a sweep (cli/profile-follow.ts) against a scripted gateway: a failed
 * poll is retried with a doubling wait and said so, the command goes on to the end; after a long
 * outage it stops saying how to re-attach; a sweep removed from the queue ends the command clearly.
 */
import { expect } from 'chai';
import { Readable } from 'node:stream';
import { PlatformError } from '../../core/errors.ts';
import { followSweep } from '../../cli/profile-follow.ts';
import type { JobView, ProfileApi } from '../../cli/profile-api.ts';
import type { CommandContext } from '../../cli/context.ts';

function context(stop: Promise<string> = new Promise(() => {})): { ctx: CommandContext; err: () => string } {
  let err = '';
  const ctx = {
    io: {
      stdout: { write: () => true },
      stderr: { write: (s: string | Uint8Array) => (err += s.toString()) },
      stdin: Readable.from([]),
    },
    stopSignal: () => stop,
  } as unknown as CommandContext;
  return { ctx, err: () => err };
}

const view = (state: string, done = 0): JobView => ({
  id: 'job-1',
  function: 'fn.openfaas-fn',
  state,
  trials: 4,
  estimateSeconds: 40,
  progress: { phase: state === 'active' ? 'trial' : 'waiting-for-device', done, total: 4, etaSeconds: 10 },
});

/** Answers GET …/job from a script: a view, or an error to throw. */
function scripted(answers: Array<JobView | PlatformError>): ProfileApi & { calls: number } {
  const api = {
    gateway: 'http://gw.test',
    calls: 0,
    async call() {
      const a = answers[Math.min(api.calls++, answers.length - 1)]!;
      if (a instanceof PlatformError) throw a;
      return new Response(JSON.stringify(a));
    },
  };
  return api;
}

const down = () =>
  new PlatformError(
    'unavailable',
    'profile fn: cannot reach the gateway at http://gw.test: is `fastgshare up` running? (ECONNREFUSED)',
  );

describe('cli: following a sweep', () => {
  it('retries a failed poll with a doubling wait, says so, and follows the sweep to its end', async () => {
    const { ctx, err } = context();
    const api = scripted([view('active', 1), down(), down(), down(), view('active', 3), view('completed', 4)]);
    const out = await followSweep(ctx, api, 'fn', undefined, view('waiting'), { pollMs: 5, maxBackoffMs: 12 });
    expect(out.kind).to.equal('ended');
    expect(out.view.state).to.equal('completed');
    const lines = err();
    expect(lines.match(/trying again in/g)).to.have.length(3);
    expect(lines)
      .to.contain('cannot reach the gateway at http://gw.test')
      .and.contain('(the sweep goes on; Ctrl-C stops following)');
    expect(lines).to.contain('The gateway answers again.');
    expect(api.calls).to.equal(6);
  });

  it('stops after a long outage, saying the sweep goes on and how to re-attach', async () => {
    const { ctx, err } = context();
    let t = 0;
    const api = scripted([down()]);
    const failure = await followSweep(ctx, api, 'fn', 'team-a', view('active', 1), {
      pollMs: 1,
      maxBackoffMs: 2,
      giveUpAfterMs: 50,
      now: () => (t += 10),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).to.be.instanceOf(PlatformError);
    expect((failure as Error).message).to.match(
      /no answer for 0m00s, so this command stops\. The sweep \(job job-1\) goes on if the gateway does: follow it again with `fastgshare profile fn -n team-a`/,
    );
    expect(err()).to.contain('trying again in');
  });

  it('a bad answer that is not an outage ends the command at once', async () => {
    const { ctx } = context();
    const api = scripted([new PlatformError('forbidden', 'profile fn: tenant may not (HTTP 403)')]);
    const failure = await followSweep(ctx, api, 'fn', undefined, view('active'), { pollMs: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((failure as PlatformError).code).to.equal('forbidden');
    expect(api.calls).to.equal(1);
  });

  it('says when the sweep left the queue without running (cancelled while it waited)', async () => {
    const { ctx } = context();
    const api = scripted([new PlatformError('not_found', 'no profiling sweep for "fn.openfaas-fn"')]);
    const failure = await followSweep(ctx, api, 'fn', undefined, view('waiting'), { pollMs: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((failure as Error).message).to.equal(
      'sweep job-1 of fn is no longer queued (it was cancelled before it ran); start one with `fastgshare profile fn`',
    );
  });

  it('on the stop signal returns at once and says the sweep goes on and how to cancel it', async () => {
    let stop!: (s: string) => void;
    const { ctx, err } = context(new Promise<string>((r) => (stop = r)));
    const api = scripted([view('active', 1)]);
    setTimeout(() => stop('SIGINT'), 30);
    const started = Date.now();
    const out = await followSweep(ctx, api, 'fn', undefined, view('active'), { pollMs: 60_000 });
    expect(Date.now() - started).to.be.lessThan(5_000);
    expect(out.kind).to.equal('detached');
    expect(err()).to.contain(
      'Stopped following. The sweep goes on on the gateway (job job-1): follow it again with `fastgshare profile fn`, cancel it with `fastgshare profile fn --cancel`.',
    );
  });
});
