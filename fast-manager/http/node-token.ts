/**
 * The node agent's API credential: the one configured (FASTGSHARE_NODE_TOKEN / _FILE, for gateways
 * on other hosts), else the token in `<dataDir>/node-agent.token`, made at first start from 32
 * random bytes (hex). The file is created 0600 under a temporary name and linked into place, so a
 * reader never sees it half-written and two agents starting at once end up with the same token; a
 * file that others can read is tightened to 0600 (and said so).
 */
import { randomBytes } from 'node:crypto';
import { chmod, readFile, stat } from 'node:fs/promises';
import { createFileOnce } from '../../core/fs/create-file-once.ts';
import { join } from 'node:path';
import { NODE_TOKEN_FILE } from '../../core/contracts/node-agent.ts';
import { PlatformError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';

export interface NodeTokenSource {
  token: string;
  /** 'config' (FASTGSHARE_NODE_TOKEN) or the file it was read from or written to. */
  from: string;
}

export const nodeTokenPath = (dataDir: string) => join(dataDir, NODE_TOKEN_FILE);

export async function loadOrCreateNodeToken(
  dataDir: string,
  configured: string | undefined,
  log: Logger,
): Promise<NodeTokenSource> {
  if (configured) return { token: configured, from: 'config' };
  const file = nodeTokenPath(dataDir);
  const existing = await readTokenFile(file, log);
  if (existing) return { token: existing, from: file };
  const token = randomBytes(32).toString('hex');
  try {
    await createFileOnce(file, `${token}\n`); // false: another agent on this data dir made one first, use it
  } catch (err) {
    throw new PlatformError('internal', `cannot store the node agent token: ${(err as Error).message}`, { cause: err });
  }
  const stored = await readTokenFile(file, log);
  if (!stored) throw new PlatformError('internal', `the node agent token file ${file} is empty`);
  if (stored === token) log.info('made the node agent API token', { file });
  return { token: stored, from: file };
}

async function readTokenFile(file: string, log: Logger): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PlatformError('internal', `cannot read the node agent token file ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const mode = (await stat(file)).mode & 0o777;
  if (mode & 0o077) {
    await chmod(file, 0o600);
    log.warn(
      'the node agent token file could be read by other users: made it 0600 (rotate it: delete the file and restart the agent and gateways)',
      { file, mode: mode.toString(8) },
    );
  }
  const token = text.trim();
  return token || undefined;
}
