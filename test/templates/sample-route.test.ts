/**
 * `GET /_/sample` on real replica processes built from stack.yml: an onnx-node model function
 * (text-direction) answers the PNG it warms up with, which decodes and which the function itself
 * accepts; node-http echo has no sample and answers 404 with what to do instead (its handler never
 * sees the reserved path); other methods get 405.
 */
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createImageBuilder } from '../../core/images/builder.ts';
import { ImageStore } from '../../core/images/image-store.ts';
import { loadStackFile } from '../../core/images/stack-file.ts';
import { silentLogger } from '../../core/logger.ts';
import { PLATFORM_ROOT } from '../../core/version.ts';
import { startReplica, type ReplicaProcess } from './replica-process.ts';

async function untilHealthy(url: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(`${url}/_/health`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > end)
      throw new Error(`replica at ${url} not healthy within ${timeoutMs} ms (last status ${status})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('GET /_/sample (the function sample the profiler loads a replica with)', function () {
  this.timeout(90_000);
  let dir: string;
  const bundles: Record<string, string> = {};
  const running: ReplicaProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fastgshare-sample-route-'));
    const builder = createImageBuilder({ images: new ImageStore({ root: join(dir, 'images') }), log: silentLogger });
    const stack = await loadStackFile(join(PLATFORM_ROOT, 'stack.yml'));
    for (const name of ['text-direction', 'echo']) {
      const [built] = await builder.buildStack(stack, { filter: name, buildRoot: join(dir, 'build') });
      bundles[name] = built!.bundle!.dir;
    }
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.kill()));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("answers an onnx-node function's warm-up image, which decodes and which the function accepts", async () => {
    const r = await startReplica(bundles['text-direction']!, { FASTGSHARE_DEVICE: 'cpu', FASTGSHARE_CPUS: '0' });
    running.push(r);
    await untilHealthy(r.url, 60_000);
    const res = await fetch(`${r.url}/_/sample`);
    expect(res.status, await res.clone().text()).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('image/png');
    const body = Buffer.from(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).to.equal(body.length);
    const meta = await sharp(body).metadata();
    expect(meta.format).to.equal('png');
    expect([meta.width, meta.height]).to.deep.equal([192, 48]);
    // the same bytes on every call (made once per replica)
    expect(Buffer.from(await (await fetch(`${r.url}/_/sample`)).arrayBuffer()).equals(body)).to.equal(true);
    // and the function takes it as a request
    const answer = await fetch(r.url, {
      method: 'POST',
      body: new Uint8Array(body),
      headers: { 'content-type': 'image/png' },
    });
    expect(answer.status).to.equal(200);
    const result = (await answer.json()) as { angle: number; score: number };
    expect([0, 180]).to.include(result.angle);
    const head = await fetch(`${r.url}/_/sample`, { method: 'HEAD' });
    expect(head.status).to.equal(200);
    expect(Number(head.headers.get('content-length'))).to.equal(body.length);
    const post = await fetch(`${r.url}/_/sample`, { method: 'POST', body: 'x' });
    expect(post.status).to.equal(405);
    expect(post.headers.get('allow')).to.equal('GET, HEAD');
  });

  it('answers 404 with what to do for a node-http function without a sample (echo)', async () => {
    const r = await startReplica(bundles.echo!);
    running.push(r);
    const res = await fetch(`${r.url}/_/sample`);
    expect(res.status).to.equal(404);
    const text = await res.text();
    expect(text).to.match(/serves no sample request/);
    expect(text)
      .to.match(/"input"/)
      .and.match(/--data-file/);
    // the handler itself still answers every other path
    const echo = await fetch(`${r.url}/_/sampler`, {
      method: 'POST',
      body: 'hi',
      headers: { 'content-type': 'text/plain' },
    });
    expect(echo.status).to.equal(200);
    expect(await echo.text()).to.equal('hi');
  });
});
