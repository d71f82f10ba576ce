/**
 * `tenant create|list|remove|rotate`: tenants and their control-plane credentials (admin only); API keys:
 * tenant-keys.ts.
 */
import type { IssuedCredentials } from '../../core/contracts/tenants.ts';
import type { Command } from 'commander';
import { isErrorCode, PlatformError } from '../../core/errors.ts';
import { gatewayOptions, gatewayUrl, type CommandContext, type GatewayOptions } from '../context.ts';
import { resolveCredentials } from '../gateway-target.ts';
import { table } from '../format.ts';
import { httpFetch, type HttpResponse } from '../http-fetch.ts';

/** One /system call with the saved (or given) credentials; errors carry the gateway's message. */
export async function callSystem(
  ctx: CommandContext,
  o: GatewayOptions,
  method: string,
  path: string,
  opts: { json?: unknown; query?: Record<string, string | undefined>; accept?: string } = {},
): Promise<HttpResponse> {
  const gateway = await gatewayUrl(ctx, o);
  const creds = await resolveCredentials(gateway, o, ctx.authFile);
  const url = new URL(gateway + path);
  for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, v);
  const headers: Record<string, string> = { accept: opts.accept ?? 'application/json' };
  if (creds) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
  if (opts.json !== undefined) headers['content-type'] = 'application/json';
  let res: HttpResponse;
  try {
    res = await (ctx.fetch ?? httpFetch)(url, {
      method,
      headers,
      body: opts.json === undefined ? undefined : JSON.stringify(opts.json),
    });
  } catch (err) {
    throw new PlatformError(
      'unavailable',
      `cannot reach the gateway at ${gateway}: is it running? (${(err as Error).message})`,
      { cause: err },
    );
  }
  if (res.ok) return res;
  const text = await res.text();
  let message = text.trim() || res.statusText;
  let code: string | undefined;
  try {
    const j = JSON.parse(text) as { message?: string; code?: string };
    if (j.message) message = j.message;
    code = j.code;
  } catch {
    /* not JSON */
  }
  if (res.status === 401) message += ` (log in with: fastgshare login --gateway ${gateway} -u USER --password-stdin)`;
  throw new PlatformError(
    isErrorCode(code)
      ? code
      : res.status === 401
        ? 'unauthorized'
        : res.status === 403
          ? 'forbidden'
          : res.status === 404
            ? 'not_found'
            : 'bad_request',
    `${method} ${path}: ${message} (HTTP ${res.status})`,
  );
}

type Issued = IssuedCredentials;

function printIssued(ctx: CommandContext, what: string, t: Issued): void {
  ctx.io.stdout.write(`${what}: ${t.name} (namespaces: ${t.namespaces.join(', ')})\n`);
  ctx.io.stdout.write(`username: ${t.username}\n`);
  if (t.generated)
    ctx.io.stdout.write(
      `password: ${t.password}\nKeep it now: the gateway stores only a hash and cannot show it again.\n`,
    );
  else ctx.io.stdout.write('password: (as given)\n');
  ctx.io.stdout.write(
    `The password is for /system (faas-cli login). Callers of functions get an invoke-only key: fastgshare tenant key create --tenant ${t.name}\n`,
  );
}

export function registerTenant(program: Command, ctx: CommandContext): void {
  const t = program.command('tenant').description('manage tenants: namespaces and credentials (admin)');
  gatewayOptions(
    t
      .command('create <name>')
      .description('create a tenant; prints its generated password and API key once')
      .option('-n, --namespace <ns...>', 'namespaces the tenant owns (default: one named after it)')
      .option('--tenant-password-stdin', "read the tenant's password from stdin instead of generating one"),
  ).action(async (name: string, o: GatewayOptions & { namespace?: string[]; tenantPasswordStdin?: boolean }) => {
    const password = o.tenantPasswordStdin ? (await readStdin(ctx)).trim() : undefined;
    const res = await callSystem(ctx, o, 'POST', '/system/tenants', {
      json: { name, namespaces: o.namespace, password },
    });
    printIssued(ctx, 'Tenant created', (await res.json()) as Issued);
  });
  gatewayOptions(t.command('list').alias('ls').description('list tenants')).action(async (o: GatewayOptions) => {
    const list = (await (await callSystem(ctx, o, 'GET', '/system/tenants')).json()) as Array<{
      name: string;
      namespaces: string[];
      createdAt?: string;
    }>;
    ctx.io.stdout.write(
      table(
        ['TENANT', 'NAMESPACES', 'CREATED'],
        list.map((x) => [x.name, x.namespaces.join(','), x.createdAt ?? '']),
      ),
    );
  });
  gatewayOptions(
    t.command('remove <name>').alias('rm').description('remove a tenant (its namespaces and functions stay)'),
  ).action(async (name: string, o: GatewayOptions) => {
    await callSystem(ctx, o, 'DELETE', `/system/tenants/${encodeURIComponent(name)}`);
    ctx.io.stdout.write(`Tenant removed: ${name}\n`);
  });
  gatewayOptions(
    t
      .command('rotate <name>')
      .description("replace a tenant's credentials; the old ones stop working")
      .option('--tenant-password-stdin', 'read the new password from stdin'),
  ).action(async (name: string, o: GatewayOptions & { tenantPasswordStdin?: boolean }) => {
    const password = o.tenantPasswordStdin ? (await readStdin(ctx)).trim() : undefined;
    const res = await callSystem(ctx, o, 'POST', `/system/tenants/${encodeURIComponent(name)}/rotate`, {
      json: password === undefined ? {} : { password },
    });
    printIssued(ctx, 'Credentials rotated', (await res.json()) as Issued);
  });
}

async function readStdin(ctx: CommandContext): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of ctx.io.stdin as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}
