/**
 * `profile NAME`: queue a profiler sweep, or attach to the function's sweep that is already queued
 * or running (the auto-scaler's, or one asked for earlier), and show its progress until it ends
 * (profile-follow.ts: what it waits for, failed polls retried, Ctrl-C leaves it running);
 * `--detach` returns after queueing, `--cancel` cancels, `--table`/`--csv`/`--json` print the table.
 * `fastgshare profiles` lists the queue.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { PlatformError } from '../../core/errors.ts';
import { gatewayOptions, type CommandContext, type GatewayOptions } from '../context.ts';
import { table } from '../format.ts';
import { profileApi, type JobView } from '../profile-api.ts';
import { followSweep, profileCommand } from '../profile-follow.ts';

export { progressLine } from '../profile-follow.ts';

interface ProfileOptions extends GatewayOptions {
  namespace?: string;
  dataFile?: string;
  contentType?: string;
  partitions?: string;
  quotas?: string;
  batches?: string;
  trialSeconds?: string;
  sloMs?: string;
  node?: string;
  detach?: boolean;
  cancel?: boolean;
  table?: boolean;
  csv?: boolean;
  json?: boolean;
}

interface TableView {
  function: string;
  deviceClass: string;
  modelVersion: string;
  sloMs?: number;
  entries: Array<{
    partitionPercent: number;
    quota: number;
    batch: number;
    rps: number;
    latencyMs?: { p50?: number | null; p99?: number | null } | null;
    memoryBytes?: number;
    source: string;
  }>;
}

const list = (flag: string, v?: string) => {
  if (v === undefined) return undefined;
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (xs.some((x) => !Number.isFinite(x)))
    throw new PlatformError('bad_request', `--${flag} "${v}" must be numbers separated by commas, e.g. 0.4,1`);
  return xs;
};

const ms = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(1) : '-');

/** The table as text: one row per configuration; a cell with no rate under the SLO says so, a missing figure is '-'. */
export function formatProfileTable(t: TableView): string {
  const rows = t.entries.map((e) => [
    String(e.partitionPercent),
    String(e.quota),
    String(e.batch),
    Number.isFinite(e.rps) && e.rps > 0 ? e.rps.toFixed(1) : 'misses SLO',
    ms(e.latencyMs?.p50),
    ms(e.latencyMs?.p99),
    e.memoryBytes ? `${Math.round(e.memoryBytes / 1048576)}` : '-',
    e.source,
  ]);
  const head = `${t.function} on ${t.deviceClass} (${t.modelVersion})${t.sloMs ? `, SLO ${t.sloMs} ms` : ''}\n`;
  return head + table(['PARTITION %', 'QUOTA', 'BATCH', 'RPS AT SLO', 'P50 MS', 'P99 MS', 'MEM MIB', 'SOURCE'], rows);
}

const ACTIVE = new Set(['waiting', 'active', 'delayed']);

export function registerProfile(program: Command, ctx: CommandContext): void {
  gatewayOptions(
    program
      .command('profile <name>')
      .description(
        'profile a function: sweep partition × quota × batch into a throughput table; attaches to a sweep already queued or running (`fastgshare profiles` lists the queue)',
      ),
  )
    .option('-n, --namespace <ns>', 'namespace of the function')
    .option(
      '--data-file <file>',
      "a representative request body the trials send (default: the function's own sample from GET /_/sample)",
    )
    .option('--content-type <type>', 'its content type', 'application/octet-stream')
    .option('--partitions <list>', 'partitions in percent, e.g. 50,100')
    .option('--quotas <list>', 'time quotas, e.g. 0.2,0.6,1')
    .option('--batches <list>', 'max batch sizes, e.g. 1,4')
    .option('--trial-seconds <s>', 'load time of one trial')
    .option('--slo-ms <ms>', "latency objective (default: the function's fastgshare/slo_ms)")
    .option('--node <node>', 'node agent (URL or name) to run on')
    .option('--detach', 'return once the sweep is queued')
    .option('--cancel', "cancel the function's queued or running sweep")
    .option('--table', "print the function's table")
    .option('--json', "print the function's table as JSON")
    .option('--csv', "print the function's table as CSV")
    .action(async (name: string, o: ProfileOptions) => {
      const api = await profileApi(ctx, o, `profile ${name}`);
      const fn = `/${encodeURIComponent(name)}`;
      const query = { namespace: o.namespace };
      const cmd = profileCommand(name, o.namespace);
      if (o.table || o.csv || o.json) {
        const res = await api.call('GET', fn, { query: { ...query, ...(o.csv ? { format: 'csv' } : {}) } });
        ctx.io.stdout.write(
          o.csv
            ? await res.text()
            : o.json
              ? JSON.stringify(await res.json(), null, 2) + '\n'
              : formatProfileTable((await res.json()) as TableView),
        );
        return;
      }
      if (o.cancel) {
        const v = (await (await api.call('DELETE', `${fn}/job`, { query })).json()) as JobView;
        ctx.io.stdout.write(
          `Cancelled sweep ${v.id} of ${name}${v.origin === 'autoscaler' ? ' (queued by the auto-scaler)' : ''}.\n`,
        );
        return;
      }
      const body: Record<string, unknown> = {};
      const grid = {
        partitions: list('partitions', o.partitions),
        quotas: list('quotas', o.quotas),
        batches: list('batches', o.batches),
      };
      if (Object.values(grid).some((x) => x)) body.grid = Object.fromEntries(Object.entries(grid).filter(([, x]) => x));
      if (o.trialSeconds) body.trialSeconds = Number(o.trialSeconds);
      if (o.sloMs) body.sloMs = Number(o.sloMs);
      if (o.node) body.node = o.node;
      if (o.dataFile)
        body.input = {
          base64: (await readFile(resolve(ctx.cli.cwd, o.dataFile))).toString('base64'),
          contentType: o.contentType,
        };

      const current = async (): Promise<JobView | undefined> => {
        try {
          const v = (await (await api.call('GET', `${fn}/job`, { query })).json()) as JobView;
          return ACTIVE.has(v.state) ? v : undefined;
        } catch (err) {
          if (err instanceof PlatformError && err.code === 'not_found') return undefined;
          throw err;
        }
      };
      // a sweep of the function already queued or running: follow that one rather than fail
      let v = await current();
      let attached = v !== undefined;
      if (!v) {
        try {
          v = (await (await api.call('POST', fn, { body, query })).json()) as JobView;
        } catch (err) {
          // queued by someone else a moment ago
          if (!(err instanceof PlatformError && err.code === 'conflict')) throw err;
          v = await current();
          if (!v) throw err;
          attached = true;
        }
      }
      const minutes = Math.max(1, Math.round(v.estimateSeconds / 60));
      if (attached) {
        const who = v.origin === 'autoscaler' ? 'queued by the auto-scaler' : 'asked for earlier';
        ctx.io.stdout.write(
          `Following the sweep of ${name} that is already ${v.state === 'active' ? 'running' : 'queued'} (job ${v.id}, ${who}): ${v.trials} trials, about ${minutes} min in all.\n`,
        );
        if (Object.keys(body).length > 0)
          ctx.io.stdout.write(
            `Your options were not used: to run a sweep with them, cancel this one (\`${cmd} --cancel\`) and ask again.\n`,
          );
      } else {
        ctx.io.stdout.write(`Sweep ${v.id} of ${name}: ${v.trials} trials, about ${minutes} min.\n`);
      }
      if (o.detach) {
        ctx.io.stdout.write(`Follow it with \`${cmd}\`, cancel it with \`${cmd} --cancel\`.\n`);
        return;
      }
      const outcome = await followSweep(ctx, api, name, o.namespace, v, {
        tty: Boolean((ctx.io.stderr as { isTTY?: boolean }).isTTY),
      });
      if (outcome.kind === 'detached') return;
      v = outcome.view;
      if (v.state !== 'completed')
        throw new PlatformError('internal', `sweep ${v.id} of ${name} ${v.state}${v.error ? `: ${v.error}` : ''}`);
      const invalid = v.result?.invalid ? `, ${v.result.invalid} trials that could not run properly left out` : '';
      ctx.io.stdout.write(
        `Profiled ${name} on ${v.result?.deviceClass}: ${v.result?.measured} measured and ${v.result?.fitted} fitted configurations${invalid}. Table: \`${cmd} --table\`; chart: ${api.gateway}/system/profiles/${name}/chart\n`,
      );
    });
}
