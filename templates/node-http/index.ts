/**
 * node-http replica runtime. Run with the bundle as working directory:
 *   node --import tsx index.ts
 * Loads ./function/handler.ts, serves it on $PORT, and drains on SIGTERM/SIGINT.
 */
import { readRuntimeConfig } from './runtime/config.ts';
import { createHandlerContext } from './runtime/context.ts';
import { createReplicaServer } from './runtime/server.ts';
import type { Handler } from './runtime/types.ts';

async function main(): Promise<void> {
  const config = readRuntimeConfig(process.env);
  const mod = (await import('./function/handler.ts')) as { default?: unknown };
  if (typeof mod.default !== 'function') {
    throw new Error('function/handler.ts must `export default async function handle(event, context)`');
  }
  const replica = createReplicaServer({
    handler: mod.default as Handler,
    context: createHandlerContext(config),
    maxBodyBytes: config.maxBodyBytes,
    debug: config.debug,
    stdout: process.stdout,
    stderr: process.stderr,
    forwardToken: config.forwardToken,
  });
  const port = await replica.listen(config.port, config.host);
  process.stdout.write(`node-http: ${config.functionName}.${config.namespace} listening on ${config.host}:${port}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`node-http: ${signal} received, draining in-flight requests\n`);
    replica.drain().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`node-http: drain failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`node-http: cannot start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
