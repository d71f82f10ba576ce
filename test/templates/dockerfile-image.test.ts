/**
 * The templates' Dockerfiles (for a stock OpenFaaS cluster; Docker is not on this machine, so no
 * image is built): their instructions follow OpenFaaS's conventions and agree with template.yml,
 * and the runtime starts and answers with nothing but the environment the Dockerfile sets, from
 * a file layout like the image's (/home/app: the template, a package.json of type module, and
 * node_modules holding a real copy of the platform package, as `npm install fastgshare.tgz` makes).
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { dockerfileEnv, readDockerfileWatchdog } from '../../fast-manager/watchdog/dockerfile.ts';
import { splitCommandLine } from '../../fast-manager/apply/command-line.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

/** /home/app of the image: the template, package.json, node_modules with a real fastgshare copy. */
async function imageLayout(template: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `fastgshare-image-${template}-`));
  const app = join(dir, 'app');
  await cp(join(ROOT, 'templates', template), app, { recursive: true });
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module' }));
  const nm = join(app, 'node_modules');
  await mkdir(join(nm, 'fastgshare'), { recursive: true });
  for (const e of await readdir(join(ROOT, 'node_modules')))
    if (e !== 'fastgshare') await symlink(join(ROOT, 'node_modules', e), join(nm, e));
  for (const part of ['core', 'templates', 'functions', 'calibration', 'package.json'])
    await cp(join(ROOT, part), join(nm, 'fastgshare', part), { recursive: true });
  return app;
}

describe('templates: Dockerfiles for a stock OpenFaaS cluster', function () {
  this.timeout(60_000);
  const started: ChildProcess[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const c of started) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  for (const template of ['node-http', 'onnx-node']) {
    describe(template, () => {
      let text: string;
      let env: Record<string, string>;
      before(async () => {
        text = await readFile(join(ROOT, 'templates', template, 'Dockerfile'), 'utf8');
        env = dockerfileEnv(text);
      });

      it('runs of-watchdog in http mode, proxying to the runtime the template runs here', async () => {
        const yml = parse(await readFile(join(ROOT, 'templates', template, 'template.yml'), 'utf8')) as {
          fprocess: string;
        };
        expect(readDockerfileWatchdog(text)).to.deep.equal({ watchdog: 'of-watchdog', mode: 'http' });
        expect(text).to.match(/^FROM .*ghcr\.io\/openfaas\/of-watchdog:\d+\.\d+\.\d+ AS watchdog$/m);
        expect(text).to.match(/^COPY --from=watchdog \/fwatchdog \/usr\/bin\/fwatchdog$/m);
        expect(text).to.match(/^CMD \["fwatchdog"\]$/m);
        expect(text).to.match(/^USER app$/m);
        expect(env.fprocess).to.equal(yml.fprocess);
        expect(new URL(env.upstream_url!).port).to.equal(env.PORT);
        expect(env.HOST).to.equal('127.0.0.1');
        for (const t of ['exec_timeout', 'write_timeout', 'read_timeout']) expect(env[t], t).to.match(/^\d+s$/);
      });

      it('starts and answers with only the environment the Dockerfile sets', async () => {
        const app = await imageLayout(template);
        dirs.push(dirname(app));
        const port = await freePort();
        const [cmd, ...args] = splitCommandLine(env.fprocess!, 'fprocess');
        const child = spawn(cmd === 'node' ? process.execPath : cmd!, args, {
          cwd: app,
          env: { ...env, PORT: String(port), PATH: '/usr/local/bin:/usr/bin:/bin', HOME: dirname(app) },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        started.push(child);
        let output = '';
        child.stdout!.on('data', (c: Buffer) => (output += c));
        child.stderr!.on('data', (c: Buffer) => (output += c));
        const base = `http://127.0.0.1:${port}`;
        const deadline = Date.now() + 45_000;
        for (;;) {
          const ok = await fetch(`${base}/_/health`).then(
            (r) => r.status === 200,
            () => false,
          );
          if (ok) break;
          if (child.exitCode !== null || Date.now() > deadline)
            throw new Error(`${template} did not become healthy: ${output}`);
          await new Promise((r) => setTimeout(r, 200));
        }
        if (template === 'node-http') {
          const r = await fetch(`${base}/x?y=1`, { method: 'POST', body: 'hello' });
          expect(r.status).to.equal(200);
          expect(await r.json()).to.include({ method: 'POST', received: 5 });
        } else {
          const sample = await fetch(`${base}/_/sample`);
          expect(sample.status).to.equal(200);
          const r = await fetch(base, {
            method: 'POST',
            body: Buffer.from(await sample.arrayBuffer()),
            headers: { 'content-type': sample.headers.get('content-type')! },
          });
          expect(r.status, output).to.equal(200);
          expect((await r.json()) as Record<string, unknown>).to.have.keys('angle', 'score');
        }
        child.kill('SIGTERM');
        const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
        expect(code, 'drains and exits 0 on SIGTERM, as of-watchdog expects').to.equal(0);
      });
    });
  }
});
