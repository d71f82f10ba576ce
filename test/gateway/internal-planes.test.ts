/**
 * The planes behind the gateway, tried as a local attacker would:
 *  - a replica's port answers only requests carrying its forward token (403 direct, 200 through
 *    the gateway), and user code never sees the token;
 *  - a function named like a profiler trial (`*--prof-<n>`) that no sweep owns is reconciled away,
 *    and tenants cannot deploy such a name.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { createImageBuilder } from '../../core/images/builder.ts';
import { loadStackFile } from '../../core/images/stack-file.ts';
import { silentLogger } from '../../core/logger.ts';
import { PLATFORM_ROOT } from '../../core/version.ts';
import { FORWARD_TOKEN_HEADER, type ReplicaStatus } from '../../core/contracts/node-agent.ts';
import { createHttpNodeAgentClient } from '../../gateway/node-client.ts';
import { createActiveTrials } from '../../profiler/active-trials.ts';
import { startGatewayHarness, type GatewayHarness } from './harness.ts';
import { tempDir } from '../helpers/store.ts';

describe('internal planes: replica ports and trial names', function () {
  this.timeout(120_000);
  let h: GatewayHarness;
  let build: { dir: string; cleanup(): Promise<void> };

  before(async () => {
    h = await startGatewayHarness();
    build = await tempDir('fastgshare-planes-build-');
    const stack = await loadStackFile(join(PLATFORM_ROOT, 'stack.yml'));
    stack.spec.functions.echo!.image = 'realecho:latest';
    await createImageBuilder({ images: h.images, log: silentLogger }).buildStack(stack, {
      filter: 'echo',
      buildRoot: build.dir,
    });
  });
  after(async () => {
    await h?.close();
    await build?.cleanup();
  });

  const node = () => createHttpNodeAgentClient(h.agents[0]!.url, { token: h.agents[0]!.token });

  it('a replica answers 403 to direct calls without its forward token, 200 through the gateway', async () => {
    const dep = await h.call('POST', '/system/functions', { body: { service: 'realecho', image: 'realecho:latest' } });
    expect(dep.status, dep.text).to.equal(202);
    const replica = await h.eventually(async () => {
      const r = (await node().listFunctions())
        .find((f) => f.name === 'realecho')
        ?.replicas.find((x) => x.state === 'ready');
      expect(r, 'a ready replica').to.not.equal(undefined);
      return r as ReplicaStatus;
    }, 60_000);
    expect(replica.forwardToken).to.match(/^[A-Za-z0-9_-]{32}$/);

    // straight to the port: no token, a wrong one, another replica's style of value → 403, for every path
    for (const [path, headers] of [
      ['/', {}],
      ['/_/health', {}],
      ['/_/sample', {}],
      ['/', { [FORWARD_TOKEN_HEADER]: 'x'.repeat(32) }],
      ['/', { [FORWARD_TOKEN_HEADER]: replica.forwardToken!.slice(1) }],
      ['/', { [FORWARD_TOKEN_HEADER]: '' }],
    ] as const) {
      const res = await fetch(replica.url + path, { method: 'POST', body: 'steal', headers });
      expect(res.status, `${path} ${JSON.stringify(headers)}`).to.equal(403);
      expect(await res.text()).to.contain('through the gateway');
    }
    // with the token it is served (the platform's own path), and the function never sees the token
    const own = await fetch(replica.url, { headers: { [FORWARD_TOKEN_HEADER]: replica.forwardToken! } });
    expect(own.status).to.equal(200);
    // through the gateway: 200, and a client-sent token header is replaced, not passed on
    const via = await h.call('POST', '/function/realecho', {
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(via.status).to.equal(200);
    expect(via.text).to.equal('hello');
    const spoof = await h.call('GET', '/function/realecho', { headers: { [FORWARD_TOKEN_HEADER]: 'attacker-value' } });
    expect(spoof.status).to.equal(200);
    expect(JSON.stringify(spoof.json())).not.to.contain('attacker-value').and.not.to.contain(replica.forwardToken!);
    // the agent's health probe sends it too: the replica stays ready
    const again = (await node().listFunctions()).find((f) => f.name === 'realecho')!.replicas[0]!;
    expect(again.state).to.equal('ready');
    expect(again.restarts).to.equal(0);
  });

  it('removes a trial-named function no sweep owns, and refuses trial names on deploy', async () => {
    const spec = {
      name: 'realecho--prof-3',
      namespace: 'openfaas-fn',
      image: 'echo:latest',
      envVars: {},
      labels: {},
      annotations: {},
      secrets: {},
      readOnlyRootFilesystem: false,
    };
    await node().applyFunction({ spec, replicas: 1 });
    await h.eventually(async () => {
      expect((await node().listFunctions()).map((f) => f.name)).not.to.include('realecho--prof-3');
    }, 20_000);

    for (const service of ['squat--prof-1', 'x--prof-0']) {
      const r = await h.call('POST', '/system/functions', { body: { service, image: 'echo:latest' } });
      expect(r.status, r.text).to.equal(400);
      expect(r.text).to.contain('--prof-');
      expect((await h.call('GET', `/system/function/${service}`)).status).to.equal(404);
    }
    // names that merely contain the pattern are fine
    expect(
      (await h.call('POST', '/system/functions', { body: { service: 'prof-1', image: 'echo:latest' } })).status,
    ).to.equal(202);
  });

  it('keeps only the trial functions a sweep marked as owned, while they are', () => {
    const trials = createActiveTrials();
    expect(trials.has('openfaas-fn', 'a--prof-1')).to.equal(false);
    const done = trials.add('openfaas-fn', 'a--prof-1');
    const again = trials.add('openfaas-fn', 'a--prof-1');
    expect(trials.has('openfaas-fn', 'a--prof-1')).to.equal(true);
    expect(trials.has('other', 'a--prof-1')).to.equal(false);
    done();
    done();
    expect(trials.has('openfaas-fn', 'a--prof-1')).to.equal(true);
    again();
    expect(trials.has('openfaas-fn', 'a--prof-1')).to.equal(false);
  });
});
