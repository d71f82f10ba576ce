/**
 * The built-in forking watchdog (fast-manager/watchdog/server.ts) with real processes: a shell
 * one-liner and a small Python function, each forked per request, body on stdin, answer from
 * stdout; failures, time limits, concurrency, the forward token and draining. In-process here;
 * test/fast-manager/classic-functions.test.ts runs it as a replica in the sandbox.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readForkingWatchdogConfig, type Env } from '../../../fast-manager/watchdog/config.ts';
import { createForkingWatchdog, type ForkingWatchdog } from '../../../fast-manager/watchdog/server.ts';
import { FORWARD_TOKEN_HEADER } from '../../../core/contracts/node-agent.ts';
import { waitFor } from '../../helpers/eventually.ts';

const WORDCOUNT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'classic', 'wordcount');
const PATH = '/usr/local/bin:/usr/bin:/bin';

interface Running {
  url: string;
  watchdog: ForkingWatchdog;
  logs: string[];
}

const running: Running[] = [];

async function start(env: Env, cwd = WORDCOUNT): Promise<Running> {
  const config = readForkingWatchdogConfig({ PORT: '0', ...env });
  const logs: string[] = [];
  const watchdog = createForkingWatchdog({ config, cwd, env: { PATH, LANG: 'C.UTF-8' }, log: (l) => logs.push(l) });
  const port = await watchdog.listen(0, '127.0.0.1');
  const r = { url: `http://127.0.0.1:${port}`, watchdog, logs };
  running.push(r);
  return r;
}

/** pids of `sleep <secs>` processes whose duration starts with `prefix` (unique to one test). */
function sleepers(prefix: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', `^sleep ${prefix.replace('.', '\\.')}`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when none
  }
}

const pgidOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
};

describe('fast-manager watchdog: one process per request', function () {
  this.timeout(20_000);
  afterEach(async () => {
    for (const r of running.splice(0)) await r.watchdog.drain();
  });

  it("runs a shell one-liner per request: body on stdin, stdout as the answer, the request's content type", async () => {
    const w = await start({ fprocess: `sh -c 'tr a-z A-Z'` });
    const r = await fetch(`${w.url}/any/path?q=1`, {
      method: 'POST',
      body: 'hello classic',
      headers: { 'content-type': 'text/x-greeting' },
    });
    expect(r.status).to.equal(200);
    expect(await r.text()).to.equal('HELLO CLASSIC');
    expect(r.headers.get('content-type')).to.equal('text/x-greeting');
    expect(Number(r.headers.get('x-duration-seconds'))).to.be.greaterThan(0);
    // one process per request: each call sees only its own body
    const [a, b] = await Promise.all([
      fetch(w.url, { method: 'POST', body: 'one' }),
      fetch(w.url, { method: 'POST', body: 'two' }),
    ]);
    expect([await a.text(), await b.text()]).to.deep.equal(['ONE', 'TWO']);
    const get = await fetch(w.url);
    expect(get.status).to.equal(200);
    expect(await get.text()).to.equal('');
  });

  it('runs a Python function with the request as Http_* variables; invalid input → 500 with its traceback', async () => {
    const w = await start({ fprocess: 'python3 handler.py', content_type: 'application/json' });
    const r = await fetch(`${w.url}/count?lang=en`, {
      method: 'PUT',
      body: JSON.stringify({ text: 'one two three' }),
      headers: { 'x-call-id': 'call-42' },
    });
    expect(r.status).to.equal(200);
    expect(r.headers.get('content-type')).to.equal('application/json');
    expect(await r.json()).to.deep.include({
      words: 3,
      method: 'PUT',
      path: '/count',
      query: 'lang=en',
      callId: 'call-42',
    });
    const bad = await fetch(w.url, { method: 'POST', body: 'not json' });
    expect(bad.status).to.equal(500);
    const text = await bad.text();
    expect(text.split('\n')[0]).to.equal('exit status 1');
    expect(text).to.contain('Traceback').and.contain('JSONDecodeError');
    expect(w.logs.join('\n')).to.contain('"python3 handler.py" failed: exit status 1');
  });

  it('answers a non-zero exit with 500 and the stderr, and keeps stderr out of a good answer when combine_output=false', async () => {
    const w = await start({
      fprocess: `sh -c 'cat; echo "to the log" >&2; test "$Http_Query" != fail || { echo "refused: bad input" >&2; exit 3; }'`,
      combine_output: 'false',
    });
    const ok = await fetch(`${w.url}/?fine`, { method: 'POST', body: 'data' });
    expect(await ok.text()).to.equal('data');
    const failed = await fetch(`${w.url}/?fail`, { method: 'POST', body: 'data' });
    expect(failed.status).to.equal(500);
    expect(await failed.text()).to.equal('exit status 3\nto the log\nrefused: bad input\n');
    expect(w.logs.some((l) => l.includes('stderr: to the log'))).to.equal(true);
    const combined = await start({ fprocess: `sh -c 'echo out; echo err >&2; exit 2'` });
    const c = await fetch(combined.url, { method: 'POST', body: '' });
    expect(c.status).to.equal(500);
    expect(await c.text()).to.match(/^exit status 2\n(out\nerr\n|err\nout\n)$/);
  });

  it('kills a process (and what it started) at exec_timeout with 408, at write_timeout with 504', async () => {
    const w = await start({ fprocess: `sh -c 'sleep 31.417 & wait'`, exec_timeout: '500ms', write_timeout: '5s' });
    const t0 = Date.now();
    const r = await fetch(w.url, { method: 'POST', body: '' });
    expect(r.status).to.equal(408);
    expect(await r.text()).to.match(/^Killed process: it ran longer than exec_timeout \(0\.5s\); raise exec_timeout/);
    expect(Date.now() - t0).to.be.lessThan(4_000);
    const w2 = await start({
      fprocess: `sh -c 'sleep 31.419 & exec sleep 31.418'`,
      exec_timeout: '0',
      write_timeout: '400ms',
    });
    const slow = await fetch(w2.url, { method: 'POST', body: '' });
    expect(slow.status).to.equal(504);
    expect(await slow.text()).to.contain('did not answer within write_timeout (0.4s)');
    // the background sleeps of those process groups are gone too (killed: gone once the kernel has reaped them)
    await waitFor('the sleep children to exit', () => sleepers('31.41').length === 0, 3_000);
  });

  it('reads read_timeout, max_body_bytes and max_inflight', async () => {
    const w = await start({ fprocess: `sh -c 'sleep 0.5; cat'`, max_inflight: '1', max_body_bytes: '8' });
    const arrived = once(w.watchdog.server, 'request'); // after the watchdog's own handler has taken it in
    const first = fetch(w.url, { method: 'POST', body: 'a' });
    await arrived;
    const second = await fetch(w.url, { method: 'POST', body: 'b' });
    expect(second.status).to.equal(429);
    expect(await second.text()).to.contain('max_inflight (1)');
    expect(await (await first).text()).to.equal('a');
    const big = await fetch(w.url, { method: 'POST', body: 'x'.repeat(9) });
    expect(big.status).to.equal(413);
    const slowBody = await start({ fprocess: 'cat', read_timeout: '300ms' });
    const stream = new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('part')) }); // never closed
    const r = await fetch(slowBody.url, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(r.status).to.equal(408);
    expect(await r.text()).to.contain('read_timeout (0.3s)');
  });

  it('serves only the platform with a forward token; health answers without forking; a missing command is a 500 saying so', async () => {
    const w = await start({ fprocess: 'cat', FASTGSHARE_FORWARD_TOKEN: 'secret-token' });
    expect((await fetch(w.url, { method: 'POST', body: 'x' })).status).to.equal(403);
    expect((await fetch(`${w.url}/_/health`)).status).to.equal(403);
    const ok = await fetch(w.url, { method: 'POST', body: 'x', headers: { [FORWARD_TOKEN_HEADER]: 'secret-token' } });
    expect(await ok.text()).to.equal('x');
    const health = await fetch(`${w.url}/_/health`, { headers: { [FORWARD_TOKEN_HEADER]: 'secret-token' } });
    expect([health.status, await health.text()]).to.deep.equal([200, 'OK']);
    // the function's process never sees the header
    const env = await start({ fprocess: 'env', FASTGSHARE_FORWARD_TOKEN: 't2' });
    const seen = await (
      await fetch(env.url, { method: 'POST', body: '', headers: { [FORWARD_TOKEN_HEADER]: 't2', 'x-other': 'kept' } })
    ).text();
    expect(seen).to.contain('Http_X_Other=kept').and.not.contain('t2');
    const missing = await start({ fprocess: 'no-such-command-here' });
    const m = await fetch(missing.url, { method: 'POST', body: '' });
    expect(m.status).to.equal(500);
    expect(await m.text())
      .to.contain('cannot start the function\'s process "no-such-command-here"')
      .and.contain('ENOENT');
    expect((await fetch(missing.url, { method: 'OPTIONS' })).status).to.equal(405);
    // the profiler's reserved path is not forked
    const sample = await fetch(`${missing.url}/_/sample`);
    expect(sample.status).to.equal(404);
    expect(await sample.text()).to.contain('fastgshare profile <function> --data-file');
  });

  it('drains: in-flight requests finish, health turns 503, the port closes', async () => {
    const w = await start({ fprocess: `sh -c 'sleep 0.4; cat'` });
    const arrived = once(w.watchdog.server, 'request'); // after the watchdog's own handler has taken it in
    const pending = fetch(w.url, { method: 'POST', body: 'finished' });
    await arrived;
    running.splice(running.indexOf(w), 1);
    const drained = w.watchdog.drain();
    expect(await (await pending).text()).to.equal('finished');
    await drained;
    let refused = false;
    await fetch(`${w.url}/_/health`).catch(() => (refused = true));
    expect(refused).to.equal(true);
  });

  it('leaves no process behind when the caller goes away', async () => {
    const w = await start({ fprocess: `sh -c 'sleep 31.517'`, exec_timeout: '0', write_timeout: '0' });
    const ac = new AbortController();
    const call = fetch(w.url, { method: 'POST', body: '', signal: ac.signal }).catch(() => undefined);
    await waitFor('one sleep child', () => sleepers('31.517').length === 1, 3_000);
    // it runs in the watchdog's process group, where the node agent's usage and stop signals reach it
    expect(pgidOf(sleepers('31.517')[0]!)).to.equal(pgidOf(process.pid));
    ac.abort();
    await call;
    await waitFor('the sleep child to exit', () => sleepers('31.517').length === 0, 3_000);
  });
});
