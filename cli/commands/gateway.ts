/** `gateway [--node URL]...`: the gateway alone, with node agents from --node or FASTGSHARE_NODES. */
import type { Command } from 'commander';
import { readGatewayConfig } from '../../core/config.ts';
import { PlatformError } from '../../core/errors.ts';
import type { CommandContext } from '../context.ts';
import { closeAll, describeStore, runUntilStopped, type Closable } from '../lifecycle.ts';

export function registerGateway(program: Command, ctx: CommandContext): void {
  program
    .command('gateway')
    .description('run the gateway alone, with node agents given by --node or FASTGSHARE_NODES')
    .option('--node <url>', 'node agent URL (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .action(async (o: { node: string[] }) => {
      const config = readGatewayConfig(ctx.cli.env, ctx.cli.cwd);
      const urls = o.node.length ? o.node : config.nodes;
      if (urls.length === 0)
        throw new PlatformError(
          'bad_request',
          'no node agents: pass --node http://host:8081 (repeatable) or set FASTGSHARE_NODES',
        );
      for (const u of urls) {
        try {
          new URL(u);
        } catch {
          throw new PlatformError('bad_request', `--node "${u}" is not a URL (e.g. http://127.0.0.1:8081)`);
        }
      }
      const log = ctx.makeLogger(config.logLevel);
      // loaded only when the gateway runs (not for `--help`)
      const [{ openStore }, { startGateway }, { createHttpNodeAgentClient }, { nodeCredential }] = await Promise.all([
        import('../../core/store/open-store.ts'),
        import('../../gateway/main.ts'),
        import('../../gateway/node-client.ts'),
        import('../../gateway/nodes/node-token.ts'),
      ]);
      const parts: Closable[] = [];
      try {
        const token = nodeCredential(config);
        const store = await openStore({
          mongoUri: config.mongoUri,
          dataDir: config.dataDir,
          storePort: config.storePort,
          log,
        });
        parts.push(store);
        const gateway = await startGateway({
          config,
          store,
          nodes: urls.map((u) => createHttpNodeAgentClient(u, { token })),
          log,
        });
        parts.push(gateway);
        ctx.io.stdout.write(
          `gateway listening on ${gateway.url}; nodes: ${urls.join(', ')}; store: ${describeStore(store)}\n`,
        );
      } catch (err) {
        await closeAll(parts, log);
        throw err;
      }
      await runUntilStopped(ctx, parts, log);
    });
}
