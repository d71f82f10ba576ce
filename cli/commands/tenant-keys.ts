/**
 * `tenant key create|list|revoke`: invoke-only API keys. A tenant manages its own keys (logged in
 * with its password); the admin manages any tenant's with `--tenant NAME`. A key is printed once,
 * at creation: the gateway keeps only a hash of it. Callers send it as `Authorization: Bearer KEY`
 * on /function/ and /async-function/; it opens no /system route.
 */
import type { Command } from 'commander';
import type { ApiKeyInfo, IssuedApiKey } from '../../core/contracts/tenants.ts';
import { gatewayOptions, type CommandContext, type GatewayOptions } from '../context.ts';
import { table } from '../format.ts';
import { callSystem } from './tenant.ts';

interface KeyFlags extends GatewayOptions {
  tenant?: string;
  name?: string;
}

/** The keys route: the caller's own (a tenant) or, with --tenant, that tenant's (the admin). */
export function keysPath(tenant: string | undefined, id?: string): string {
  const base = tenant === undefined ? '/system/tenant/keys' : `/system/tenants/${encodeURIComponent(tenant)}/keys`;
  return id === undefined ? base : `${base}/${encodeURIComponent(id)}`;
}

export function registerTenantKeys(program: Command, ctx: CommandContext): void {
  const tenant = program.commands.find((c) => c.name() === 'tenant');
  if (!tenant) throw new Error('the tenant command must be registered before its key verbs');
  const key = tenant
    .command('key')
    .description("a tenant's invoke-only API keys (Authorization: Bearer KEY on /function/; never /system)");
  const forTenant = (c: Command) =>
    gatewayOptions(
      c.option('--tenant <name>', "the tenant whose keys to manage (admin); default: the logged-in tenant's own"),
    );
  forTenant(
    key
      .command('create')
      .description('create an API key; prints it once')
      .option('--name <label>', 'a label to tell keys apart'),
  ).action(async (o: KeyFlags) => {
    const res = await callSystem(ctx, o, 'POST', keysPath(o.tenant), {
      json: o.name === undefined ? {} : { name: o.name },
    });
    const k = (await res.json()) as IssuedApiKey;
    ctx.io.stdout.write(
      `API key created for tenant ${k.tenant} (id ${k.id}${k.name ? `, ${k.name}` : ''}):\n${k.key}\n`,
    );
    ctx.io.stdout.write(
      'Keep it now: the gateway stores only a hash and cannot show it again. Callers send it as Authorization: Bearer KEY.\n',
    );
  });
  forTenant(key.command('list').alias('ls').description('list API keys (ids and labels, never the keys)')).action(
    async (o: KeyFlags) => {
      const list = (await (await callSystem(ctx, o, 'GET', keysPath(o.tenant))).json()) as ApiKeyInfo[];
      ctx.io.stdout.write(
        table(
          ['ID', 'TENANT', 'NAME', 'CREATED'],
          list.map((k) => [k.id, k.tenant, k.name || '-', k.createdAt ?? '']),
        ),
      );
    },
  );
  forTenant(key.command('revoke <id>').alias('rm').description('revoke an API key; it stops working at once')).action(
    async (id: string, o: KeyFlags) => {
      await callSystem(ctx, o, 'DELETE', keysPath(o.tenant, id));
      ctx.io.stdout.write(`API key revoked: ${id}\n`);
    },
  );
}
