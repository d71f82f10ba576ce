/**
 * bench:sharing, noisy neighbour (issue 13 item 4): on one emulated device a victim function driven
 * at a fixed rate its guaranteed share can hold, beside an aggressor driven closed-loop far above
 * its share (several replicas at a large partition). Per mode: the victim's SLO attainment and p99,
 * and the aggressor's items/s. The point of sharing: the victim keeps its SLO while racing does
 * not, and the aggressor still gets the device time the victim leaves unused.
 */
import { emulatedDeviceId } from '../../core/contracts/devices.ts';
import { closedLoop, fixedRateStep } from './sharing-load.ts';
import { saveTimelines, startBenchNode, type BuiltStack, type ReplicaShare } from './sharing-node.ts';

export type IsolationMode = 'racing' | 'time-sharing' | 'spatio-temporal';

export interface IsolationResult {
  mode: IsolationMode;
  victimRate: number;
  victimAttainment: number;
  victimP99Ms: number;
  /** Share of the victim's requests its replica refused (429, expected to miss the SLO). */
  victimShed: number;
  aggressorItemsPerS: number;
}

/** The set-up, printed with the table. */
export const ISOLATION_SETUP = {
  victim: { from: 'resnet50', share: { request: 0.5, limit: 1, partition: 50 } as ReplicaShare, rate: 20 },
  aggressor: {
    from: 'bert',
    replicas: 3,
    share: { request: 0.15, limit: 1, partition: 100 } as ReplicaShare,
    clients: 8,
  },
  durationS: 6,
};

function shareIn(mode: IsolationMode, s: ReplicaShare): ReplicaShare {
  if (mode === 'racing') return { partition: s.partition };
  if (mode === 'time-sharing') return { ...s, partition: 100 };
  return s;
}

export async function isolationRun(built: BuiltStack, mode: IsolationMode): Promise<IsolationResult> {
  const { victim, aggressor, durationS } = ISOLATION_SETUP;
  const node = await startBenchNode(built, mode === 'time-sharing');
  try {
    await node.deploy('victim', victim.from, shareIn(mode, victim.share));
    const names = ['victim'];
    for (let i = 0; i < aggressor.replicas; i++) {
      names.push(`aggressor-${i}`);
      await node.deploy(`aggressor-${i}`, aggressor.from, shareIn(mode, aggressor.share));
    }
    const urls = await node.ready(names);
    const item = Buffer.from('an item');
    const type = 'application/octet-stream';
    const sloMs = Number(built.stack.spec.functions[victim.from]!.annotations!['fastgshare/slo_ms']);
    const victimTarget = {
      url: `${urls.victim}/`,
      body: item,
      contentType: type,
      rate: victim.rate,
      sloMs,
      group: 'victim',
    };
    await fixedRateStep([victimTarget], 1); // warm up
    const [v, ...agg] = await Promise.all([
      fixedRateStep([victimTarget], durationS),
      ...names.slice(1).map((n) => closedLoop(`${urls[n]}/`, item, type, aggressor.clients, durationS)),
    ]);
    if (process.env.BENCH_TIMELINE_DIR)
      await saveTimelines(`isolation-${mode}`, [await node.timeline(emulatedDeviceId(0), durationS * 1000)]);
    return {
      mode,
      victimRate: victim.rate,
      victimAttainment: v.attainment,
      victimP99Ms: v.p99,
      victimShed: v.sent ? v.groups.victim!.shed / v.sent : 0,
      aggressorItemsPerS: agg.reduce((a, r) => a + r.rps, 0),
    };
  } finally {
    await node.close();
  }
}
