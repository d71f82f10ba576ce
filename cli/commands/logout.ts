/** `logout [-g URL]`: removes the saved credentials for a gateway from faas-cli's config.yml. */
import type { Command } from 'commander';
import { PlatformError } from '../../core/errors.ts';
import { resolveGatewayUrl } from '../gateway-target.ts';
import type { CommandContext } from '../context.ts';

export function registerLogout(program: Command, ctx: CommandContext): void {
  program
    .command('logout')
    .description('remove the saved credentials for a gateway')
    .option('-g, --gateway <url>', 'gateway URL (default: OPENFAAS_URL, http://127.0.0.1:8080)')
    .action(async (o: { gateway?: string }) => {
      const gateway = resolveGatewayUrl(o.gateway, undefined, ctx.cli.openfaasUrl);
      if (!(await ctx.authFile.remove(gateway)))
        throw new PlatformError('not_found', `no saved login for ${gateway} in ${ctx.authFile.path}`);
      ctx.io.stdout.write(`credentials removed for ${gateway}\n`);
    });
}
