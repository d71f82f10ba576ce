/** `logs NAME [--tail N] [--follow] [--since 5m|RFC3339] [-n ns] [--instance id]` */
import type { Command } from 'commander';
import { PlatformError } from '../../core/errors.ts';
import { connectWithStack, gatewayOptions, type CommandContext, type GatewayOptions } from '../context.ts';
import { parseDuration } from '../format.ts';

export function sinceTimestamp(text: string, now: Date): string {
  const ms = parseDuration(text);
  if (ms !== undefined) return new Date(now.getTime() - ms).toISOString();
  const d = new Date(text);
  if (Number.isNaN(d.getTime()))
    throw new PlatformError('bad_request', `--since "${text}" must be a duration (30s, 5m, 2h) or an RFC 3339 time`);
  return d.toISOString();
}

export function registerLogs(program: Command, ctx: CommandContext): void {
  gatewayOptions(program.command('logs <name>').description("print a function's log lines"))
    .option('-n, --namespace <ns>', 'namespace of the function')
    .option('--instance <id>', 'only this replica')
    .option('--tail <n>', 'only the last N lines (-1: all)', '-1')
    .option('--follow', 'keep printing new lines until interrupted')
    .option('--since <when>', 'only lines newer than a duration (5m) or time (RFC 3339)')
    .action(
      async (
        name: string,
        o: GatewayOptions & { namespace?: string; instance?: string; tail: string; follow?: boolean; since?: string },
      ) => {
        if (!/^-?\d+$/.test(o.tail))
          throw new PlatformError('bad_request', `--tail "${o.tail}" must be a whole number`);
        const client = await connectWithStack(ctx, o);
        const abort = new AbortController();
        if (o.follow) void ctx.stopSignal().then(() => abort.abort());
        try {
          for await (const line of client.logs(
            {
              name,
              namespace: o.namespace,
              instance: o.instance,
              tail: Number(o.tail),
              follow: o.follow,
              since: o.since ? sinceTimestamp(o.since, new Date()) : undefined,
            },
            abort.signal,
          )) {
            ctx.io.stdout.write(`${line.timestamp} ${line.name} (${line.instance}) ${line.text.replace(/\n$/, '')}\n`);
          }
        } catch (err) {
          if (!abort.signal.aborted) throw err;
        }
      },
    );
}
