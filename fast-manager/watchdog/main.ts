/**
 * Entry of the built-in forking watchdog, run by the node agent in place of a function whose
 * process does not serve HTTP (mode.ts decides), inside the replica's sandbox like any replica
 * process: `node --import tsx fast-manager/watchdog/main.ts` with the bundle as working directory
 * and the function's command line in `fprocess`. It refuses to start (exit 1, reason on stderr,
 * which the agent shows as the replica's crash) when its settings are invalid or the command is
 * not there; otherwise it serves $PORT until SIGTERM, then drains and exits 0.
 */
import { commandExists } from './command.ts';
import { readForkingWatchdogConfig } from './config.ts';
import { createForkingWatchdog } from './server.ts';
import { REPLICA_ENV } from '../../core/contracts/replica-env.ts';

async function main(): Promise<void> {
  const config = readForkingWatchdogConfig(process.env);
  const cwd = process.cwd();
  const command = config.argv[0]!;
  if (!commandExists(command, process.env.PATH ?? '', cwd)) {
    throw new Error(
      `fprocess: command "${command}" not found${command.includes('/') ? '' : ' on PATH'} (fprocess "${config.fprocess}"); replicas see the host's /usr, /bin and /lib and their bundle`,
    );
  }
  // the forked processes get the replica's environment, less the forward token only the watchdog checks
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== REPLICA_ENV.forwardToken) env[k] = v;
  const log = (line: string) => process.stderr.write(line.endsWith('\n') ? line : line + '\n');
  const watchdog = createForkingWatchdog({ config, cwd, env, log });
  const port = await watchdog.listen(config.port, config.host);
  process.stdout.write(
    `watchdog: forking "${config.fprocess}" per request on ${config.host}:${port} (exec_timeout ${config.execTimeoutMs / 1000}s, write_timeout ${config.writeTimeoutMs / 1000}s)\n`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`watchdog: ${signal} received, draining in-flight requests\n`);
    watchdog.drain().then(
      () => process.exit(0),
      (err: Error) => {
        log(`watchdog: drain failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`watchdog: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
