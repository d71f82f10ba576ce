/**
 * The `fastgshare` CLI: reads the environment once, builds the command context and runs one
 * command. Returns the exit code (0 ok, 1 error); errors are printed as one line saying what to do.
 * Only the invoked command's module is loaded (all of them for help or an unknown command): the
 * platform's commands (`up`, `gateway`, `node`) pull in the store, queues and model runtimes,
 * which a `list` has no use for.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, PlatformError, isErrorCode } from '../core/errors.ts';
import { createLogger, type LogLevel } from '../core/logger.ts';
import { VERSION } from '../core/version.ts';
import { AuthConfigFile } from './auth-config.ts';
import { readCliEnv, type Env } from './cli-env.ts';
import type { CommandContext } from './context.ts';
import type { CliIO } from './io.ts';
import type { Fetch } from './api-client.ts';
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

type Register = (program: Command, ctx: CommandContext) => void;

/** The command modules in help order, by the top-level names (and aliases) they register. */
const COMMANDS: { names: string[]; load: () => Promise<Register[]> }[] = [
  { names: ['up'], load: async () => [(await import('./commands/up.ts')).registerUp] },
  { names: ['gateway'], load: async () => [(await import('./commands/gateway.ts')).registerGateway] },
  { names: ['node'], load: async () => [(await import('./commands/node.ts')).registerNode] },
  { names: ['build'], load: async () => [(await import('./commands/build.ts')).registerBuild] },
  { names: ['deploy'], load: async () => [(await import('./commands/deploy.ts')).registerDeploy] },
  { names: ['list', 'ls'], load: async () => [(await import('./commands/list.ts')).registerList] },
  { names: ['describe'], load: async () => [(await import('./commands/describe.ts')).registerDescribe] },
  { names: ['invoke'], load: async () => [(await import('./commands/invoke.ts')).registerInvoke] },
  { names: ['remove', 'rm'], load: async () => [(await import('./commands/remove.ts')).registerRemove] },
  { names: ['logs'], load: async () => [(await import('./commands/logs.ts')).registerLogs] },
  { names: ['scale'], load: async () => [(await import('./commands/scale.ts')).registerScale] },
  { names: ['login'], load: async () => [(await import('./commands/login.ts')).registerLogin] },
  { names: ['logout'], load: async () => [(await import('./commands/logout.ts')).registerLogout] },
  { names: ['version'], load: async () => [(await import('./commands/version.ts')).registerVersion] },
  { names: ['secret'], load: async () => [(await import('./commands/secret.ts')).registerSecret] },
  { names: ['namespace', 'ns'], load: async () => [(await import('./commands/namespace.ts')).registerNamespace] },
  { names: ['sim'], load: async () => [(await import('./commands/sim.ts')).registerSim] },
  { names: ['explain'], load: async () => [(await import('./commands/explain.ts')).registerExplain] },
  {
    names: ['tenant'],
    load: async () => {
      const [tenant, limits, keys] = await Promise.all([
        import('./commands/tenant.ts'),
        import('./commands/tenant-limits.ts'),
        import('./commands/tenant-keys.ts'),
      ]);
      return [tenant.registerTenant, limits.registerTenantLimits, keys.registerTenantKeys];
    },
  },
  { names: ['cost'], load: async () => [(await import('./commands/cost.ts')).registerCost] },
  { names: ['profile'], load: async () => [(await import('./commands/profile.ts')).registerProfile] },
  { names: ['profiles'], load: async () => [(await import('./commands/profiles.ts')).registerProfiles] },
  { names: ['timeline'], load: async () => [(await import('./commands/timeline.ts')).registerTimeline] },
];

/**
 * The program with the commands `argv` may run: the named command's module only, or all of them
 * when no known command is named (help, `help <cmd>`, a typo that commander answers with a suggestion).
 */
export async function createProgram(ctx: CommandContext, argv?: string[]): Promise<Command> {
  const program = new Command('fastgshare')
    .description('fastgshare: serverless deep-learning inference with shared accelerators (OpenFaaS-compatible)')
    .version(VERSION, '-V, --version', 'print the CLI version (`fastgshare version` also asks the gateway)')
    .addOption(new Option('--cli-version', 'print the CLI version').hideHelp())
    .showHelpAfterError('(run `fastgshare --help` for the commands)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void ctx.io.stdout.write(s), writeErr: (s) => void ctx.io.stderr.write(s) });
  program.on('option:cli-version', () => {
    ctx.io.stdout.write(`${VERSION}\n`);
    throw new CommanderError(0, 'commander.version', VERSION);
  });
  const named = argv?.find((a) => !a.startsWith('-'));
  const only = named === undefined ? undefined : COMMANDS.find((c) => c.names.includes(named));
  // `--version` alone needs no command at all
  const versionOnly =
    named === undefined &&
    argv !== undefined &&
    argv.some((a) => a === '-V' || a === '--version' || a === '--cli-version') &&
    !argv.some((a) => a === '-h' || a === '--help');
  const chosen = versionOnly ? [] : only ? [only] : COMMANDS;
  const registers = (await Promise.all(chosen.map((c) => c.load()))).flat();
  for (const register of registers) register(program, ctx);
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  return program;
}

/**
 * An error whose message is meant for the user. Checked by shape as well as by class: a command
 * module is loaded by a dynamic import(), and where the caller was itself loaded as CommonJS (mocha
 * through tsx) that import gets its own copy of core/errors.ts, with its own classes.
 */
function userFacing(err: unknown): err is Error {
  if (err instanceof PlatformError || err instanceof ConfigError) return true;
  if (!(err instanceof Error)) return false;
  if (err.name === 'ConfigError' && typeof (err as { variable?: unknown }).variable === 'string') return true;
  const { code, status } = err as { code?: unknown; status?: unknown };
  return isErrorCode(code) && typeof status === 'number';
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
    await (await createProgram(ctx, opts.argv)).parseAsync(opts.argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 1;
    if (userFacing(err)) {
      io.stderr.write(`Error: ${err.message}\n`);
      return 1;
    }
    io.stderr.write(`Error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
