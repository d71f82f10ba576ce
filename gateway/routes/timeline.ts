/**
 * Device timelines of the nodes (fast-manager/timeline/), for the admin only (a tenant gets 403
 * from the tenant scope: these routes are not in TENANT_ROUTES; they show every tenant's replicas).
 *   GET /system/devices                                   [{node, url, devices}] every node's devices
 *   GET /system/devices/:node/:device/timeline?since=&last=   the agent's DeviceTimeline, unchanged
 * `since` is the agent's clock (ms, a previous answer's window.to); `last` the last N ms.
 */
import { Router } from 'express';
import type { NodeAgentClient, NodeDevice } from '../../core/contracts/node-agent.ts';
import { PlatformError } from '../../core/errors.ts';
import { readTimelineQuery } from '../../core/contracts/timeline-query.ts';

export function createTimelineRoutes(d: { nodes: NodeAgentClient[] }): Router {
  const r = Router();
  const infos = async () => {
    const answers = await Promise.allSettled(d.nodes.map(async (n) => ({ client: n, info: await n.info() })));
    return answers.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
  };
  r.get('/system/devices', async (_req, res) => {
    const out: { node: string; url: string; devices: NodeDevice[] }[] = [];
    for (const { client, info } of await infos())
      out.push({ node: info.name, url: client.url, devices: info.devices ?? [] });
    res.json(out);
  });
  r.get('/system/devices/:node/:device/timeline', async (req, res) => {
    const query = readTimelineQuery(req.query as Record<string, unknown>);
    const all = await infos();
    const node = all.find((x) => x.info.name.toLowerCase() === req.params.node!.toLowerCase());
    if (!node)
      throw new PlatformError(
        'not_found',
        `node "${req.params.node}" is not known or does not answer; nodes: ${all.map((x) => x.info.name).join(', ') || 'none'} (GET /system/devices lists them)`,
      );
    if (!node.client.timeline)
      throw new PlatformError('not_implemented', `node "${node.info.name}" does not serve timelines`);
    res.json(await node.client.timeline(req.params.device!, query));
  });
  return r;
}
