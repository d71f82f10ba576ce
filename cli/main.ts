/**
 * The `fastgshare` CLI: reads the environment once, builds the command context and runs one
 * command. Returns the exit code (0 ok, 1 error); errors are printed as one line saying what to do.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, PlatformError } from '../core/errors.ts';
import { createLogger, type LogLevel } from '../core/logger.ts';
import { VERSION } from '../core/version.ts';
import { AuthConfigFile } from './auth-config.ts';
import { readCliEnv, type Env } from './cli-env.ts';
import type { CommandContext } from './context.ts';
import type { CliIO } from './io.ts';
import type { Fetch } from './api-client.ts';
import { registerBuild } from './commands/build.ts';
import { registerDeploy } from './commands/deploy.ts';
import { registerList } from './commands/list.ts';
import { registerDescribe } from './commands/describe.ts';
import { registerInvoke } from './commands/invoke.ts';
import { registerRemove } from './commands/remove.ts';
import { registerLogs } from './commands/logs.ts';
import { registerScale } from './commands/scale.ts';
import { registerLogin } from './commands/login.ts';
import { registerVersion } from './commands/version.ts';
import { registerSecret } from './commands/secret.ts';
import { registerNamespace } from './commands/namespace.ts';
import { registerUp } from './commands/up.ts';
import { registerGateway } from './commands/gateway.ts';
import { registerNode } from './commands/node.ts';
import { registerLogout } from './commands/logout.ts';
import { registerSim } from './commands/sim.ts';
import { registerProfile } from './commands/profile.ts';
import { registerTenant } from './commands/tenant.ts';
import { registerTenantLimits } from './commands/tenant-limits.ts';
import { registerTenantKeys } from './commands/tenant-keys.ts';
import { registerCost } from './commands/cost.ts';
import { registerExplain } from './commands/explain.ts';

export interface MainOptions {
  argv: string[];
  env: Env;
  io: CliIO;
  cwd?: string;
  home?: string;
  /** Resolves with a signal name when the process should stop (default: SIGINT/SIGTERM). */
  stopSignal?: () => Promise<string>;
  fetch?: Fetch;
}

function processStopSignal(): () => Promise<string> {
  let stop: Promise<string> | undefined;
  return () =>
    (stop ??= new Promise<string>((resolve) => {
      const on = (sig: string) => () => resolve(sig);
      process.once('SIGINT', on('SIGINT'));
      process.once('SIGTERM', on('SIGTERM'));
    }));
}

export function createProgram(ctx: CommandContext): Command {
  const program = new Command('fastgshare')
    .description('fastgshare: serverless deep-learning inference with shared accelerators (OpenFaaS-compatible)')
    .version(VERSION, '--cli-version', 'print the CLI version')
    .showHelpAfterError('(run `fastgshare --help` for the commands)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void ctx.io.stdout.write(s), writeErr: (s) => void ctx.io.stderr.write(s) });
  for (const register of [registerUp, registerGateway, registerNode, registerBuild, registerDeploy, registerList, registerDescribe, registerInvoke, registerRemove, registerLogs, registerScale, registerLogin, registerLogout, registerVersion, registerSecret, registerNamespace, registerSim, registerExplain, registerTenant, registerTenantLimits, registerTenantKeys, registerCost, registerProfile]) {
    register(program, ctx);
  }
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  return program;
}

export async function main(opts: MainOptions): Promise<number> {
  const { io } = opts;
  let ctx: CommandContext;
  try {
    const cli = readCliEnv(opts.env, opts.cwd, opts.home);
    ctx = {
      cli,
      io,
      authFile: new AuthConfigFile(cli.configDir),
      makeLogger: (level?: LogLevel) => createLogger({ level: level ?? 'info' }),
      stopSignal: opts.stopSignal ?? processStopSignal(),
      fetch: opts.fetch,
    };
  } catch (err) {
    io.stderr.write(`Error: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    await createProgram(ctx).parseAsync(opts.argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 1;
    if (err instanceof PlatformError || err instanceof ConfigError) {
      io.stderr.write(`Error: ${err.message}\n`);
      return 1;
    }
    io.stderr.write(`Error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
