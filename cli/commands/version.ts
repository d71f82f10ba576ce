/** `version`: this CLI's version and the gateway's (GET /system/info). */
import type { Command } from 'commander';
import { VERSION } from '../../core/version.ts';
import { connectWithStack, gatewayOptions, type CommandContext, type GatewayOptions } from '../context.ts';

export function registerVersion(program: Command, ctx: CommandContext): void {
  gatewayOptions(program.command('version').description('show the CLI and gateway versions'))
    .option('--short-version', 'only the CLI version')
    .action(async (o: GatewayOptions & { shortVersion?: boolean }) => {
      if (o.shortVersion) {
        ctx.io.stdout.write(`${VERSION}\n`);
        return;
      }
      ctx.io.stdout.write(`CLI:\n commit:  fastgshare\n version: ${VERSION}\n\n`);
      const client = await connectWithStack(ctx, o);
      const info = await client.info();
      ctx.io.stdout.write(
        `Gateway\n uri:     ${client.gateway}\n version: ${info.version.release}\n sha:     ${info.version.sha}\n\n` +
          `Provider\n name:          ${info.provider.provider}\n orchestration: ${info.provider.orchestration}\n version:       ${info.provider.version.release}\n sha:           ${info.provider.version.sha}\n`,
      );
    });
}
