/** `node`: a node agent alone, with its own store connection (MONGODB_URI, else an embedded store). */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { readNodeConfig } from '../../core/config.ts';
import type { CommandContext } from '../context.ts';
import { closeAll, describeStore, runUntilStopped, type Closable } from '../lifecycle.ts';

export function registerNode(program: Command, ctx: CommandContext): void {
  program
    .command('node')
    .description('run a node agent alone (store from MONGODB_URI, else an embedded one)')
    .action(async () => {
      const config = readNodeConfig(ctx.cli.env, hostname(), ctx.cli.cwd);
      const log = ctx.makeLogger(config.logLevel);
      // loaded only when the agent runs (not for `--help`)
      const [{ ImageStore }, { openStore }, { startNodeAgent }] = await Promise.all([import('../../core/images/image-store.ts'), import('../../core/store/open-store.ts'), import('../../fast-manager/main.ts')]);
      const parts: Closable[] = [];
      try {
        const store = await openStore({ mongoUri: config.mongoUri, dataDir: config.dataDir, storePort: config.storePort, log });
        parts.push(store);
        const agent = await startNodeAgent({ config, store, images: new ImageStore({ root: join(config.dataDir, 'images') }), log });
        parts.push(agent);
        ctx.io.stdout.write(`node agent ${agent.name} listening on ${agent.url}; store: ${describeStore(store)}\n`);
      } catch (err) {
        await closeAll(parts, log);
        throw err;
      }
      await runUntilStopped(ctx, parts, log);
    });
}
