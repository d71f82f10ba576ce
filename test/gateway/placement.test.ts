/** The even-spread placement and the least-outstanding balancer (pure logic). */
import { expect } from 'chai';
import type { NodeAgentClient, ReplicaStatus } from '../../core/contracts/node-agent.ts';
import { evenSpreadPlacement } from '../../gateway/control/placement.ts';
import { clampReplicas, scaleBounds } from '../../core/contracts/scale-bounds.ts';
import { createLeastOutstandingBalancer } from '../../gateway/proxy/balancer.ts';

const node = (url: string) => ({ url }) as NodeAgentClient;
const counts = (m: Map<NodeAgentClient, number>) => Object.fromEntries([...m].map(([n, c]) => [n.url, c]));

describe('even-spread placement', () => {
  const nodes = [node('http://c'), node('http://a'), node('http://b')];

  it('spreads replicas evenly, the total always matching', () => {
    for (let r = 0; r <= 10; r++) {
      const m = evenSpreadPlacement.place({ name: 'fn', namespace: 'ns', replicas: r }, nodes);
      const values = [...m.values()];
      expect(values.reduce((a, b) => a + b, 0)).to.equal(r);
      if (values.length)
        expect(Math.max(...values) - Math.min(...values.concat(values.length < 3 ? [0] : []))).to.be.at.most(1);
    }
  });

  it('is deterministic and independent of node order', () => {
    const a = counts(evenSpreadPlacement.place({ name: 'fn', namespace: 'ns', replicas: 4 }, nodes));
    const b = counts(evenSpreadPlacement.place({ name: 'fn', namespace: 'ns', replicas: 4 }, [...nodes].reverse()));
    expect(a).to.deep.equal(b);
  });

  it('puts single replicas of different functions on different nodes', () => {
    const used = new Set<string>();
    for (let i = 0; i < 30; i++)
      for (const n of evenSpreadPlacement.place({ name: `fn${i}`, namespace: 'ns', replicas: 1 }, nodes).keys())
        used.add(n.url);
    expect(used.size).to.equal(3);
  });

  it('places nothing without nodes', () => {
    expect(evenSpreadPlacement.place({ name: 'fn', namespace: 'ns', replicas: 3 }, []).size).to.equal(0);
  });
});

describe('scale bounds', () => {
  it('reads com.openfaas.scale.min/max with min 1 by default and clamps', () => {
    expect(scaleBounds({})).to.deep.equal({ min: 1, max: 1000 });
    const b = scaleBounds({ 'com.openfaas.scale.min': '2', 'com.openfaas.scale.max': '4' });
    expect([0, 3, 9].map((r) => clampReplicas(r, b))).to.deep.equal([2, 3, 4]);
    expect(scaleBounds({ 'com.openfaas.scale.min': '0' }).min).to.equal(0);
    expect(() => scaleBounds({ 'com.openfaas.scale.min': '5', 'com.openfaas.scale.max': '2' })).to.throw(
      /greater than/,
    );
    expect(() => scaleBounds({ 'com.openfaas.scale.max': '-1' })).to.throw(/whole number/);
  });
});

describe('least-outstanding balancer', () => {
  const r = (id: string) => ({ id }) as ReplicaStatus;

  it('prefers the replica with fewer calls in flight and takes turns on ties', () => {
    const b = createLeastOutstandingBalancer();
    const reps = [r('a'), r('b'), r('c')];
    const firstRound = [0, 1, 2].map(() => b.pick('fn', reps).id);
    expect(new Set(firstRound).size).to.equal(3);
    const endA = b.begin('a');
    b.begin('b');
    expect(b.pick('fn', reps).id).to.equal('c');
    b.begin('c');
    endA();
    expect(b.pick('fn', reps).id).to.equal('a');
    endA(); // a second call of the same end is ignored
    const again = b.pick('fn', reps).id;
    expect(again).to.equal('a');
  });
});
