/**
 * Runs a gateway as a process: reads GatewayConfig from an environment map, opens the store
 * (MongoDB or the embedded one), builds one HTTP client per configured node agent, starts the
 * gateway, and stops everything on SIGINT/SIGTERM.
 *
 *   FASTGSHARE_NODES=http://127.0.0.1:8081 npx tsx gateway/serve.ts
 */
import { fileURLToPath } from 'node:url';
import { readGatewayConfig, type Env } from '../core/config.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { openStore } from '../core/store/open-store.ts';
import { startGateway, type Gateway } from './main.ts';
import { createHttpNodeAgentClient } from './node-client.ts';
import { nodeCredential } from './nodes/node-token.ts';

export async function serveGateway(env: Env, log?: Logger): Promise<Gateway> {
  const config = readGatewayConfig(env);
  const logger = log ?? createLogger({ level: config.logLevel });
  if (config.nodes.length === 0)
    logger.warn('no node agents configured: set FASTGSHARE_NODES to their URLs (comma separated)');
  const store = await openStore({
    mongoUri: config.mongoUri,
    dataDir: config.dataDir,
    storePort: config.storePort,
    log: logger,
  });
  let gateway: Gateway;
  try {
    gateway = await startGateway({
      config,
      store,
      nodes: config.nodes.map((u) => createHttpNodeAgentClient(u, { token: nodeCredential(config) })),
      log: logger,
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  return {
    url: gateway.url,
    port: gateway.port,
    metricsUrl: gateway.metricsUrl,
    async close() {
      await gateway.close();
      await store.close();
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const log = createLogger();
  serveGateway(process.env, log).then(
    (gw) => {
      const stop = () => void gw.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (err: Error) => {
      log.error('gateway failed to start', { error: err.message });
      process.exit(1);
    },
  );
}
