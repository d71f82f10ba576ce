/**
 * Every answer of an onnx-node replica carries a Server-Timing header with its stages: a real
 * HTTP server on loopback around the real text-direction model on the cpu device.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { systemClock } from '../../../core/clock.ts';
import { silentLogger } from '../../../core/logger.ts';
import { createCpuBackend } from '../../../templates/onnx-node/runtime/backends/cpu.ts';
import { createModelServer, type ModelServer } from '../../../templates/onnx-node/runtime/http/server.ts';
import { parseServerTiming } from '../../../core/net/server-timing.ts';
import { REPLICA_STAGES } from '../../../templates/onnx-node/runtime/server-timing.ts';
import type { ModelService } from '../../../templates/onnx-node/runtime/service.ts';
import { systemTimers } from '../../../templates/onnx-node/runtime/timers.ts';
import textDirection from '../../../functions/text-direction/handler.ts';

const quiet = { write() {} };
const line = readFileSync(new URL('../../functions/fixtures/hello-world-2024.png', import.meta.url));

describe('onnx-node replica: Server-Timing on every answer', function () {
  this.timeout(60_000);
  let srv: ModelServer;
  let service: ModelService;
  let url: string;

  before(async () => {
    srv = createModelServer({
      maxBodyBytes: 1024 * 1024,
      debug: false,
      describe: () => ({ function: 'text-direction' }),
      stdout: quiet,
      stderr: quiet,
    });
    url = `http://127.0.0.1:${await srv.listen(0, '127.0.0.1')}`;
    service = await textDirection.open({
      backend: createCpuBackend({ cores: [0], partitionPercent: 50, logger: silentLogger }),
      settings: { sloMs: 2_000, maxBatch: 4, maxQueue: 16 },
      clock: systemClock,
      timers: systemTimers,
      logger: silentLogger,
    });
    await service.warmUp();
    srv.setReady(service);
  });
  after(async () => {
    srv.server.closeAllConnections();
    await new Promise((r) => srv.server.close(r));
    await service?.close();
  });

  it('names every stage, in order, with durations that are numbers ≥ 0 adding up to at most the call', async () => {
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const res = await fetch(url, { method: 'POST', body: line, headers: { 'content-type': 'image/png' } });
      const result = (await res.json()) as { angle: number };
      const total = performance.now() - t;
      expect(res.status).to.equal(200);
      expect(result.angle).to.equal(0);
      const entries = parseServerTiming(res.headers.get('server-timing'));
      expect(entries.map((e) => e.name)).to.deep.equal([...REPLICA_STAGES]);
      for (const e of entries) expect(e.dur).to.be.a('number').and.at.least(0);
      expect(entries.find((e) => e.name === 'infer')!.dur).to.be.greaterThan(0); // the model did run
      const sum = entries.reduce((a, e) => a + e.dur!, 0);
      expect(sum).to.be.at.most(total);
    }
  });

  it('a lone call on an idle replica is not held for a batch: batch stage 0 (to the µs it is rounded to)', async () => {
    const res = await fetch(url, { method: 'POST', body: line, headers: { 'content-type': 'image/png' } });
    await res.arrayBuffer();
    const batch = parseServerTiming(res.headers.get('server-timing')).find((e) => e.name === 'batch')!;
    // submit → dispatch is one microtask turn; a wait for company would be the queue delay (ms)
    expect(batch.dur).to.be.lessThan(1);
  });

  it('also answers the stages it got through on bad input (400)', async () => {
    const res = await fetch(url, { method: 'POST', body: 'not an image', headers: { 'content-type': 'image/png' } });
    expect(res.status).to.equal(400);
    await res.text();
    const names = parseServerTiming(res.headers.get('server-timing')).map((e) => e.name);
    expect(names).to.deep.equal(['body']);
  });
});
