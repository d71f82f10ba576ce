/** `list [-n ns] [-v]`: the deployed functions as a table. */
import type { Command } from 'commander';
import { connectWithStack, gatewayOptions, type CommandContext, type GatewayOptions } from '../context.ts';
import { table } from '../format.ts';

export function registerList(program: Command, ctx: CommandContext): void {
  gatewayOptions(program.command('list').alias('ls').description('list deployed functions'))
    .option('-n, --namespace <ns>', "namespace (default: the gateway's default)")
    .option('-v, --verbose', 'also show the image')
    .action(async (o: GatewayOptions & { namespace?: string; verbose?: boolean }) => {
      const client = await connectWithStack(ctx, o);
      const fns = (await client.listFunctions(o.namespace)).sort((a, b) => a.name.localeCompare(b.name));
      const headers = o.verbose
        ? ['Function', 'Image', 'Invocations', 'Replicas']
        : ['Function', 'Invocations', 'Replicas'];
      const rows = fns.map((f) =>
        o.verbose
          ? [f.name, f.image, String(f.invocationCount), String(f.replicas)]
          : [f.name, String(f.invocationCount), String(f.replicas)],
      );
      ctx.io.stdout.write(table(headers, rows));
    });
}
