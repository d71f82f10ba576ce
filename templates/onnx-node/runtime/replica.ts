/**
 * Starts one model-function replica: reads the config, listens at once (health 503 while
 * loading), opens the handler's model service on the configured device backend, warms it up,
 * then turns health to 200. SIGTERM/SIGINT drain in-flight requests and close the models.
 */
import { systemClock } from 'fastgshare/core/clock.ts';
import { createLogger, type Logger } from 'fastgshare/core/logger.ts';
import { REPLICA_ENV } from 'fastgshare/core/contracts/replica-env.ts';
import { createBackend } from './backends/index.ts';
import { readOnnxRuntimeConfig, resolveSettings } from './http/config.ts';
import { createModelServer, type Output } from './http/server.ts';
import type { ModelService, OnnxFunction } from './service.ts';
import { systemTimers } from './timers.ts';
import { connectTokenClient } from './token-client.ts';
import { createTokenGate, type DeviceGate } from './token-gate.ts';

export interface RunReplicaOptions {
  fn: OnnxFunction;
  env: Record<string, string | undefined>;
  stdout: Output;
  stderr: Output;
  logger?: Logger;
  /** Called with the exit code once drained (process.exit in index.ts). */
  exit(code: number): void;
  onSignal(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void;
}

export function isOnnxFunction(value: unknown): value is OnnxFunction {
  return typeof (value as OnnxFunction | null)?.open === 'function';
}

export async function runReplica(o: RunReplicaOptions): Promise<void> {
  const config = readOnnxRuntimeConfig(o.env);
  const logger =
    o.logger ??
    createLogger({ level: o.env[REPLICA_ENV.logLevel] === 'debug' ? 'debug' : 'info', component: config.functionName });
  const settings = resolveSettings(config.settings, o.fn.settings);
  const backend = createBackend(config.backend, { logger });
  const server = createModelServer({
    maxBodyBytes: config.maxBodyBytes,
    debug: config.debug,
    describe: () => ({
      function: config.functionName,
      namespace: config.namespace,
      replica: config.replicaId,
      device: backend.describe(),
      settings,
    }),
    stdout: o.stdout,
    stderr: o.stderr,
    forwardToken: config.forwardToken,
  });
  const port = await server.listen(config.port, config.host);
  o.stdout.write(
    `onnx-node: ${config.functionName}.${config.namespace} listening on ${config.host}:${port}, loading on ${backend.device}\n`,
  );

  let service: ModelService | undefined;
  let gate: DeviceGate | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    o.stdout.write(`onnx-node: ${signal} received, draining in-flight requests\n`);
    server
      .drain()
      .then(() => service?.close())
      .then(() => gate?.close())
      .then(
        () => o.exit(0),
        (err) => {
          o.stderr.write(`onnx-node: drain failed: ${(err as Error).message}\n`);
          o.exit(1);
        },
      );
  };
  o.onSignal('SIGTERM', () => stop('SIGTERM'));
  o.onSignal('SIGINT', () => stop('SIGINT'));

  const started = Date.now();
  if (config.tokenSocket) {
    const client = await connectTokenClient({
      socketPath: config.tokenSocket,
      replicaId: config.replicaId,
      key: config.tokenKey ?? '',
    });
    gate = createTokenGate({ source: client, clock: systemClock });
    o.stdout.write(
      `onnx-node: device time shared: token channel open (device ${client.device}, window ${client.windowMs} ms)\n`,
    );
  }
  service = await o.fn.open({ backend, settings, clock: systemClock, timers: systemTimers, logger, gate });
  await service.warmUp();
  if (stopping) return;
  gate?.forgetWaits(); // token waits seen while the node's replicas all warmed up say nothing about serving
  server.setReady(service);
  o.stdout.write(
    `onnx-node: ready in ${Date.now() - started} ms (slo ${settings.sloMs} ms, max batch ${settings.maxBatch})\n`,
  );
}
