/** The `context` argument given to the handler: who this replica is, and its secrets. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HandlerContext } from './types.ts';

const SECRET_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function createHandlerContext(opts: {
  functionName: string;
  namespace: string;
  replicaId: string;
  secretsDir: string;
}): HandlerContext {
  return {
    functionName: opts.functionName,
    namespace: opts.namespace,
    replicaId: opts.replicaId,
    async secret(name: string): Promise<Buffer> {
      if (!SECRET_NAME.test(name) || name.includes('..')) {
        throw new Error(`"${name}" is not a valid secret name: use lowercase letters, digits, '-' and '.'`);
      }
      try {
        return await readFile(join(opts.secretsDir, name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          throw new Error(
            `secret "${name}" is not available to this function: add it under "secrets:" in the stack file and create it with \`fastgshare secret create ${name}\``,
          );
        }
        throw err;
      }
    },
  };
}
