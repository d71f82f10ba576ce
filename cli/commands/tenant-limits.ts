/**
 * `tenant limits <name> [--replicas N] [--functions N] [--device-share X] [--memory Q] [--reset LIMIT...]`:
 * shows a tenant's admission limits (defaults, overrides, what applies, what it holds now) and,
 * with any flag, changes them first (admin only; PUT /system/tenants/<name>/limits).
 */
import type { Command } from 'commander';
import type { TenantLimitKey, TenantLimits, TenantLimitsInfo } from '../../core/contracts/admission.ts';
import { PlatformError } from '../../core/errors.ts';
import { gatewayOptions, type CommandContext, type GatewayOptions } from '../context.ts';
import { table } from '../format.ts';
import { callSystem } from './tenant.ts';

interface LimitFlags extends GatewayOptions {
  replicas?: string;
  functions?: string;
  deviceShare?: string;
  memory?: string;
  reset?: string[];
}

const RESET_NAMES: Record<string, TenantLimitKey> = {
  replicas: 'replicas',
  functions: 'functions',
  'device-share': 'deviceShare',
  memory: 'memoryBytes',
};
const BODY_KEY: Record<TenantLimitKey, string> = {
  replicas: 'replicas',
  functions: 'functions',
  deviceShare: 'deviceShare',
  memoryBytes: 'memory',
};

function number(flag: string, raw: string): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v))
    throw new PlatformError('bad_request', `${flag} must be a number, got "${raw}"`);
  return v;
}

/** The PUT body the flags ask for; undefined when they ask for no change. */
export function limitsBody(o: LimitFlags): Record<string, unknown> | undefined {
  const body: Record<string, unknown> = {};
  if (o.replicas !== undefined) body.replicas = number('--replicas', o.replicas);
  if (o.functions !== undefined) body.functions = number('--functions', o.functions);
  if (o.deviceShare !== undefined) body.deviceShare = number('--device-share', o.deviceShare);
  if (o.memory !== undefined) body.memory = /^\d+$/.test(o.memory.trim()) ? Number(o.memory) : o.memory;
  for (const r of o.reset ?? []) {
    const key = RESET_NAMES[r];
    if (!key)
      throw new PlatformError('bad_request', `--reset ${r}: not a limit; use ${Object.keys(RESET_NAMES).join(', ')}`);
    if (body[BODY_KEY[key]] !== undefined)
      throw new PlatformError('bad_request', `--reset ${r} and a new value for it both given`);
    body[BODY_KEY[key]] = null;
  }
  return Object.keys(body).length ? body : undefined;
}

function gib(bytes: number): string {
  const units: [string, number][] = [
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ];
  for (const [u, n] of units) if (bytes >= n && bytes % n === 0) return `${bytes / n}${u}`;
  for (const [u, n] of units) if (bytes >= n) return `${Math.round((bytes / n) * 10) / 10}${u}`;
  return `${bytes}`;
}

export function formatLimits(info: TenantLimitsInfo): string {
  const show = (k: TenantLimitKey, l: Partial<TenantLimits>) =>
    l[k] === undefined ? '-' : k === 'memoryBytes' ? gib(l[k]!) : String(Math.round(l[k]! * 1000) / 1000);
  const rows = (['replicas', 'functions', 'deviceShare', 'memoryBytes'] as TenantLimitKey[]).map((k) => [
    k === 'deviceShare' ? 'device share' : k === 'memoryBytes' ? 'memory' : k,
    show(k, info.usage),
    show(k, info.effective),
    show(k, info.overrides),
    show(k, info.defaults),
  ]);
  return (
    `tenant: ${info.tenant} (per-function replica ceiling: ${info.maxReplicasPerFunction})\n` +
    table(['LIMIT', 'USED', 'LIMIT NOW', 'OVERRIDE', 'DEFAULT'], rows)
  );
}

export function registerTenantLimits(program: Command, ctx: CommandContext): void {
  const tenant = program.commands.find((c) => c.name() === 'tenant');
  if (!tenant) throw new Error('the tenant command must be registered before its limits verb');
  gatewayOptions(
    tenant
      .command('limits <name>')
      .description("show a tenant's admission limits and usage; with flags, change them first (admin)")
      .option('--replicas <n>', 'Σ replicas over its functions')
      .option('--functions <n>', 'functions it may have')
      .option(
        '--device-share <devices>',
        'Σ guaranteed device share (replicas × gpu_quota_request × gpu_sm_partition/100), in devices',
      )
      .option('--memory <quantity>', 'Σ replicas × limits.memory, e.g. 16Gi')
      .option('--reset <limit...>', 'back to the platform default: replicas, functions, device-share, memory'),
  ).action(async (name: string, o: LimitFlags) => {
    const body = limitsBody(o);
    const path = `/system/tenants/${encodeURIComponent(name)}/limits`;
    const res = body ? await callSystem(ctx, o, 'PUT', path, { json: body }) : await callSystem(ctx, o, 'GET', path);
    ctx.io.stdout.write(formatLimits((await res.json()) as TenantLimitsInfo));
  });
}
