/**
 * Replica groups on a real node agent with real echo replicas (cpu device): two groups with
 * different partitions run at once, each replica with its own group's device environment;
 * changing one group's configuration rolls only that group; scaling one group leaves the other
 * alone; a quota change moves replicas without a restart; bad groups are 400s naming the field.
 * Plus the devices the node reports.
 */
import { expect } from 'chai';
import { makeSpec, pidAlive, readRecords, useAgentHarness, waitFor } from './harness.ts';
import { validateApply } from '../../fast-manager/apply/request.ts';
import type { PlatformError } from '../../core/errors.ts';
import type {
  ApplyFunctionRequest,
  FunctionReplicas,
  NodeInfo,
  ReplicaGroup,
  ReplicaStatus,
} from '../../core/contracts/node-agent.ts';

const P = 'fastgshare/gpu_sm_partition';
const B = 'fastgshare/max_batch';
const Q = 'fastgshare/gpu_quota_request';
const base = { 'fastgshare/device': 'cpu', [P]: '50', 'fastgshare/slo_ms': '100' };

describe('fast-manager: replica groups (per-replica configurations)', function () {
  this.timeout(40_000);
  const ctx = useAgentHarness();

  const put = (name: string, groups: ReplicaGroup[] | undefined, annotations: Record<string, string> = base) => {
    const req: ApplyFunctionRequest = {
      spec: makeSpec({ name, annotations }),
      replicas: (groups ?? []).reduce((a, g) => a + g.replicas, 0),
      ...(groups ? { groups } : {}),
    };
    return ctx.h.call<FunctionReplicas & { message: string; code: string }>(
      'PUT',
      `/v1/functions/openfaas-fn/${name}`,
      req,
    );
  };
  const apply = async (name: string, groups: ReplicaGroup[] | undefined, annotations?: Record<string, string>) => {
    const res = await put(name, groups, annotations);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  };
  /** Waits until the function runs exactly `counts` ready replicas per group key. */
  const settle = (name: string, counts: Record<string, number>) =>
    waitFor(
      `replicas of ${name} per group ${JSON.stringify(counts)}`,
      async () => {
        const f = await ctx.h.fn(name);
        if (!f || !f.replicas.every((r) => r.state === 'ready')) return undefined;
        const seen: Record<string, number> = {};
        for (const r of f.replicas) seen[r.group?.key ?? '-'] = (seen[r.group?.key ?? '-'] ?? 0) + 1;
        return JSON.stringify(seen, Object.keys(seen).sort()) === JSON.stringify(counts, Object.keys(counts).sort())
          ? f
          : undefined;
      },
      15_000,
    );
  const env = async (r: ReplicaStatus) => (await (await fetch(`${r.url}/env`)).json()) as Record<string, string>;

  it("reports the node's devices: one cpu device and one emulated device (by default)", async () => {
    const info = await ctx.h.call<NodeInfo>('GET', '/v1/node');
    expect(info.body.devices?.map(({ memoryBytes: _m, ...d }) => d)).to.deep.equal([
      { id: 'cpu', kind: 'cpu', index: 0 },
      { id: 'emulated', kind: 'emulated', index: 0 },
    ]);
    expect(info.body.devices?.[0]?.memoryBytes).to.equal(info.body.memoryBytes);
  });

  it('refuses groups that do not add up, repeat, override other annotations or carry bad values', async () => {
    const cases: [ApplyFunctionRequest['groups'], number, string, RegExp][] = [
      [
        [
          { replicas: 1, annotations: {} },
          { replicas: 1, annotations: { [P]: '25' } },
        ],
        3,
        'groups',
        /add up to 2, but replicas is 3/,
      ],
      [
        [
          { replicas: 1, annotations: { [P]: '25' } },
          { replicas: 1, annotations: { [P]: '25' } },
        ],
        2,
        'groups[1]',
        /same annotations as groups\[0\]/,
      ],
      [
        [{ replicas: 1, annotations: { 'fastgshare/device': 'emulated' } }],
        1,
        'groups[0].annotations.fastgshare/device',
        /cannot differ between replicas/,
      ],
      [
        [
          { replicas: 1, annotations: {} },
          { replicas: 1, annotations: { [P]: '250' } },
        ],
        2,
        'groups[1].annotations.fastgshare/gpu_sm_partition',
        /groups\[1\]: annotation fastgshare\/gpu_sm_partition: 250 is out of range/,
      ],
      [
        [{ replicas: 1, annotations: { [Q]: '0.8', 'fastgshare/gpu_quota_limit': '0.5' } }],
        1,
        'groups[0].annotations.fastgshare/gpu_quota_limit',
        /below/,
      ],
    ];
    for (const [groups, replicas, field, message] of cases) {
      const res = await ctx.h.call<{ code: string; message: string; details?: { field?: string } }>(
        'PUT',
        '/v1/functions/openfaas-fn/bad',
        { spec: makeSpec({ name: 'bad', annotations: base }), replicas, groups },
      );
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(res.body.message).to.match(message);
      expect(res.body.message.startsWith(field.replace(/\.annotations\..*$/, ''))).to.equal(true);
      // the error names the field (details.field, for clients of the validation)
      const err = (() => {
        try {
          validateApply(
            { spec: makeSpec({ name: 'bad', annotations: base }), replicas, groups },
            { namespace: 'openfaas-fn', name: 'bad' },
          );
        } catch (e) {
          return e as PlatformError;
        }
      })();
      expect(err?.details?.field).to.equal(field);
    }
    expect(await ctx.h.fn('bad')).to.equal(undefined);
  });

  it('runs two groups with different partitions at once, each replica with its own device environment', async () => {
    const first = await apply('duo', [
      { replicas: 2, annotations: { [P]: '50' } },
      { replicas: 1, annotations: { [P]: '25', [B]: '4' } },
    ]);
    expect(first.desired).to.equal(3);
    expect(first.groups).to.deep.equal([
      { key: `${P}=50`, annotations: { [P]: '50' }, desired: 2 },
      { key: `${P}=25,${B}=4`, annotations: { [P]: '25', [B]: '4' }, desired: 1 },
    ]);
    const f = await settle('duo', { [`${P}=50`]: 2, [`${P}=25,${B}=4`]: 1 });
    for (const r of f.replicas) {
      const e = await env(r);
      if (r.group!.key === `${P}=50`) {
        expect(e.FASTGSHARE_PARTITION).to.equal('50');
        expect(e.FASTGSHARE_MAX_BATCH).to.equal(undefined);
      } else {
        expect(e.FASTGSHARE_PARTITION).to.equal('25');
        expect(e.FASTGSHARE_MAX_BATCH).to.equal('4');
      }
      expect(e.FASTGSHARE_DEVICE).to.equal('cpu');
      expect(e.FASTGSHARE_SLO_MS).to.equal('100'); // from the spec, under every group
    }
    // durable records: one per replica
    await waitFor(
      'records',
      async () => (await readRecords(ctx.h.dataDir)).filter((r) => r.name === 'duo').length === 3,
    );
  });

  it('rolls only the group whose configuration changed, and scales one group without touching the other', async () => {
    const before = await settle('duo', { [`${P}=50`]: 2, [`${P}=25,${B}=4`]: 1 });
    const main = before.replicas.filter((r) => r.group!.key === `${P}=50`);
    const residual = before.replicas.find((r) => r.group!.key !== `${P}=50`)!;
    await apply('duo', [
      { replicas: 2, annotations: { [P]: '50' } },
      { replicas: 1, annotations: { [P]: '10', [B]: '4' } },
    ]);
    const rolled = await settle('duo', { [`${P}=50`]: 2, [`${P}=10,${B}=4`]: 1 });
    const kept = rolled.replicas.filter((r) => r.group!.key === `${P}=50`);
    expect(kept.map((r) => [r.id, r.pid])).to.deep.equal(main.map((r) => [r.id, r.pid]));
    const fresh = rolled.replicas.find((r) => r.group!.key === `${P}=10,${B}=4`)!;
    expect(fresh.id).to.not.equal(residual.id);
    expect((await env(fresh)).FASTGSHARE_PARTITION).to.equal('10');
    await waitFor('old residual gone', () => !pidAlive(residual.pid!));

    // scale the main group only
    await apply('duo', [
      { replicas: 3, annotations: { [P]: '50' } },
      { replicas: 1, annotations: { [P]: '10', [B]: '4' } },
    ]);
    const scaled = await settle('duo', { [`${P}=50`]: 3, [`${P}=10,${B}=4`]: 1 });
    expect(scaled.replicas.find((r) => r.group!.key === `${P}=10,${B}=4`)!.pid).to.equal(fresh.pid);
    expect(scaled.replicas.filter((r) => r.group!.key === `${P}=50`).map((r) => r.id)).to.include.members(
      kept.map((r) => r.id),
    );
    await apply('duo', [
      { replicas: 1, annotations: { [P]: '50' } },
      { replicas: 1, annotations: { [P]: '10', [B]: '4' } },
    ]);
    const down = await settle('duo', { [`${P}=50`]: 1, [`${P}=10,${B}=4`]: 1 });
    expect(down.replicas.find((r) => r.group!.key === `${P}=10,${B}=4`)!.pid).to.equal(fresh.pid);
    expect(down.replicas.find((r) => r.group!.key === `${P}=50`)!.id).to.equal(kept[0]!.id); // the newest went first
  });

  it('keeps the old replica of a changed group serving until its successor is ready', async () => {
    // replicas take 700 ms to pass their health check
    const slow = (p25: string): ApplyFunctionRequest => ({
      spec: makeSpec({ name: 'slowroll', annotations: base, envVars: { STARTUP_DELAY_MS: '700' } }),
      replicas: 2,
      groups: [
        { replicas: 1, annotations: { [P]: '50' } },
        { replicas: 1, annotations: { [P]: p25 } },
      ],
    });
    expect((await ctx.h.call('PUT', '/v1/functions/openfaas-fn/slowroll', slow('25'))).status).to.equal(200);
    const before = await settle('slowroll', { [`${P}=50`]: 1, [`${P}=25`]: 1 });
    const old = before.replicas.find((r) => r.group!.key === `${P}=25`)!;
    expect((await ctx.h.call('PUT', '/v1/functions/openfaas-fn/slowroll', slow('20'))).status).to.equal(200);
    // until the 20 % replica is ready, the 25 % one keeps serving; the 50 % one is never touched
    let sawBoth = false;
    const violations: string[] = [];
    const mainPids = JSON.stringify(before.replicas.filter((r) => r.group!.key === `${P}=50`).map((r) => r.pid));
    await waitFor(
      'the new replica ready and the old one gone',
      async () => {
        const f = (await ctx.h.fn('slowroll'))!;
        const fresh = f.replicas.find((r) => r.group!.key === `${P}=20`);
        const stillOld = f.replicas.find((r) => r.id === old.id);
        if ((!fresh || fresh.state !== 'ready') && stillOld?.state !== 'ready')
          violations.push(
            `old replica ${stillOld?.state ?? 'gone'} while the new one is ${fresh?.state ?? 'not started'}`,
          );
        if (JSON.stringify(f.replicas.filter((r) => r.group!.key === `${P}=50`).map((r) => r.pid)) !== mainPids)
          violations.push('the 50 % group changed');
        if (fresh && stillOld) sawBoth = true;
        return fresh?.state === 'ready' && !stillOld ? true : undefined;
      },
      15_000,
      50,
    );
    expect(violations).to.deep.equal([]);
    expect(sawBoth).to.equal(true);
  });

  it('moves a replica to a group that differs only in quota without a restart', async () => {
    const quota = (q: string): ReplicaGroup[] => [
      { replicas: 1, annotations: { [P]: '50', [Q]: '0.5' } },
      { replicas: 1, annotations: { [P]: '25', [Q]: q } },
    ];
    await apply('quota', quota('0.3'));
    const a = await settle('quota', { [`${Q}=0.5,${P}=50`]: 1, [`${Q}=0.3,${P}=25`]: 1 });
    // each replica holds its own group's share on the node's token scheduler
    const shares = async () => {
      const u = (
        await ctx.h.call<{ replicas: { replicaId: string; share: { quotaRequest: number; partition: number } }[] }>(
          'GET',
          '/v1/usage',
        )
      ).body;
      return Object.fromEntries(
        u.replicas
          .filter((r) => a.replicas.some((x) => x.id === r.replicaId))
          .map((r) => [r.share.partition, r.share.quotaRequest]),
      );
    };
    const both = await waitFor('both shares', async () => {
      const x = await shares();
      return x[25] !== undefined && x[50] !== undefined ? x : undefined;
    });
    expect(both).to.deep.equal({ 25: 0.3, 50: 0.5 });
    await apply('quota', quota('0.2'));
    const b = await settle('quota', { [`${Q}=0.5,${P}=50`]: 1, [`${Q}=0.2,${P}=25`]: 1 });
    expect(b.replicas.map((r) => [r.id, r.pid])).to.deep.equal(a.replicas.map((r) => [r.id, r.pid]));
    expect(b.replicas.find((r) => r.group!.key.startsWith(`${Q}=0.2`))!.group!.annotations).to.deep.equal({
      [P]: '25',
      [Q]: '0.2',
    });
    expect(await shares()).to.deep.equal({ 25: 0.2, 50: 0.5 }); // the new quota, live
  });

  it('goes back to one configuration without groups: replicas already running it stay', async () => {
    const before = await settle('duo', { [`${P}=50`]: 1, [`${P}=10,${B}=4`]: 1 });
    const same = before.replicas.find((r) => r.group!.key === `${P}=50`)!; // the spec's partition is 50
    const plain: ApplyFunctionRequest = { spec: makeSpec({ name: 'duo', annotations: base }), replicas: 2 };
    const body = (await ctx.h.call<FunctionReplicas>('PUT', '/v1/functions/openfaas-fn/duo', plain)).body;
    expect(body.groups).to.equal(undefined);
    const f = await waitFor(
      'two plain replicas',
      async () => {
        const x = await ctx.h.fn('duo');
        return x && x.replicas.length === 2 && x.replicas.every((r) => r.state === 'ready' && r.group === undefined)
          ? x
          : undefined;
      },
      15_000,
    );
    for (const r of f.replicas) expect((await env(r)).FASTGSHARE_PARTITION).to.equal('50');
    expect(f.replicas.find((r) => r.id === same.id)?.pid).to.equal(same.pid);
    const other = before.replicas.find((r) => r.id !== same.id)!;
    await waitFor('the 10 % replica gone', () => !pidAlive(other.pid!));
  });
});
