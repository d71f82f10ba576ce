/**
 * Two real node agents behind one gateway: replicas are spread over both, and the reconcile
 * loop brings functions back after a node restart and after a gateway restart.
 */
import { expect } from 'chai';
import { startGatewayHarness, type GatewayHarness } from './harness.ts';
import { createHttpNodeAgentClient } from '../../gateway/node-client.ts';

const deployment = (service: string, labels: Record<string, string> = {}) => ({
  service,
  image: 'echo:latest',
  labels,
  annotations: {},
});

describe('gateway with two nodes: spread, node restart, gateway restart', function () {
  this.timeout(40_000);
  let h: GatewayHarness;

  before(async () => {
    h = await startGatewayHarness({ nodes: 2, env: { FASTGSHARE_READY_TIMEOUT_MS: '400' } });
  });
  after(async () => {
    await h?.close();
  });

  const readyOn = async (i: number, name: string) => {
    const fns = await createHttpNodeAgentClient(h.agents[i]!.url, { token: h.agents[i]!.token }).listFunctions();
    return fns.find((f) => f.name === name)?.replicas.filter((r) => r.state === 'ready').length ?? 0;
  };

  it("spreads a function's replicas evenly over the nodes and balances calls over them", async () => {
    expect(
      (await h.call('POST', '/system/functions', { body: deployment('spread', { 'com.openfaas.scale.min': '2' }) }))
        .status,
    ).to.equal(202);
    await h.eventually(async () => {
      expect([await readyOn(0, 'spread'), await readyOn(1, 'spread')]).to.deep.equal([1, 1]);
      expect((await h.call('GET', '/system/function/spread')).json().availableReplicas).to.equal(2);
    });
    const replicas = new Set<string>();
    for (let i = 0; i < 6; i++) replicas.add((await h.call('GET', '/function/spread')).headers.get('x-replica')!);
    expect(replicas.size).to.equal(2);
  });

  it('keeps serving from the other node while one is down, and restores the function when it comes back', async () => {
    await h.stopAgent(0);
    await h.eventually(async () => {
      const r = await h.call('GET', '/function/spread');
      expect(r.status).to.equal(200);
      // with node 0 gone, placement puts both replicas on node 1
      expect(await readyOn(1, 'spread')).to.equal(2);
    });
    const health = await h.call('GET', '/healthz');
    expect(health.status).to.equal(200);
    await h.startAgent(0);
    await h.eventually(async () => {
      expect([await readyOn(0, 'spread'), await readyOn(1, 'spread')]).to.deep.equal([1, 1]);
    });
  });

  it('answers 503 on /healthz and for deployments when no node answers', async () => {
    await h.stopAgent(0);
    await h.stopAgent(1);
    try {
      await h.eventually(async () => {
        const r = await h.call('GET', '/healthz');
        expect(r.status).to.equal(503);
        expect(r.text).to.contain('no node agent answers');
      });
      await h.eventually(async () => {
        const r = await h.call('POST', '/system/functions', { body: deployment('late') });
        expect(r.status).to.equal(503);
        expect(r.text).to.contain('no node agent answers');
      });
      const inv = await h.call('GET', '/function/spread');
      expect(inv.status).to.equal(503);
      expect(inv.headers.get('x-fastgshare-error')).to.equal('no_replicas');
      expect((await h.call('GET', '/system/function/late')).status).to.equal(404);
    } finally {
      await h.startAgent(0);
      await h.startAgent(1);
    }
    await h.eventually(async () => expect((await h.call('GET', '/function/spread')).status).to.equal(200));
  });

  it('keeps functions and invocation counts across a gateway restart', async () => {
    const count = async () => (await h.call('GET', '/system/function/spread')).json().invocationCount as number;
    // the last call is counted once its response is handed to the socket: wait until every call has been counted
    await h.invocationsSettled('spread.openfaas-fn');
    const before = await count();
    expect(before).to.be.greaterThan(5);
    await h.restartGateway();
    const after = (await h.call('GET', '/system/function/spread')).json();
    expect(after.invocationCount).to.equal(before);
    await h.eventually(async () => expect((await h.call('GET', '/function/spread')).status).to.equal(200));
    const metrics = (await h.call('GET', '/metrics')).text;
    expect(metrics).to.contain('gateway_function_invocation_total{function_name="spread.openfaas-fn",code="200"} 1');
  });
});
