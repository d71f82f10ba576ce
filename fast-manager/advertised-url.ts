/**
 * The URL the gateway uses to reach this node: FASTGSHARE_NODE_URL when it was given; otherwise
 * (the config default names port 0 when the agent listens on any free port) the listening host
 * with the port actually bound.
 */
import type { NodeConfig } from '../core/config.ts';

export function advertisedUrl(config: Pick<NodeConfig, 'advertiseUrl' | 'host'>, boundPort: number): string {
  const given = new URL(config.advertiseUrl);
  if (given.port !== '0') return config.advertiseUrl.replace(/\/$/, '');
  const listenHost = ['0.0.0.0', '::', ''].includes(config.host) ? '127.0.0.1' : config.host;
  // the default names 127.0.0.1; an explicit host (with port 0) is kept
  const host = given.hostname === '127.0.0.1' ? listenHost : given.hostname.replace(/^\[|\]$/g, '');
  return `${given.protocol}//${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
}
