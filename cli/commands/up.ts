/**
 * `up [--build] [--deploy stack.yml]`: the embedded (or MongoDB) store, a node agent and the
 * gateway in one process; then optionally builds the stack's images, deploys it through the
 * gateway's HTTP API (as `deploy` does) and waits for a ready replica of each function.
 * SIGINT/SIGTERM stop it gracefully (`npm start` runs `up --build --deploy stack.yml`).
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { readGatewayConfig, readNodeConfig } from '../../core/config.ts';
import { PlatformError } from '../../core/errors.ts';
import { createOpenFaasClient } from '../api-client.ts';
import { loadStack, type CommandContext } from '../context.ts';
import { closeAll, describeStore, runUntilStopped, type Closable } from '../lifecycle.ts';
import { waitForReady } from '../readiness.ts';

export function registerUp(program: Command, ctx: CommandContext): void {
  program
    .command('up')
    .description('run store, node agent and gateway in one process; optionally build and deploy a stack')
    .option('--build', "build the stack's images first")
    .option('--deploy <stack>', 'deploy this stack file once the gateway is up')
    .option('-f, --yaml <file>', 'stack file for --build (default: the --deploy file, else ./stack.yml)')
    .option('--filter <function>', 'build and deploy only this function of the stack')
    .option('--ready-timeout <seconds>', 'how long to wait for deployed functions to become ready', '120')
    .action(async (o: { build?: boolean; deploy?: string; yaml?: string; filter?: string; readyTimeout: string }) => {
      const gatewayConfig = readGatewayConfig(ctx.cli.env, ctx.cli.cwd);
      const nodeConfig = readNodeConfig(ctx.cli.env, hostname(), ctx.cli.cwd);
      const readyTimeoutMs = Number(o.readyTimeout) * 1000;
      if (!Number.isFinite(readyTimeoutMs) || readyTimeoutMs <= 0)
        throw new PlatformError('bad_request', `--ready-timeout "${o.readyTimeout}" must be a number of seconds`);
      const log = ctx.makeLogger(gatewayConfig.logLevel);
      // load the stack before starting anything, so a bad file fails fast
      const stack = o.build || o.deploy ? await loadStack(ctx, o.yaml ?? o.deploy, true) : undefined;
      const deployStackFile = o.deploy
        ? o.yaml && o.yaml !== o.deploy
          ? await loadStack(ctx, o.deploy, true)
          : stack
        : undefined;

      // the platform's parts are loaded only when it runs (not for `--help`): the store, queues and model runtimes
      const [
        { ImageStore },
        { openStore },
        { startGateway },
        { createHttpNodeAgentClient },
        { startNodeAgent },
        { buildStackImages },
        { deployStack },
      ] = await Promise.all([
        import('../../core/images/image-store.ts'),
        import('../../core/store/open-store.ts'),
        import('../../gateway/main.ts'),
        import('../../gateway/node-client.ts'),
        import('../../fast-manager/main.ts'),
        import('./build.ts'),
        import('./deploy.ts'),
      ]);
      const parts: Closable[] = [];
      const stopping = ctx.stopSignal().then(() => true);
      try {
        const store = await openStore({
          mongoUri: gatewayConfig.mongoUri,
          dataDir: gatewayConfig.dataDir,
          storePort: gatewayConfig.storePort,
          log,
        });
        parts.push(store);
        const images = new ImageStore({ root: join(gatewayConfig.dataDir, 'images') });
        if (o.build && stack) await buildStackImages(ctx, stack, images, log, { filter: o.filter });
        const agent = await startNodeAgent({ config: nodeConfig, images, log });
        parts.push(agent);
        const gateway = await startGateway({
          config: gatewayConfig,
          store,
          nodes: [createHttpNodeAgentClient(agent.url, { token: agent.token })],
          log,
        });
        parts.push(gateway);
        ctx.io.stdout.write(`gateway listening on ${gateway.url} (node agent ${agent.name} at ${agent.url})\n`);

        let invokeExample = 'echo';
        if (deployStackFile) {
          const auth = gatewayConfig.auth
            ? { username: gatewayConfig.auth.user, password: gatewayConfig.auth.password }
            : undefined;
          const client = createOpenFaasClient({ gateway: gateway.url, credentials: auth, fetch: ctx.fetch });
          const { deployed, failed } = await deployStack(ctx, client, deployStackFile, { filter: o.filter });
          if (failed > 0)
            throw new PlatformError('bad_request', `${failed} function(s) failed to deploy; see the errors above`);
          ctx.io.stdout.write(
            `waiting for ${deployed.map((d) => d.name).join(', ') || 'nothing'} to become ready...\n`,
          );
          await Promise.race([
            waitForReady(client, deployed, {
              timeoutMs: readyTimeoutMs,
              onWaiting: (name, ms) => ctx.io.stdout.write(`  ${name}: starting (${Math.round(ms / 1000)}s)\n`),
              onReady: (name, ms) => ctx.io.stdout.write(`  ${name}: ready (${(ms / 1000).toFixed(1)}s)\n`),
            }),
            stopping,
          ]);
          if (deployed[0]) invokeExample = deployed[0].name;
        }
        ctx.io.stdout.write(
          `\nfastgshare is up.\n` +
            `  gateway: ${gateway.url}\n` +
            `  store:   ${describeStore(store)}\n` +
            `  images:  ${images.root}\n` +
            `invoke a function:\n` +
            `  curl -d 'hi' ${gateway.url}/function/${invokeExample}\n` +
            `  echo hi | faas-cli invoke ${invokeExample}${gateway.url === 'http://127.0.0.1:8080' ? '' : ` --gateway ${gateway.url}`}\n` +
            `  echo hi | fastgshare invoke ${invokeExample}${gateway.url === 'http://127.0.0.1:8080' ? '' : ` --gateway ${gateway.url}`}\n` +
            `press Ctrl+C to stop.\n`,
        );
      } catch (err) {
        await closeAll(parts, log);
        throw err;
      }
      await runUntilStopped(ctx, parts, log);
    });
}
