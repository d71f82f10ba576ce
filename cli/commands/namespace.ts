/** `namespace create|list|remove` (alias ns). */
import type { Command } from 'commander';
import { validateNamespace } from '../../core/names.ts';
import { connectWithStack, gatewayOptions, type CommandContext, type GatewayOptions } from '../context.ts';

export function registerNamespace(program: Command, ctx: CommandContext): void {
  const ns = program.command('namespace').alias('ns').description('manage function namespaces');
  gatewayOptions(ns.command('create <name>').description('create a namespace')).action(
    async (name: string, o: GatewayOptions) => {
      validateNamespace(name, 'namespace name');
      const client = await connectWithStack(ctx, o);
      await client.createNamespace(name);
      ctx.io.stdout.write(`Namespace created: ${name}\n`);
    },
  );
  gatewayOptions(ns.command('list').alias('ls').description('list namespaces')).action(async (o: GatewayOptions) => {
    const client = await connectWithStack(ctx, o);
    const names = await client.listNamespaces();
    ctx.io.stdout.write(`Namespaces:\n${names.map((n) => ` - ${n}\n`).join('')}`);
  });
  gatewayOptions(ns.command('remove <name>').alias('rm').description('remove a namespace')).action(
    async (name: string, o: GatewayOptions) => {
      const client = await connectWithStack(ctx, o);
      await client.removeNamespace(name);
      ctx.io.stdout.write(`Namespace removed: ${name}\n`);
    },
  );
}
