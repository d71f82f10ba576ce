/**
 * `profile NAME`: queue a profiler sweep and show its progress (a bar with the ETA) until it
 * ends; `--detach` returns after queueing, `--cancel` cancels, `--table`/`--csv` print the table.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { PlatformError } from '../../core/errors.ts';
import { gatewayOptions, loadStack, type CommandContext, type GatewayOptions } from '../context.ts';
import { resolveCredentials, resolveGatewayUrl } from '../gateway-target.ts';

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
}

interface JobView {
  id: string;
  state: string;
  trials: number;
  estimateSeconds: number;
  error?: string;
  progress?: { phase: string; done: number; total: number; trial?: number; config?: { partitionPercent: number; quota: number; batch: number }; etaSeconds: number };
  result?: { entries: number; measured: number; fitted: number; deviceClass: string };
}

const list = (flag: string, v?: string) => {
  if (v === undefined) return undefined;
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (xs.some((x) => !Number.isFinite(x))) throw new PlatformError('bad_request', `--${flag} "${v}" must be numbers separated by commas, e.g. 0.4,1`);
  return xs;
};

/** `[#####-----] 3/8 trials  p50 q0.4 b1  ETA 1m20s` */
export function progressLine(v: JobView, width = 24): string {
  const p = v.progress;
  const total = p?.total || v.trials || 1;
  const done = p?.done ?? 0;
  const fill = Math.round((done / total) * width);
  const eta = p?.etaSeconds ?? v.estimateSeconds;
  const cfg = p?.config ? `  p${p.config.partitionPercent} q${p.config.quota} b${p.config.batch}` : '';
  return `[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${done}/${total} trials${cfg}  ${p?.phase ?? v.state}  ETA ${Math.floor(eta / 60)}m${String(eta % 60).padStart(2, '0')}s`;
}

export function registerProfile(program: Command, ctx: CommandContext): void {
  gatewayOptions(program.command('profile <name>').description('profile a function: sweep partition × quota × batch into a throughput table'))
    .option('-n, --namespace <ns>', 'namespace of the function')
    .option('--data-file <file>', 'a representative request body the trials send (default: the function\'s own sample from GET /_/sample)')
    .option('--content-type <type>', 'its content type', 'application/octet-stream')
    .option('--partitions <list>', 'partitions in percent, e.g. 50,100')
    .option('--quotas <list>', 'time quotas, e.g. 0.2,0.6,1')
    .option('--batches <list>', 'max batch sizes, e.g. 1,4')
    .option('--trial-seconds <s>', 'load time of one trial')
    .option('--slo-ms <ms>', 'latency objective (default: the function\'s fastgshare/slo_ms)')
    .option('--node <node>', 'node agent (URL or name) to run on')
    .option('--detach', 'return once the sweep is queued')
    .option('--cancel', 'cancel the function\'s running sweep')
    .option('--table', 'print the function\'s table as JSON')
    .option('--csv', 'print the function\'s table as CSV')
    .action(async (name: string, o: ProfileOptions) => {
      const stack = await loadStack(ctx, o.yaml, false);
      const gateway = resolveGatewayUrl(o.gateway, stack?.spec.provider?.gateway, ctx.cli.openfaasUrl).replace(/\/+$/, '');
      const creds = await resolveCredentials(gateway, o, ctx.authFile);
      const doFetch = ctx.fetch ?? fetch;
      const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
        const url = new URL(`${gateway}/system/profiles/${encodeURIComponent(name)}${path}`);
        if (o.namespace) url.searchParams.set('namespace', o.namespace);
        if (o.csv) url.searchParams.set('format', 'csv');
        const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
        if (creds) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
        let res: Response;
        try {
          res = await doFetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
        } catch (err) {
          throw new PlatformError('unavailable', `cannot reach the gateway at ${gateway}: ${(err as Error).message}`);
        }
        if (!res.ok) {
          const text = await res.text();
          let message = text;
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? text;
          } catch {
            /* plain text */
          }
          throw new PlatformError(res.status === 404 ? 'not_found' : res.status === 409 ? 'conflict' : res.status === 400 ? 'bad_request' : res.status === 401 ? 'unauthorized' : 'unavailable', `profile ${name}: ${message} (HTTP ${res.status})`);
        }
        return res;
      };
      if (o.table || o.csv) {
        ctx.io.stdout.write(o.csv ? await (await call('GET', '')).text() : JSON.stringify(await (await call('GET', '')).json(), null, 2) + '\n');
        return;
      }
      if (o.cancel) {
        const v = (await (await call('DELETE', '/job')).json()) as JobView;
        ctx.io.stdout.write(`Cancelled sweep ${v.id} of ${name}.\n`);
        return;
      }
      const body: Record<string, unknown> = {};
      const grid = { partitions: list('partitions', o.partitions), quotas: list('quotas', o.quotas), batches: list('batches', o.batches) };
      if (Object.values(grid).some((x) => x)) body.grid = Object.fromEntries(Object.entries(grid).filter(([, x]) => x));
      if (o.trialSeconds) body.trialSeconds = Number(o.trialSeconds);
      if (o.sloMs) body.sloMs = Number(o.sloMs);
      if (o.node) body.node = o.node;
      if (o.dataFile) body.input = { base64: (await readFile(resolve(ctx.cli.cwd, o.dataFile))).toString('base64'), contentType: o.contentType };
      let v = (await (await call('POST', '', body)).json()) as JobView;
      ctx.io.stdout.write(`Sweep ${v.id} of ${name}: ${v.trials} trials, about ${Math.round(v.estimateSeconds / 60)} min.\n`);
      if (o.detach) return;
      while (!['completed', 'failed', 'cancelled'].includes(v.state)) {
        await new Promise((r) => setTimeout(r, 1000));
        v = (await (await call('GET', '/job')).json()) as JobView;
        ctx.io.stderr.write(`\r${progressLine(v)}`);
      }
      ctx.io.stderr.write('\n');
      if (v.state !== 'completed') throw new PlatformError('internal', `sweep ${v.id} of ${name} ${v.state}${v.error ? `: ${v.error}` : ''}`);
      ctx.io.stdout.write(`Profiled ${name} on ${v.result?.deviceClass}: ${v.result?.measured} measured and ${v.result?.fitted} fitted configurations. See ${gateway}/system/profiles/${name}/chart\n`);
    });
}
