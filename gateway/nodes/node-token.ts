/**
 * How a gateway (or any other client of the node agents) gets the agents' API token: the one
 * configured (FASTGSHARE_NODE_TOKEN / _FILE, for agents on other hosts), else the file an agent on
 * the same data dir made at its first start. The file is read when first needed and again after
 * a failed read, so a gateway may start before its agent.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_TOKEN_FILE } from '../../core/contracts/node-agent.ts';
import { PlatformError } from '../../core/errors.ts';

/** Gives the token to send; throws PlatformError 'unavailable' when there is none yet. */
export type NodeCredential = () => string;

export function nodeCredential(config: { nodeToken?: string; dataDir: string }): NodeCredential {
  if (config.nodeToken) {
    const t = config.nodeToken;
    return () => t;
  }
  const file = join(config.dataDir, NODE_TOKEN_FILE);
  let cached: string | undefined;
  return () => {
    if (cached) return cached;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new PlatformError(
        'unavailable',
        `no node agent token: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no agent has run on this data dir yet' : (err as Error).message}; ` +
          "start the node agent with the same FASTGSHARE_DATA_DIR, or set FASTGSHARE_NODE_TOKEN (or FASTGSHARE_NODE_TOKEN_FILE) to the agents' token",
      );
    }
    cached = text.trim() || undefined;
    if (!cached)
      throw new PlatformError(
        'unavailable',
        'the node agent token file is empty; delete it and restart the node agent',
      );
    return cached;
  };
}
