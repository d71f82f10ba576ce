/**
 * `timeline <device> [--node N] [--since 10s] [-o timeline.html]` (admin): reads the device's
 * token and batch events from the gateway (GET /system/devices/:node/:device/timeline) and saves
 * them as a self-contained HTML page with inline SVG (fast-manager/timeline/page.ts): one lane per
 * replica, Σ partition running over time, and the waste accounting, which it also prints.
 * Without --node, the one node that has the device (GET /system/devices) is used.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { PlatformError } from '../../core/errors.ts';
import type { DeviceTimeline, NodeDevice } from '../../core/contracts/node-agent.ts';
import { gatewayOptions, type CommandContext, type GatewayOptions } from '../context.ts';
import { parseDuration, table } from '../format.ts';
import { callSystem } from './tenant.ts';
import { timelinePage } from '../../fast-manager/timeline/page.ts';
import { wasteOf, wasteShares } from '../../fast-manager/timeline/waste.ts';

export function registerTimeline(program: Command, ctx: CommandContext): void {
  gatewayOptions(
    program
      .command('timeline <device>')
      .description("a device's token and batch timeline as an HTML page, with where its time went (admin)")
      .option('--node <name>', 'the node (default: the only node with this device)')
      .option('--since <duration>', 'how far back: 10s, 500ms, 2m (default 10s)', '10s')
      .option('-o, --output <file>', 'the page to write', 'timeline.html'),
  ).action(async (device: string, o: GatewayOptions & { node?: string; since: string; output: string }) => {
    const lastMs = parseDuration(o.since);
    if (lastMs === undefined || lastMs <= 0)
      throw new PlatformError('bad_request', `--since must be a duration such as 10s, 500ms or 2m, got "${o.since}"`);
    let node = o.node;
    if (!node) {
      const nodes = (await (await callSystem(ctx, o, 'GET', '/system/devices')).json()) as {
        node: string;
        devices: NodeDevice[];
      }[];
      const having = nodes.filter((n) => n.devices.some((d) => d.id === device));
      if (having.length !== 1) {
        throw new PlatformError(
          'bad_request',
          having.length === 0
            ? `no node has device "${device}"; devices: ${nodes.map((n) => `${n.node}: ${n.devices.map((d) => d.id).join(', ')}`).join('; ') || 'no nodes answer'}`
            : `device "${device}" is on several nodes (${having.map((n) => n.node).join(', ')}): pick one with --node`,
        );
      }
      node = having[0]!.node;
    }
    const res = await callSystem(
      ctx,
      o,
      'GET',
      `/system/devices/${encodeURIComponent(node)}/${encodeURIComponent(device)}/timeline`,
      { query: { last: String(lastMs) } },
    );
    const tl = (await res.json()) as DeviceTimeline;
    const file = resolve(ctx.cli.cwd, o.output);
    await writeFile(file, timelinePage(tl, { node }));
    const w = wasteOf(tl);
    const s = wasteShares(w);
    const pc = (v: number) => `${(100 * v).toFixed(1)} %`;
    ctx.io.stdout.write(
      `Device ${device} on ${node}: ${tl.events.length} events over ${(w.windowMs / 1000).toFixed(1)} s\n` +
        table(
          ['MEASURE', 'SHARE'],
          [
            ['busy', pc(s.busy)],
            ['utilisation', pc(s.utilisation)],
            ['idle with work waiting', pc(s.idleWithWorkWaiting)],
            ['grant hand-over', pc(s.handover)],
            ['held, no batch (of held)', s.heldIdleOfHeld === undefined ? 'n/a' : pc(s.heldIdleOfHeld)],
          ],
        ) +
        `Timeline saved: ${file}\n`,
    );
  });
}
