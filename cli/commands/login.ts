/**
 * `login -u USER --password-stdin | -p PASSWORD [-g URL]` checks the credentials with
 * GET /system/functions and saves them in faas-cli's config.yml (shared with faas-cli).
 */
import type { Command } from 'commander';
import { PlatformError } from '../../core/errors.ts';
import { createOpenFaasClient } from '../api-client.ts';
import { resolveGatewayUrl } from '../gateway-target.ts';
import type { CommandContext } from '../context.ts';
import { readAll } from '../io.ts';

export function registerLogin(program: Command, ctx: CommandContext): void {
  program
    .command('login')
    .description('save admin credentials for a gateway (shared with faas-cli)')
    .option('-g, --gateway <url>', 'gateway URL (default: OPENFAAS_URL, http://127.0.0.1:8080)')
    .option('-u, --username <user>', 'admin user', 'admin')
    .option('-p, --password <password>', 'admin password (prefer --password-stdin)')
    .option('-s, --password-stdin', 'read the password from stdin')
    .action(async (o: { gateway?: string; username: string; password?: string; passwordStdin?: boolean }) => {
      const gateway = resolveGatewayUrl(o.gateway, undefined, ctx.cli.openfaasUrl);
      if (o.password && o.passwordStdin)
        throw new PlatformError('bad_request', 'use either --password or --password-stdin, not both');
      let password = o.password;
      if (o.passwordStdin) password = (await readAll(ctx.io.stdin)).toString('utf8').trim();
      else if (password)
        ctx.io.stderr.write(
          'WARNING! Using --password is insecure, consider using: cat ~/password.txt | fastgshare login -u admin --password-stdin\n',
        );
      if (!password) throw new PlatformError('bad_request', 'a password is required: pipe it to --password-stdin');
      if (o.username.includes(':')) throw new PlatformError('bad_request', 'the user name must not contain ":"');
      ctx.io.stdout.write('Calling the OpenFaaS server to validate the credentials...\n');
      const client = createOpenFaasClient({
        gateway,
        credentials: { username: o.username, password },
        fetch: ctx.fetch,
      });
      try {
        await client.listFunctions();
      } catch (err) {
        if (err instanceof PlatformError && err.code === 'unauthorized')
          throw new PlatformError(
            'unauthorized',
            `unable to login to ${gateway}: either the user name or the password is incorrect`,
          );
        throw err;
      }
      await ctx.authFile.save(gateway, { username: o.username, password });
      ctx.io.stdout.write(`credentials saved for ${o.username} ${gateway}\n`);
    });
}
