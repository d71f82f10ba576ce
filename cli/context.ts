/**
 * What every command gets from main: the CLI environment, its streams, the faas-cli credential
 * file, a way to wait for SIGINT/SIGTERM, and helpers to reach the gateway the way faas-cli does.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Logger, LogLevel } from '../core/logger.ts';
import { loadStackFile, type LoadedStack } from '../core/images/stack-file.ts';
import { AuthConfigFile } from './auth-config.ts';
import { createOpenFaasClient, type Fetch, type OpenFaasClient } from './api-client.ts';
import type { CliEnv } from './cli-env.ts';
import { resolveCredentials, resolveGatewayUrl } from './gateway-target.ts';
import type { CliIO } from './io.ts';

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
  cmd.option('-g, --gateway <url>', 'gateway URL (default: stack provider.gateway, OPENFAAS_URL, http://127.0.0.1:8080)');
  cmd.option('--username <user>', 'admin user (default: the saved login)');
  cmd.option('--password <password>', 'admin password (default: the saved login)');
  if (opts.yaml !== false) cmd.option('-f, --yaml <file>', 'stack file (default: ./stack.yml when it exists)');
  return cmd;
}

export const DEFAULT_STACK_FILES = ['stack.yml', 'stack.yaml'];

/** The stack named by -f (which must exist), else ./stack.yml or ./stack.yaml when present. */
export async function loadStack(ctx: CommandContext, file: string | undefined, required: boolean): Promise<LoadedStack | undefined> {
  if (file) return loadStackFile(resolve(ctx.cli.cwd, file), ctx.cli.env);
  for (const name of DEFAULT_STACK_FILES) {
    const path = resolve(ctx.cli.cwd, name);
    if (await stat(path).then(() => true, () => false)) return loadStackFile(path, ctx.cli.env);
  }
  if (required) return loadStackFile(resolve(ctx.cli.cwd, DEFAULT_STACK_FILES[0]!), ctx.cli.env);
  return undefined;
}

export async function connect(ctx: CommandContext, opts: GatewayOptions, stack?: LoadedStack): Promise<OpenFaasClient> {
  const gateway = resolveGatewayUrl(opts.gateway, stack?.spec.provider?.gateway, ctx.cli.openfaasUrl);
  const credentials = await resolveCredentials(gateway, opts, ctx.authFile);
  return createOpenFaasClient({ gateway, credentials, fetch: ctx.fetch });
}

/** Resolves the stack (if any) for the gateway URL, then connects. */
export async function connectWithStack(ctx: CommandContext, opts: GatewayOptions): Promise<OpenFaasClient> {
  return connect(ctx, opts, await loadStack(ctx, opts.yaml, false));
}
