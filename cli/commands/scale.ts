/** `scale NAME --replicas N [-n ns]` */
import type { Command } from 'commander';
import { PlatformError } from '../../core/errors.ts';
import { connectWithStack, gatewayOptions, type CommandContext, type GatewayOptions } from '../context.ts';

export function registerScale(program: Command, ctx: CommandContext): void {
  gatewayOptions(program.command('scale <name>').description('set the replica count of a function'))
    .requiredOption('--replicas <n>', 'replicas wanted')
    .option('-n, --namespace <ns>', 'namespace of the function')
    .action(async (name: string, o: GatewayOptions & { replicas: string; namespace?: string }) => {
      if (!/^\d+$/.test(o.replicas))
        throw new PlatformError('bad_request', `--replicas "${o.replicas}" must be a whole number >= 0`);
      const client = await connectWithStack(ctx, o);
      await client.scale(name, Number(o.replicas), o.namespace);
      ctx.io.stdout.write(`Scaling ${name} to ${o.replicas} replica(s).\n`);
    });
}
