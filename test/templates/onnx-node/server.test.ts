/**
 * The onnx-node HTTP server on a real loopback port: health only 200 once the model service is
 * ready, PlatformError codes → statuses (400 with the message, 429 at once, 413 over the body
 * limit), GET describes the function, drain turns health to 503.
 */
import { expect } from 'chai';
import { PlatformError } from '../../../core/errors.ts';
import { AdmissionRejectedError } from '../../../templates/onnx-node/runtime/admission-error.ts';
import { createModelServer, type ModelServer } from '../../../templates/onnx-node/runtime/http/server.ts';
import type { ModelService } from '../../../templates/onnx-node/runtime/service.ts';
import { unwrapBase64Json } from '../../../templates/onnx-node/runtime/request-body.ts';

const quiet = { write() {} };

describe('onnx-node HTTP server', () => {
  let srv: ModelServer;
  let url: string;
  const seen: { body: string; contentType?: string }[] = [];
  const service: ModelService = {
    async invoke(body, contentType) {
      seen.push({ body: body.toString(), contentType });
      const text = body.toString();
      if (text === 'bad') throw new PlatformError('bad_request', 'expected a PNG or JPEG image');
      if (text === 'busy')
        throw new AdmissionRejectedError('slo_unattainable', 'the queue makes a 100 ms SLO impossible');
      if (text === 'boom') throw new Error('kaput');
      return { echoed: text };
    },
    async warmUp() {},
    stats: () => ({ served: seen.length }),
    async close() {},
  };

  before(async () => {
    srv = createModelServer({
      maxBodyBytes: 1024,
      debug: false,
      describe: () => ({ function: 'fn' }),
      stdout: quiet,
      stderr: quiet,
    });
    url = `http://127.0.0.1:${await srv.listen(0, '127.0.0.1')}`;
  });
  after(async () => {
    srv.server.closeAllConnections();
    await new Promise((r) => srv.server.close(r));
  });

  it('answers health 503 while the model loads and 503 to invocations, then 200', async () => {
    const h = await fetch(`${url}/_/health`);
    expect(h.status).to.equal(503);
    expect(await h.text()).to.contain('loading');
    expect((await fetch(url, { method: 'POST', body: 'x' })).status).to.equal(503);
    srv.setReady(service);
    expect((await fetch(`${url}/_/health`)).status).to.equal(200);
  });

  it('sends results as JSON and passes the content type on; GET describes the function', async () => {
    const r = await fetch(`${url}/any/path`, {
      method: 'POST',
      body: 'hello',
      headers: { 'content-type': 'image/png' },
    });
    expect(r.status).to.equal(200);
    expect(r.headers.get('content-type')).to.equal('application/json');
    expect(await r.json()).to.deep.equal({ echoed: 'hello' });
    expect(seen.at(-1)).to.deep.equal({ body: 'hello', contentType: 'image/png' });
    const d = (await (await fetch(url)).json()) as Record<string, unknown>;
    expect(d).to.include({ function: 'fn', ready: true });
  });

  it('maps errors: 400 with the message, 429 at once, 500 otherwise, 413 over the body limit', async () => {
    const bad = await fetch(url, { method: 'POST', body: 'bad' });
    expect(bad.status).to.equal(400);
    expect(await bad.text()).to.contain('expected a PNG or JPEG image');
    const busy = await fetch(url, { method: 'POST', body: 'busy' });
    expect(busy.status).to.equal(429);
    expect(busy.headers.get('retry-after')).to.equal('1');
    expect((await fetch(url, { method: 'POST', body: 'boom' })).status).to.equal(500);
    const big = await fetch(url, { method: 'POST', body: Buffer.alloc(2048, 1) });
    expect(big.status).to.equal(413);
  });

  it('unwraps base64 JSON bodies and says what it expected otherwise', () => {
    const r = unwrapBase64Json(
      Buffer.from(JSON.stringify({ image: Buffer.from('PNGDATA').toString('base64') })),
      'application/json',
      'image',
    );
    expect(r.body.toString()).to.equal('PNGDATA');
    const raw = Buffer.from([0x89, 0x50]);
    expect(unwrapBase64Json(raw, 'image/png', 'image').body).to.equal(raw);
    expect(() => unwrapBase64Json(Buffer.from('{"img": "x"}'), 'application/json', 'image')).to.throw(
      /\{"image": "<base64>"\}/,
    );
    expect(() => unwrapBase64Json(Buffer.from('{nope'), 'application/json', 'image')).to.throw(/not valid JSON/);
  });

  it('turns health to 503 while draining', async () => {
    const draining = srv.drain();
    const h = await fetch(`${url}/_/health`).catch(() => undefined);
    if (h) expect(h.status).to.equal(503);
    await draining;
  });
});
