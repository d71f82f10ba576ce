/**
 * The gateway restarted on the same store and nodes: functions (all namespaces), their settings
 * and their routes come back from the store at once, without new replicas being started.
 */
import { expect } from 'chai';
import { startGatewayHarness, type GatewayHarness } from '../gateway/harness.ts';
import { createHttpNodeAgentClient } from '../../gateway/node-client.ts';

describe('fault: the gateway restarted', function () {
  this.timeout(30_000);
  let h: GatewayHarness;

  before(async () => {
    h = await startGatewayHarness();
  });
  after(async () => {
    await h?.close();
  });

  it('restores functions and routes from the store, and keeps the running replicas', async () => {
    expect((await h.call('POST', '/system/namespace', { body: { name: 'team-a' } })).status).to.be.oneOf([201, 202]);
    expect(
      (
        await h.call('POST', '/system/functions', {
          body: {
            service: 'alpha',
            image: 'echo:latest',
            envVars: { GREETING: 'hi' },
            labels: {},
            annotations: { note: 'x' },
          },
        })
      ).status,
    ).to.equal(202);
    expect(
      (
        await h.call('POST', '/system/functions', {
          body: { service: 'beta', namespace: 'team-a', image: 'echo:latest', labels: {}, annotations: {} },
        })
      ).status,
    ).to.equal(202);
    await h.eventually(async () => {
      expect((await h.call('GET', '/function/alpha')).status).to.equal(200);
      expect((await h.call('GET', '/function/beta.team-a')).status).to.equal(200);
    });
    const replicaIds = async () =>
      (await createHttpNodeAgentClient(h.agents[0]!.url, { token: h.agents[0]!.token }).listFunctions())
        .flatMap((f) => f.replicas.map((r) => `${f.name}.${f.namespace}/${r.id}`))
        .sort();
    const before = await replicaIds();
    expect(before).to.have.length(2);

    await h.restartGateway();

    // the routes work on the first call (the catalog is loaded before the gateway listens)
    const alpha = await h.call('POST', '/function/alpha', { body: 'a' });
    expect(alpha.status).to.equal(200);
    expect(alpha.headers.get('x-greeting')).to.equal('hi');
    expect((await h.call('POST', '/function/beta.team-a', { body: 'b' })).json().body).to.equal('b');
    expect((await h.call('GET', '/function/gamma')).status).to.equal(404);
    const list = (await h.call('GET', '/system/functions')).json() as Array<{
      name: string;
      annotations: Record<string, string>;
    }>;
    expect(list.map((f) => f.name)).to.deep.equal(['alpha']);
    expect(list[0]!.annotations).to.include({ note: 'x' });
    expect(
      ((await h.call('GET', '/system/functions?namespace=team-a')).json() as Array<{ name: string }>).map(
        (f) => f.name,
      ),
    ).to.deep.equal(['beta']);
    // after the restarted gateway's first reconcile passes (the one at start and two more; each applies both
    // functions on the node, which answers once it runs what it was given), still the same replicas: nothing
    // restarted or duplicated
    await h.eventually(async () => expect(h.applied(), 'functions applied since the restart').to.be.at.least(3 * 2));
    expect(await replicaIds()).to.deep.equal(before);
  });
});
