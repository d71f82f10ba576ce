import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { createImageBuilder } from '../../core/images/builder.ts';
import { ImageStore } from '../../core/images/image-store.ts';
import { loadStackFile, parseStack } from '../../core/images/stack-file.ts';
import { silentLogger } from '../../core/logger.ts';
import { PLATFORM_ROOT } from '../../core/version.ts';
import { tmpdir } from 'node:os';
import { startReplica, type ReplicaProcess } from './replica-process.ts';

const TEST_HANDLER = `
export default async function handle(event, context) {
  if (event.path === '/fail') throw new Error('model exploded');
  if (event.path === '/teapot') { const e = new Error('short and stout'); e.status = 418; throw e; }
  if (event.path === '/slow') {
    process.stdout.write('slow-started\\n');
    await new Promise((r) => setTimeout(r, 400));
    return { body: 'slow-done' };
  }
  if (event.path === '/secret') return { body: await context.secret(event.query.name) };
  return { status: 201, headers: { 'x-fn': context.functionName }, body: { size: event.body.length, query: event.query } };
}
`;

/** POSTs `body` with node:http (so a chunked upload can be tested too). */
function post(
  url: string,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('templates/node-http runtime (real process)', function () {
  this.timeout(30_000);
  let tmp: { dir: string };
  let echoDir: string;
  let testDir: string;
  const running: ReplicaProcess[] = [];

  before(async () => {
    tmp = { dir: await mkdtemp(join(tmpdir(), 'fastgshare-node-http-')) };
    const images = new ImageStore({ root: join(tmp.dir, 'images') });
    const builder = createImageBuilder({ images, log: silentLogger });
    const echo = await builder.buildStack(await loadStackFile(join(PLATFORM_ROOT, 'stack.yml')), {
      filter: 'echo',
      buildRoot: join(tmp.dir, 'build'),
    });
    echoDir = echo[0]!.bundle!.dir;
    await mkdir(join(tmp.dir, 'probe'));
    await writeFile(join(tmp.dir, 'probe', 'handler.ts'), TEST_HANDLER);
    const stack = parseStack(
      'functions:\n  probe:\n    lang: node-http\n    handler: ./probe\n    image: probe:test\n',
      { dir: tmp.dir },
    );
    const probe = await builder.buildStack(stack, { buildRoot: join(tmp.dir, 'build') });
    testDir = probe[0]!.bundle!.dir;
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.kill()));
  });

  after(async () => {
    await rm(tmp.dir, { recursive: true, force: true });
  });

  async function start(dir: string, env: Record<string, string> = {}): Promise<ReplicaProcess> {
    const r = await startReplica(dir, env);
    running.push(r);
    return r;
  }

  it('answers the health check and echoes the body with its content-type', async () => {
    const r = await start(echoDir);
    const health = await fetch(`${r.url}/_/health`);
    expect(health.status).to.equal(200);
    const res = await fetch(`${r.url}/`, {
      method: 'POST',
      body: 'hello replica',
      headers: { 'content-type': 'text/x-test' },
    });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/x-test');
    expect(await res.text()).to.equal('hello replica');
    const get = await fetch(`${r.url}/some/path?a=1&b=two`, { headers: { 'x-call-id': 'abc' } });
    expect(await get.json()).to.deep.include({ method: 'GET', path: '/some/path', query: { a: '1', b: 'two' } });
  });

  it('passes query, path and context to the handler and sends objects as JSON', async () => {
    const r = await start(testDir, { FASTGSHARE_FUNCTION: 'probe' });
    const res = await fetch(`${r.url}/?k=v`, { method: 'PUT', body: 'abcd' });
    expect(res.status).to.equal(201);
    expect(res.headers.get('content-type')).to.equal('application/json');
    expect(res.headers.get('x-fn')).to.equal('probe');
    expect(await res.json()).to.deep.equal({ size: 4, query: { k: 'v' } });
  });

  it('answers 500 with the message when the handler throws, and logs it to stderr', async () => {
    const r = await start(testDir);
    const res = await fetch(`${r.url}/fail`, { method: 'POST' });
    expect(res.status).to.equal(500);
    expect(await res.text()).to.contain('model exploded');
    expect(r.stderr()).to.contain('model exploded');
    const teapot = await fetch(`${r.url}/teapot`);
    expect(teapot.status).to.equal(418);
    // the replica keeps serving after an error
    expect((await fetch(`${r.url}/_/health`)).status).to.equal(200);
  });

  it('refuses bodies over max_body_bytes with 413, declared or chunked', async () => {
    const r = await start(testDir, { max_body_bytes: '1024' });
    const declared = await post(`${r.url}/`, Buffer.alloc(2048, 1));
    expect(declared.status).to.equal(413);
    expect(declared.text).to.contain('1024');
    const chunked = await post(`${r.url}/`, Buffer.alloc(4096, 1), { 'transfer-encoding': 'chunked' });
    expect(chunked.status).to.equal(413);
    const ok = await post(`${r.url}/`, Buffer.alloc(1024, 1));
    expect(ok.status).to.equal(201);
    expect(JSON.parse(ok.text).size).to.equal(1024);
  });

  it('reads secrets from FASTGSHARE_SECRETS_DIR', async () => {
    await mkdir(join(tmp.dir, 'secrets'), { recursive: true });
    await writeFile(join(tmp.dir, 'secrets', 'api-key'), 's3cr3t');
    const r = await start(testDir, { FASTGSHARE_SECRETS_DIR: join(tmp.dir, 'secrets') });
    const res = await fetch(`${r.url}/secret?name=api-key`);
    expect(await res.text()).to.equal('s3cr3t');
    const missing = await fetch(`${r.url}/secret?name=nope`);
    expect(missing.status).to.equal(500);
    expect(await missing.text()).to.contain('secret "nope" is not available');
  });

  it('logs one line per request only with write_debug=true', async () => {
    const quiet = await start(testDir);
    await fetch(`${quiet.url}/x`);
    expect(quiet.stdout()).not.to.match(/GET \/x 201/);
    const loud = await start(testDir, { write_debug: 'true' });
    await fetch(`${loud.url}/x`);
    const deadline = Date.now() + 5_000;
    while (!/GET \/x 201/.test(loud.stdout()) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    expect(loud.stdout()).to.match(/GET \/x 201/);
    // the quiet replica has had as long to write one, and did not
    expect(quiet.stdout()).not.to.match(/GET \/x 201/);
  });

  it('drains an in-flight request on SIGTERM, refuses new connections, and exits 0', async () => {
    const r = await start(testDir);
    const inflight = fetch(`${r.url}/slow`, { method: 'POST' }).then(async (res) => ({
      status: res.status,
      text: await res.text(),
    }));
    while (!r.stdout().includes('slow-started')) await new Promise((res) => setTimeout(res, 10));
    r.child.kill('SIGTERM');
    while (!r.stdout().includes('draining')) await new Promise((res) => setTimeout(res, 10));
    const refused = await fetch(`${r.url}/_/health`).then(
      () => 'answered',
      (err: Error) => `refused: ${err.message}`,
    );
    expect(refused).to.match(/^refused/);
    expect(await inflight).to.deep.equal({ status: 200, text: 'slow-done' });
    expect(await r.exited).to.deep.equal({ code: 0, signal: null });
  });

  it('exits 1 with the reason when the handler has no default export', async () => {
    const { writeFile: wf } = await import('node:fs/promises');
    await wf(join(testDir, 'function', 'handler.ts'), 'export const x = 1;\n');
    try {
      await startReplica(testDir).then((r) => running.push(r));
      expect.fail('the replica should not have started');
    } catch (err) {
      expect((err as Error).message).to.match(/exited with code 1.*must `export default/s);
    } finally {
      await wf(join(testDir, 'function', 'handler.ts'), TEST_HANDLER);
    }
  });
});
