/**
 * The template watchdog with a forward token (FASTGSHARE_FORWARD_TOKEN): every request without the
 * exact token in X-Fastgshare-Forward is a 403 (health and sample included) and never reaches the
 * handler; with it, the handler runs and does not see the token.
 */
import { expect } from 'chai';
import { FORWARD_TOKEN_HEADER as CONTRACT_HEADER } from '../../core/contracts/node-agent.ts';
import { HEALTH_PATH as CONTRACT_HEALTH, SAMPLE_PATH as CONTRACT_SAMPLE } from '../../core/contracts/replica-http.ts';
import { readRuntimeConfig } from '../../templates/node-http/runtime/config.ts';
import { createReplicaServer } from '../../templates/node-http/runtime/server.ts';
import { FORWARD_TOKEN_HEADER, HEALTH_PATH, SAMPLE_PATH } from '../../templates/node-http/runtime/watchdog.ts';
import type { HandlerEvent } from '../../templates/node-http/runtime/types.ts';

describe('node-http watchdog forward token', () => {
  const token = 'tok_0123456789abcdefghijklmnopqrstuv';
  const seen: HandlerEvent[] = [];
  const replica = createReplicaServer({
    handler: async (e) => {
      seen.push(e);
      return { status: 200, body: 'handled' };
    },
    context: {
      functionName: 'f',
      namespace: 'ns',
      replicaId: 'r',
      secretsDir: '/nonexistent',
      secret: async () => '',
    } as never,
    maxBodyBytes: 1024,
    debug: false,
    stdout: { write() {} },
    stderr: { write() {} },
    forwardToken: token,
  });
  let base: string;
  before(async () => {
    base = `http://127.0.0.1:${await replica.listen(0, '127.0.0.1')}`;
  });
  after(() => replica.drain());
  beforeEach(() => (seen.length = 0));

  it("uses the contract's header name and reads the token from FASTGSHARE_FORWARD_TOKEN", () => {
    expect(FORWARD_TOKEN_HEADER).to.equal(CONTRACT_HEADER);
    // the template declares the contract's routes itself (self-contained); they must not drift
    expect([HEALTH_PATH, SAMPLE_PATH]).to.deep.equal([CONTRACT_HEALTH, CONTRACT_SAMPLE]);
    expect(readRuntimeConfig({ FASTGSHARE_FORWARD_TOKEN: token }).forwardToken).to.equal(token);
    expect(readRuntimeConfig({}).forwardToken).to.equal(undefined);
  });

  it('answers 403 without the exact token, on every path, and the handler never runs', async () => {
    for (const path of ['/', '/x?y=1', '/_/health', '/_/sample'])
      for (const headers of [
        {},
        { [FORWARD_TOKEN_HEADER]: '' },
        { [FORWARD_TOKEN_HEADER]: token.slice(0, -1) },
        { [FORWARD_TOKEN_HEADER]: `${token} ` + 'x' },
        { authorization: `Bearer ${token}` },
      ]) {
        const res = await fetch(base + path, { method: 'POST', body: 'b', headers: headers as Record<string, string> });
        expect(res.status, `${path} ${JSON.stringify(headers)}`).to.equal(403);
        await res.text();
      }
    expect(seen).to.have.length(0);
  });

  it('serves requests with the token and hides it from the handler', async () => {
    const res = await fetch(`${base}/p`, {
      method: 'POST',
      body: 'b',
      headers: { [FORWARD_TOKEN_HEADER]: token, 'x-other': '1' },
    });
    expect(res.status).to.equal(200);
    expect(await res.text()).to.equal('handled');
    expect(seen).to.have.length(1);
    expect(seen[0]!.headers[FORWARD_TOKEN_HEADER]).to.equal(undefined);
    expect(seen[0]!.headers['x-other']).to.equal('1');
    expect(JSON.stringify(seen[0]!.headers)).not.to.contain(token);
    expect((await fetch(`${base}/_/health`, { headers: { [FORWARD_TOKEN_HEADER]: token } })).status).to.equal(200);
  });
});
