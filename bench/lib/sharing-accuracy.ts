/**
 * bench:sharing, share accuracy (issue 13 item 5): two saturated replicas at partition 100 with
 * requests = limits (10/90, 30/70, 50/50) on one device; the achieved share of each is its token
 * time over the measured span, read from the agent's device timeline.
 */
import { wasteOf } from '../../fast-manager/timeline/waste.ts';
import { closedLoop } from './sharing-load.ts';
import { startBenchNode, type BuiltStack } from './sharing-node.ts';

export interface AccuracyRow {
  device: string;
  configured: [number, number];
  achieved: [number, number];
  /** Largest |achieved − configured| in points of 100. */
  errorPoints: number;
}

export const ACCURACY_SPLITS: [number, number][] = [
  [0.1, 0.9],
  [0.3, 0.7],
  [0.5, 0.5],
];

/** `device`: 'emulated' or 'cpu'; `fn` a function of `built`'s stack that runs on it; `body` its input. */
export async function accuracyRun(
  built: BuiltStack,
  device: string,
  fn: string,
  body: Buffer,
  contentType: string,
  durationS = 5,
): Promise<AccuracyRow[]> {
  const rows: AccuracyRow[] = [];
  // Saturated means work queued whenever a batch ends: twice the largest batch (16) in flight on the emulated device.
  // With 8 clients a replica that batched all 8 at once had nothing queued until they were answered and sent again,
  // and the pair's token time fell below 100 % of the span for want of work (not of tokens). The cpu device keeps 8:
  // more clients only load the two cores the replicas run on.
  const clients = device === 'cpu' ? 8 : 32;
  for (const [a, b] of ACCURACY_SPLITS) {
    const node = await startBenchNode(built, false);
    try {
      await node.deploy('share-a', fn, { request: a, limit: a, partition: 100 });
      await node.deploy('share-b', fn, { request: b, limit: b, partition: 100 });
      const urls = await node.ready(['share-a', 'share-b']);
      await Promise.all([
        closedLoop(`${urls['share-a']}/`, body, contentType, clients, 1),
        closedLoop(`${urls['share-b']}/`, body, contentType, clients, 1),
      ]);
      await Promise.all([
        closedLoop(`${urls['share-a']}/`, body, contentType, clients, durationS),
        closedLoop(`${urls['share-b']}/`, body, contentType, clients, durationS),
      ]);
      const w = wasteOf(await node.timeline(device, (durationS - 1) * 1000));
      const idA = (await node.replicas('share-a'))[0]?.id;
      const idB = (await node.replicas('share-b'))[0]?.id;
      const held = (id?: string) => w.replicas.find((r) => r.replica === id)?.heldMs ?? 0;
      const span = w.windowMs || 1;
      const achieved: [number, number] = [held(idA) / span, held(idB) / span];
      rows.push({
        device,
        configured: [a, b],
        achieved,
        errorPoints: Math.max(Math.abs(achieved[0] - a), Math.abs(achieved[1] - b)) * 100,
      });
    } finally {
      await node.close();
    }
  }
  return rows;
}
