/** `describe NAME [-n ns]`: one function's status, as faas-cli prints it. */
import type { Command } from 'commander';
import { connectWithStack, gatewayOptions, type CommandContext, type GatewayOptions } from '../context.ts';

function map(m: Record<string, string> | undefined): string {
  const entries = Object.entries(m ?? {});
  return entries.length ? '\n' + entries.map(([k, v]) => `  ${k}: ${v}`).join('\n') : ' <none>';
}

export function registerDescribe(program: Command, ctx: CommandContext): void {
  gatewayOptions(program.command('describe <name>').description('describe a deployed function'))
    .option('-n, --namespace <ns>', 'namespace of the function')
    .action(async (name: string, o: GatewayOptions & { namespace?: string }) => {
      const client = await connectWithStack(ctx, o);
      const f = await client.getFunction(name, o.namespace);
      const suffix = o.namespace ? `.${o.namespace}` : '';
      const lines = [
        ['Name:', f.name],
        ['Namespace:', f.namespace],
        ['Status:', f.availableReplicas > 0 ? 'Ready' : 'Not Ready'],
        ['Replicas:', String(f.replicas)],
        ['Available Replicas:', String(f.availableReplicas)],
        ['Invocations:', String(f.invocationCount)],
        ['Image:', f.image],
        ['Function Process:', f.envProcess ?? '<default>'],
        ['URL:', `${client.gateway}/function/${name}${suffix}`],
        ['Async URL:', `${client.gateway}/async-function/${name}${suffix}`],
        ['Created:', f.createdAt],
      ];
      if (f.usage)
        lines.push(
          ['CPU:', f.usage.cpu.toFixed(1)],
          ['Memory:', `${(f.usage.totalMemoryBytes / 1024 / 1024).toFixed(1)} MiB`],
        );
      ctx.io.stdout.write(lines.map(([k, v]) => `${k!.padEnd(20)} ${v}`).join('\n') + '\n');
      ctx.io.stdout.write(`Labels:${map(f.labels)}\nAnnotations:${map(f.annotations)}\n`);
    });
}
