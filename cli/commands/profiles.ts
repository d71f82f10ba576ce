/**
 * `profiles [-n ns] [--json]`: the profiling queue (GET /system/profiles, admin): the sweeps running,
 * then those waiting in the order they will run, each with its progress or what it waits for.
 */
import type { Command } from 'commander';
import { gatewayOptions, type CommandContext, type GatewayOptions } from '../context.ts';
import { table } from '../format.ts';
import { profileApi, type QueueView } from '../profile-api.ts';

export function formatQueue(q: QueueView): string {
  if (q.sweeps.length === 0) return 'No profiling sweep is queued or running.\n';
  const rows = q.sweeps.map((s) => {
    const p = s.progress;
    const done = `${Math.min(p?.done ?? 0, p?.total || s.trials)}/${p?.total || s.trials}`;
    const now =
      s.state === 'active'
        ? `running${p?.trial ? ` trial ${p.trial}` : ''}${p?.config ? ` (p${p.config.partitionPercent} q${p.config.quota} b${p.config.batch})` : ''}${p?.etaSeconds ? `, about ${Math.max(1, Math.round(p.etaSeconds / 60))} min left` : ''}`
        : `waits for ${s.waitingFor ?? 'its turn'}`;
    return [
      s.function,
      s.state,
      s.origin === 'autoscaler' ? 'auto-scaler' : 'request',
      `${s.node ?? ''}/${s.device ?? ''}`,
      done,
      now,
    ];
  });
  const head = `${q.running} running${q.concurrency ? ` (at most ${q.concurrency} at once, one per device)` : ''}, ${q.sweeps.length - q.running} waiting\n`;
  return (
    head +
    table(['FUNCTION', 'STATE', 'ASKED BY', 'NODE/DEVICE', 'TRIALS', 'NOW'], rows) +
    'Follow one: fastgshare profile NAME; cancel one: fastgshare profile NAME --cancel\n'
  );
}

export function registerProfiles(program: Command, ctx: CommandContext): void {
  gatewayOptions(
    program.command('profiles').description('list the profiling queue: what runs, what waits and for what (admin)'),
  )
    .option('-n, --namespace <ns>', 'only the sweeps of functions in this namespace')
    .option('--json', 'print the queue as JSON')
    .action(async (o: GatewayOptions & { namespace?: string; json?: boolean }) => {
      const api = await profileApi(ctx, o, 'profiles');
      const q = (await (await api.call('GET', '', { query: { namespace: o.namespace } })).json()) as QueueView;
      ctx.io.stdout.write(o.json ? JSON.stringify(q, null, 2) + '\n' : formatQueue(q));
    });
}
