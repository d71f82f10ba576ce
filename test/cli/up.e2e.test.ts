/**
 * `fastgshare up --build --deploy stack.yml` (what `npm start` runs) as a real process: it
 * builds, deploys, waits for a ready replica, serves invocations, and stops cleanly on SIGTERM.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PLATFORM_ROOT } from '../../core/version.ts';
import { CLI } from './cli-process.ts';

describe('fastgshare up (real process)', function () {
  this.timeout(60_000);
  let root: string;
  let child: ChildProcess | undefined;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'fastgshare-up-'));
    await cp(join(PLATFORM_ROOT, 'functions'), join(root, 'functions'), { recursive: true });
    // the repository's stack file, unchanged except that it is read from this project folder
    await cp(join(PLATFORM_ROOT, 'stack.yml'), join(root, 'stack.yml'));
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
    }
    await rm(root, { recursive: true, force: true });
  });

  it('builds, deploys, serves and shuts down gracefully on SIGTERM', async () => {
    child = spawn(process.execPath, [CLI, 'up', '--build', '--deploy', 'stack.yml'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: root,
        PORT: '0',
        FASTGSHARE_HOST: '127.0.0.1',
        FASTGSHARE_NODE_PORT: '0',
        FASTGSHARE_DATA_DIR: join(root, 'data'),
        FASTGSHARE_LOG_LEVEL: 'warn',
        FASTGSHARE_DRAIN_TIMEOUT_MS: '2000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    const deadline = Date.now() + 45_000;
    while (!out.includes('fastgshare is up')) {
      if (child.exitCode !== null) throw new Error(`up exited early (${child.exitCode}): ${err}`);
      if (Date.now() > deadline) throw new Error(`up did not come up; stdout: ${out}; stderr: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(out).to.contain('[echo] image echo:latest stored');
    expect(out).to.contain('echo: ready');
    expect(out).to.contain('embedded MongoDB-wire store');
    const url = /gateway: (http:\/\/\S+)/.exec(out)![1]!;
    expect(out).to.contain(`curl -d 'hi' ${url}/function/echo`);

    const res = await fetch(`${url}/function/echo`, {
      method: 'POST',
      body: 'hi',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).to.equal(200);
    expect(await res.text()).to.equal('hi');

    child.kill('SIGTERM');
    expect(await exited).to.equal(0);
    expect(err).to.contain('SIGTERM received');
    expect(err).to.contain('stopped');
    const after = await fetch(`${url}/healthz`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(after).to.equal('refused');
  });
});
