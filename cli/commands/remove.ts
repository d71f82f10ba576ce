/** `remove NAME [-n ns]` (alias rm): deletes a function. */
import type { Command } from 'commander';
import { PlatformError } from '../../core/errors.ts';
import { connectWithStack, gatewayOptions, type CommandContext, type GatewayOptions } from '../context.ts';

export function registerRemove(program: Command, ctx: CommandContext): void {
  gatewayOptions(program.command('remove <name>').alias('rm').description('remove a deployed function'))
    .option('-n, --namespace <ns>', 'namespace of the function')
    .action(async (name: string, o: GatewayOptions & { namespace?: string }) => {
      const client = await connectWithStack(ctx, o);
      ctx.io.stdout.write(`Deleting: ${name}.\n`);
      const removed = await client.removeFunction(name, o.namespace);
      if (!removed)
        throw new PlatformError(
          'not_found',
          `No existing function to remove: "${name}"${o.namespace ? ` in namespace ${o.namespace}` : ''}`,
        );
      ctx.io.stdout.write('Removing old function.\n');
    });
}
