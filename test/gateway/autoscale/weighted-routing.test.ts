/**
 * Weighted routing through a real gateway: two echo replicas with unequal profiled capacities
 * (3:1) take concurrent calls in proportion to their capacity; with no capacity known the split
 * is even. Then two replicas of unequal configurations (replica groups of 75 % and 25 % on the
 * node agent, placed through the planned Placement) are weighed by their own configuration's
 * capacity. Plus the balancer's choice rule on its own.
 */
import { expect } from 'chai';
import { replicaGroupKey, type FunctionReplicas, type ReplicaStatus } from '../../../core/contracts/node-agent.ts';
import { createPlannedPlacement } from '../../../gateway/autoscale/planned-placement.ts';
import { evenSpreadPlacement } from '../../../gateway/control/placement.ts';
import { createWeightedBalancer } from '../../../gateway/proxy/balancer.ts';
import { createCapacityBook } from '../../../gateway/autoscale/replica-capacities.ts';
import { processEnv, startAutoscalePlatform, type AutoscalePlatform } from './platform.ts';

const replica = (id: string): ReplicaStatus => ({
  id,
  name: 'f',
  namespace: 'ns',
  node: 'n',
  url: 'http://x',
  pid: 1,
  state: 'ready',
  restarts: 0,
  startedAt: '',
  usage: { cpu: 0, totalMemoryBytes: 0 },
});

describe('weighted balancer', () => {
  it('keeps outstanding calls proportional to capacity and falls back to even least-outstanding', () => {
    const book = createCapacityBook();
    const b = createWeightedBalancer(book);
    const rs = [replica('a'), replica('b')];
    const count = (n: number) => {
      const seen: Record<string, number> = { a: 0, b: 0 };
      const ends: Array<() => void> = [];
      for (let i = 0; i < n; i++) {
        const r = b.pick('f.ns', rs);
        seen[r.id]!++;
        ends.push(b.begin(r.id));
      }
      for (const e of ends) e();
      return seen;
    };
    expect(count(8)).to.deep.equal({ a: 4, b: 4 }); // nothing known: plain least outstanding
    book.setReplica('a', 30);
    expect(count(8)).to.deep.equal({ a: 4, b: 4 }); // one unknown: still even
    book.setReplica('b', 10);
    expect(count(8)).to.deep.equal({ a: 6, b: 2 });
    book.setReplica('a', undefined);
    book.setFunction('f.ns', 10); // function value for a, replica value for b: equal
    expect(count(8)).to.deep.equal({ a: 4, b: 4 });
  });
});

describe('weighted routing through the gateway (replicas of unequal capacity)', function () {
  this.timeout(40_000);
  let p: AutoscalePlatform;
  const book = createCapacityBook();

  before(async () => {
    p = await startAutoscalePlatform({
      env: { FASTGSHARE_AUTOSCALE: 'false' },
      gateway: { balancer: createWeightedBalancer(book) },
    });
    const r = await p.call('POST', '/system/functions', {
      service: 'pair',
      image: 'echo:latest',
      labels: { 'com.openfaas.scale.min': '2' },
    });
    expect(r.status, r.text).to.equal(202);
    await p.eventually(
      async () => expect((await p.call('GET', '/system/function/pair')).json().availableReplicas).to.equal(2),
      15_000,
    );
  });
  after(async () => {
    await p?.close();
  });

  const wave = async (n: number) => {
    const answers = await Promise.all(
      Array.from({ length: n }, () =>
        fetch(`${p.gateway.url}/function/pair/slow?ms=300`, { method: 'POST' }).then(
          async (r) => (await r.text(), r.headers.get('x-replica')!),
        ),
      ),
    );
    const split = new Map<string, number>();
    for (const id of answers) split.set(id, (split.get(id) ?? 0) + 1);
    return split;
  };

  it('splits concurrent calls 3:1 when capacities are 30 and 10 rps, evenly when unknown', async () => {
    const ids = [...(await wave(8)).keys()].sort();
    expect(ids).to.have.length(2);
    const even = await wave(40);
    expect(even.get(ids[0]!)).to.equal(20);
    book.setReplica(ids[0]!, 30);
    book.setReplica(ids[1]!, 10);
    const weighted = await wave(40);
    expect(weighted.get(ids[0]!)).to.equal(30);
    expect(weighted.get(ids[1]!)).to.equal(10);
  });
});

describe("weighted routing by each replica's own configuration (replica groups)", function () {
  this.timeout(40_000);
  let p: AutoscalePlatform;
  const book = createCapacityBook();
  const placement = createPlannedPlacement(evenSpreadPlacement);
  const big = { 'fastgshare/gpu_sm_partition': '75' };
  const small = { 'fastgshare/gpu_sm_partition': '25' };

  before(async () => {
    p = await startAutoscalePlatform({
      env: { FASTGSHARE_AUTOSCALE: 'false' },
      gateway: { balancer: createWeightedBalancer(book), placement },
    });
    // what the auto-scaler does for a plan of one 75 % replica and a 25 % residual on this node
    placement.set(
      'mixed.openfaas-fn',
      new Map([[p.agent.url, 2]]),
      new Map([
        [
          p.agent.url,
          [
            { replicas: 1, annotations: big },
            { replicas: 1, annotations: small },
          ],
        ],
      ]),
    );
    book.setFunction(
      'mixed.openfaas-fn',
      undefined,
      new Map([
        [replicaGroupKey(big), 30],
        [replicaGroupKey(small), 10],
      ]),
    );
    const r = await p.call('POST', '/system/functions', {
      service: 'mixed',
      image: 'echo:latest',
      labels: { 'com.openfaas.scale.min': '2' },
      annotations: { 'fastgshare/gpu_sm_partition': '50' },
    });
    expect(r.status, r.text).to.equal(202);
    await p.eventually(
      async () => expect((await p.call('GET', '/system/function/mixed')).json().availableReplicas).to.equal(2),
      15_000,
    );
  });
  after(async () => {
    await p?.close();
  });

  it("runs one replica of each configuration and sends it calls in proportion to that configuration's capacity", async () => {
    const fns = (await (
      await fetch(`${p.agent.url}/v1/functions`, { headers: { authorization: `Bearer ${p.agent.token}` } })
    ).json()) as FunctionReplicas[];
    const replicas = fns.find((f) => f.name === 'mixed')!.replicas;
    expect(replicas.map((r) => r.group!.key).sort()).to.deep.equal(
      [replicaGroupKey(small), replicaGroupKey(big)].sort(),
    );
    const partitionOf = new Map<string, string>();
    for (const r of replicas) {
      const env = processEnv(r.pid!);
      expect(env.FASTGSHARE_PARTITION).to.equal(r.group!.annotations['fastgshare/gpu_sm_partition']);
      partitionOf.set(r.id, env.FASTGSHARE_PARTITION!);
    }
    // the stored function keeps its owner's annotations
    expect((await p.call('GET', '/system/function/mixed')).json().annotations['fastgshare/gpu_sm_partition']).to.equal(
      '50',
    );
    const answers = await Promise.all(
      Array.from({ length: 40 }, () =>
        fetch(`${p.gateway.url}/function/mixed/slow?ms=300`, { method: 'POST' }).then(
          async (r) => (await r.text(), r.headers.get('x-replica')!),
        ),
      ),
    );
    const split = new Map<string, number>();
    for (const id of answers) split.set(partitionOf.get(id)!, (split.get(partitionOf.get(id)!) ?? 0) + 1);
    expect(Object.fromEntries(split)).to.deep.equal({ '75': 30, '25': 10 });
  });
});
