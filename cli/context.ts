/**
 * What every command gets from main: the CLI environment, its streams, the faas-cli credential
 * file, a way to wait for SIGINT/SIGTERM, and helpers to reach the gateway the way faas-cli does.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Logger, LogLevel } from '../core/logger.ts';
import type { LoadedStack } from '../core/images/stack-file.ts';
import { AuthConfigFile } from './auth-config.ts';
import { createOpenFaasClient, type Fetch, type OpenFaasClient } from './api-client.ts';
import type { CliEnv } from './cli-env.ts';
import { resolveCredentials, resolveGatewayUrl } from './gateway-target.ts';
import type { CliIO } from './io.ts';
import { readStackGateway } from './stack-gateway.ts';

export interface CommandContext {
  cli: CliEnv;
  io: CliIO;
  authFile: AuthConfigFile;
  /** Logger for the long-running commands (up, gateway, node). */
  makeLogger(level?: LogLevel): Logger;
  /** Resolves with the signal name on the first SIGINT/SIGTERM. */
  stopSignal(): Promise<string>;
  fetch?: Fetch;
}

export interface GatewayOptions {
  gateway?: string;
  username?: string;
  password?: string;
  yaml?: string;
}

/** Adds faas-cli's connection flags to a command. */
export function gatewayOptions(cmd: Command, opts: { yaml?: boolean } = {}): Command {
  cmd.option(
    '-g, --gateway <url>',
    'gateway URL (default: stack provider.gateway, OPENFAAS_URL, http://127.0.0.1:8080)',
  );
  cmd.option('--username <user>', 'admin user (default: the saved login)');
  cmd.option('--password <password>', 'admin password (default: the saved login)');
  if (opts.yaml !== false) cmd.option('-f, --yaml <file>', 'stack file (default: ./stack.yml when it exists)');
  return cmd;
}

export const DEFAULT_STACK_FILES = ['stack.yml', 'stack.yaml'];

/** The stack file named by -f, else ./stack.yml or ./stack.yaml when present (or the first of them when `required`). */
async function stackPath(
  ctx: CommandContext,
  file: string | undefined,
  required: boolean,
): Promise<string | undefined> {
  if (file) return resolve(ctx.cli.cwd, file);
  for (const name of DEFAULT_STACK_FILES) {
    const path = resolve(ctx.cli.cwd, name);
    if (
      await stat(path).then(
        () => true,
        () => false,
      )
    )
      return path;
  }
  return required ? resolve(ctx.cli.cwd, DEFAULT_STACK_FILES[0]!) : undefined;
}

/** The stack named by -f (which must exist), else ./stack.yml or ./stack.yaml when present; validated. */
export async function loadStack(
  ctx: CommandContext,
  file: string | undefined,
  required: boolean,
): Promise<LoadedStack | undefined> {
  const path = await stackPath(ctx, file, required);
  if (path === undefined) return undefined;
  // the schema (zod) is loaded only by the commands that read a whole stack
  const { loadStackFile } = await import('../core/images/stack-file.ts');
  return loadStackFile(path, ctx.cli.env);
}

export async function connect(ctx: CommandContext, opts: GatewayOptions, stack?: LoadedStack): Promise<OpenFaasClient> {
  return connectTo(ctx, opts, stack?.spec.provider?.gateway);
}

async function connectTo(
  ctx: CommandContext,
  opts: GatewayOptions,
  stackGateway: string | undefined,
): Promise<OpenFaasClient> {
  const gateway = resolveGatewayUrl(opts.gateway, stackGateway, ctx.cli.openfaasUrl);
  const credentials = await resolveCredentials(gateway, opts, ctx.authFile);
  return createOpenFaasClient({ gateway, credentials, fetch: ctx.fetch });
}

/**
 * The gateway URL as faas-cli resolves it (--gateway, the stack's provider.gateway, OPENFAAS_URL, the default), without
 * trailing '/'.
 */
export async function gatewayUrl(ctx: CommandContext, opts: GatewayOptions): Promise<string> {
  const path = await stackPath(ctx, opts.yaml, false);
  return resolveGatewayUrl(
    opts.gateway,
    path === undefined ? undefined : await readStackGateway(path, ctx.cli.env),
    ctx.cli.openfaasUrl,
  ).replace(/\/+$/, '');
}

/**
 * Reads the stack's gateway (if there is a stack file), then connects: for commands that need nothing else from the
 * stack.
 */
export async function connectWithStack(ctx: CommandContext, opts: GatewayOptions): Promise<OpenFaasClient> {
  const path = await stackPath(ctx, opts.yaml, false);
  return connectTo(ctx, opts, path === undefined ? undefined : await readStackGateway(path, ctx.cli.env));
}
