/** `node`: a node agent alone. It needs no store: its replica records are a file in its data dir. */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { readNodeConfig } from '../../core/config.ts';
import type { CommandContext } from '../context.ts';
import { closeAll, runUntilStopped, type Closable } from '../lifecycle.ts';

export function registerNode(program: Command, ctx: CommandContext): void {
  program
    .command('node')
    .description('run a node agent alone (no store needed: its records are a file in FASTGSHARE_DATA_DIR)')
    .action(async () => {
      const config = readNodeConfig(ctx.cli.env, hostname(), ctx.cli.cwd);
      const log = ctx.makeLogger(config.logLevel);
      // loaded only when the agent runs (not for `--help`)
      const [{ ImageStore }, { startNodeAgent }] = await Promise.all([
        import('../../core/images/image-store.ts'),
        import('../../fast-manager/main.ts'),
      ]);
      const parts: Closable[] = [];
      try {
        const agent = await startNodeAgent({
          config,
          images: new ImageStore({ root: join(config.dataDir, 'images') }),
          log,
        });
        parts.push(agent);
        ctx.io.stdout.write(`node agent ${agent.name} listening on ${agent.url}; records in ${config.dataDir}\n`);
      } catch (err) {
        await closeAll(parts, log);
        throw err;
      }
      await runUntilStopped(ctx, parts, log);
    });
}
