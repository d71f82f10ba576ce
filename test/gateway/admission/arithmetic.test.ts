/**
 * The arithmetic of admission as table tests: one replica's guaranteed share and memory, a
 * tenant's totals, each node's totals where the placement puts the replicas (replica groups
 * included), and which totals a change breaks (only those it raises).
 */
import { expect } from 'chai';
import type { NodeAgentClient } from '../../../core/contracts/node-agent.ts';
import { PlatformError } from '../../../core/errors.ts';
import { evenSpreadPlacement, type Placement } from '../../../gateway/control/placement.ts';
import { replicaMemory, replicaShare, type AdmissionFunction } from '../../../gateway/admission/footprint.ts';
import { tenantUsage } from '../../../gateway/admission/tenant-usage.ts';
import { nodeUsage } from '../../../gateway/admission/node-usage.ts';
import { exceeds, nodeViolations, tenantViolations } from '../../../gateway/admission/violations.ts';
import { ceilingViolation, labelViolations } from '../../../gateway/admission/function-ceiling.ts';
import { formatValue, refusal } from '../../../gateway/admission/refusal.ts';
import { scaleBounds } from '../../../core/contracts/scale-bounds.ts';

const Q = 'fastgshare/gpu_quota_request';
const P = 'fastgshare/gpu_sm_partition';
const GiB = 2 ** 30;

const fn = (
  name: string,
  replicas: number,
  annotations: Record<string, string> = {},
  memory?: string,
  namespace = 'alice',
): AdmissionFunction => ({ name, namespace, annotations, replicas, ...(memory ? { limits: { memory } } : {}) });
const node = (url: string): NodeAgentClient => ({ url }) as NodeAgentClient;

describe('admission arithmetic', () => {
  describe('one replica', () => {
    const cases: Array<[string, Record<string, string>, string, number]> = [
      ['no annotations: best effort, nothing guaranteed', {}, 'cpu', 0],
      ['request 1, partition 100', { [Q]: '1', [P]: '100' }, 'cpu', 1],
      ['request 1, default partition (100)', { [Q]: '1' }, 'cpu', 1],
      ['request 0.5, partition 50', { [Q]: '0.5', [P]: '50' }, 'cpu', 0.25],
      ['partition only: not token-gated', { [P]: '25' }, 'cpu', 0],
      ['quota limit only: request 0', { 'fastgshare/gpu_quota_limit': '0.5' }, 'cpu', 0],
      [
        'emulated device 1',
        {
          'fastgshare/device': 'emulated',
          'fastgshare/emulated_profile': 'v100-resnet50',
          'fastgshare/emulated_device': '1',
          [Q]: '0.4',
          [P]: '50',
        },
        'emulated:1',
        0.2,
      ],
      [
        'cuda device 2',
        { 'fastgshare/device': 'cuda', 'fastgshare/cuda_device': '2', [Q]: '1', [P]: '30' },
        'cuda:2',
        0.3,
      ],
    ];
    for (const [what, annotations, device, share] of cases) {
      it(what, () => {
        const s = replicaShare(annotations);
        expect(s.deviceId).to.equal(device);
        expect(s.share).to.be.closeTo(share, 1e-12);
      });
    }
    it('refuses bad annotations with a 400 naming the annotation (the node agent parser)', () => {
      for (const bad of [{ [Q]: '2' }, { [Q]: 'half' }, { [P]: '0' }, { [P]: '101' }] as Record<string, string>[]) {
        expect(() => replicaShare(bad))
          .to.throw(PlatformError)
          .with.property('code', 'bad_request');
        expect(() => replicaShare(bad)).to.throw(/annotation fastgshare\//);
      }
    });
    const memCases: Array<[unknown, number]> = [
      [undefined, 0],
      [{}, 0],
      [{ cpu: '1' }, 0],
      [{ memory: '256Mi' }, 256 * 2 ** 20],
      [{ memory: '1Gi' }, GiB],
      [{ memory: '1G' }, 1e9],
      [{ memory: '' }, 0],
    ];
    for (const [limits, bytes] of memCases)
      it(`memory of limits ${JSON.stringify(limits)} is ${bytes}`, () => expect(replicaMemory(limits)).to.equal(bytes));
    it('refuses limits.memory that is not a quantity', () => {
      expect(() => replicaMemory({ memory: 'lots' })).to.throw(/limits.memory/);
      expect(() => replicaMemory({ memory: '-1Gi' })).to.throw(/negative/);
    });
  });

  describe("a tenant's totals", () => {
    const cases: Array<
      [string, AdmissionFunction[], { replicas: number; functions: number; deviceShare: number; memoryBytes: number }]
    > = [
      ['none', [], { replicas: 0, functions: 0, deviceShare: 0, memoryBytes: 0 }],
      [
        '3 × (request 1, partition 100)',
        [fn('a', 3, { [Q]: '1', [P]: '100' })],
        { replicas: 3, functions: 1, deviceShare: 3, memoryBytes: 0 },
      ],
      [
        'two functions with memory',
        [fn('a', 2, { [Q]: '0.5', [P]: '50' }, '512Mi'), fn('b', 4, {}, '1Gi')],
        { replicas: 6, functions: 2, deviceShare: 0.5, memoryBytes: 2 * 512 * 2 ** 20 + 4 * GiB },
      ],
      [
        'a function at zero replicas still counts as a function',
        [fn('a', 0, { [Q]: '1' }, '8Gi')],
        { replicas: 0, functions: 1, deviceShare: 0, memoryBytes: 0 },
      ],
    ];
    for (const [what, fns, expected] of cases) it(what, () => expect(tenantUsage(fns)).to.deep.equal(expected));
  });

  describe("each node's totals", () => {
    const n1 = node('http://n1');
    const n2 = node('http://n2');
    it('puts every replica on the one node: shares per device, memory per node', () => {
      const u = nodeUsage(
        [
          fn('a', 3, { [Q]: '0.2', [P]: '50' }, '1Gi'),
          fn('b', 1, { 'fastgshare/device': 'cuda', [Q]: '1' }, '2Gi', 'bob'),
        ],
        [n1],
        evenSpreadPlacement,
      );
      expect(u.get('http://n1')!.memoryBytes).to.equal(5 * GiB);
      expect(u.get('http://n1')!.devices.get('cpu')).to.be.closeTo(0.3, 1e-12);
      expect(u.get('http://n1')!.devices.get('cuda:0')).to.equal(1);
    });
    it('spreads replicas over two nodes as the placement does', () => {
      const u = nodeUsage([fn('a', 3, { [Q]: '1', [P]: '50' }, '1Gi')], [n1, n2], evenSpreadPlacement);
      const shares = [...u.values()].map((x) => x.devices.get('cpu') ?? 0).sort();
      expect(shares).to.deep.equal([0.5, 1]);
      expect([...u.values()].reduce((a, x) => a + x.memoryBytes, 0)).to.equal(3 * GiB);
    });
    it("reads each replica group's configuration and device (the auto-scaler's plan)", () => {
      const planned: Placement = {
        place: (_f, nodes) => new Map([[nodes[0]!, 2]]),
        groups: () => [
          { replicas: 1, annotations: { 'fastgshare/emulated_device': '0', [P]: '100', [Q]: '1' } },
          { replicas: 1, annotations: { 'fastgshare/emulated_device': '1', [P]: '100', [Q]: '1' } },
        ],
      };
      const u = nodeUsage(
        [
          fn('twodev', 2, {
            'fastgshare/device': 'emulated',
            'fastgshare/emulated_profile': 'v100-resnet50',
            [Q]: '1',
            [P]: '100',
          }),
        ],
        [n1],
        planned,
      );
      expect(Object.fromEntries(u.get('http://n1')!.devices)).to.deep.equal({ emulated: 1, 'emulated:1': 1 });
    });
    it('has no nodes to fill when none answers', () =>
      expect(nodeUsage([fn('a', 3, { [Q]: '1' })], [], evenSpreadPlacement).size).to.equal(0));
  });

  describe('which limits a change breaks', () => {
    const cases: Array<[string, number, number, number, boolean]> = [
      ['within', 20, 19, 4, false],
      ['at the limit', 20, 20, 4, false],
      ['over and rising', 20, 21, 4, true],
      ['over but falling (an admin lowered the limit)', 20, 25, 30, false],
      ['over and unchanged', 20, 25, 25, false],
      ['float sums at 1: 0.1 + 0.2 + 0.7', 1, 0.1 + 0.2 + 0.7, 0.3, false],
      ['1000 replicas', 32, 1000, 1, true],
    ];
    for (const [what, value, requested, current, refused] of cases)
      it(what, () => expect(exceeds(value, requested, current)).to.equal(refused));

    it("names the tenant's limit, its value, the total asked for and how to get more", () => {
      const limits = { replicas: 20, functions: 20, deviceShare: 1, memoryBytes: 8 * GiB };
      const v = tenantViolations(
        'alice',
        limits,
        { replicas: 1, functions: 1, deviceShare: 1, memoryBytes: 0 },
        { replicas: 2, functions: 1, deviceShare: 2, memoryBytes: 0 },
        formatValue,
      );
      expect(v.map((x) => x.limit)).to.deep.equal(['tenant.deviceShare']);
      const e = refusal('scale function "a" in namespace "alice" to 2 replicas', v);
      expect(e.code).to.equal('limit_exceeded');
      expect(e.status).to.equal(403);
      expect(e.message)
        .to.contain('tenant "alice"')
        .and.contain('tenant.deviceShare')
        .and.contain('is 1 device')
        .and.contain('needs 2 device')
        .and.contain('fastgshare tenant limits alice --device-share 2');
    });
    it('names the node, the device and the numbers', () => {
      const before = new Map([['u', { memoryBytes: 6 * GiB, devices: new Map([['cpu', 1]]) }]]);
      const after = new Map([['u', { memoryBytes: 9 * GiB, devices: new Map([['cpu', 2]]) }]]);
      const v = nodeViolations(new Map([['u', { name: 'node-a', memoryBytes: 8 * GiB }]]), before, after);
      expect(v.map((x) => x.limit)).to.deep.equal(['node.deviceShare', 'node.memoryBytes']);
      const msg = refusal('deploy', v).message;
      expect(msg)
        .to.contain('node "node-a" device "cpu"')
        .and.contain('is 1 device')
        .and.contain('needs 2 device')
        .and.contain('(now 1 device');
      expect(msg).to.contain('node "node-a" memory').and.contain('is 8Gi').and.contain('needs 9Gi');
      // a node whose memory is unknown is checked for its devices only
      expect(nodeViolations(new Map([['u', { name: 'node-a' }]]), before, after).map((x) => x.limit)).to.deep.equal([
        'node.deviceShare',
      ]);
    });
    it('holds the per-function ceiling for a scale request and for the scale labels', () => {
      expect(ceilingViolation('f', 32, 1, 32)).to.equal(undefined);
      expect(ceilingViolation('f', 1000, 1, 32)).to.include({ limit: 'function.replicas', value: 32, requested: 1000 });
      const labels = { 'com.openfaas.scale.min': '40', 'com.openfaas.scale.max': '100' };
      expect(labelViolations('f', labels, scaleBounds(labels), 0, 32).map((v) => v.scope)).to.deep.equal([
        'function "f" label com.openfaas.scale.min',
        'function "f" label com.openfaas.scale.max',
      ]);
      // no max label: the default maximum is not the caller's ask
      expect(labelViolations('f', {}, scaleBounds({}), 0, 32)).to.deep.equal([]);
    });
  });
});
