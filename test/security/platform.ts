/**
 * The platform the attacker suite runs against, laid out as `fastgshare up` lays it out: one
 * data dir (here `<platform root>/.fastgshare/security-XXXX`, as the default `./.fastgshare` is
 * under the platform root) holding the embedded store on its unix socket, the image store, the
 * node agent's files (token, replica work dirs, token socket) and the gateway's secrets key; a
 * real node agent with the replica sandbox as configured (on by default) and a real gateway with
 * auth on. `images` are put into the image store as bundles run by `node server.mjs`; the
 * example `echo` function (node-http template, which checks the forward token) is built too.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { Registry } from 'prom-client';
import { readGatewayConfig, readNodeConfig, type Env } from '../../core/config.ts';
import { ImageStore } from '../../core/images/image-store.ts';
import { createImageBuilder } from '../../core/images/builder.ts';
import { loadStackFile } from '../../core/images/stack-file.ts';
import { CaptureSink, createLogger, silentLogger } from '../../core/logger.ts';
import { openStore, type Store } from '../../core/store/open-store.ts';
import { PLATFORM_ROOT } from '../../core/version.ts';
import { startNodeAgent, type NodeAgent } from '../../fast-manager/main.ts';
import { startGateway, type Gateway } from '../../gateway/main.ts';
import { createHttpNodeAgentClient } from '../../gateway/node-client.ts';
import type { FunctionReplicas } from '../../core/contracts/node-agent.ts';

export interface CallResult {
  status: number;
  headers: Headers;
  text: string;
  json<T = unknown>(): T;
}

export interface SecurityPlatform {
  /** The one data dir (store, images, agent, gateway). */
  dataDir: string;
  store: Store;
  images: ImageStore;
  agent: NodeAgent;
  gateway: Gateway;
  sink: CaptureSink;
  /** An HTTP call to the gateway. */
  call(
    method: string,
    path: string,
    opts?: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number },
  ): Promise<CallResult>;
  /** What the node agent runs (its authenticated API, as the gateway sees it). */
  agentFunctions(): Promise<FunctionReplicas[]>;
  close(): Promise<void>;
}

export interface SecurityPlatformOptions {
  /** Gateway and node agent settings on top of the suite's defaults. */
  env: Env;
  /** Image ref → bundle folder (run with `node server.mjs`). */
  images: Record<string, string>;
  /** The example echo function (node-http template) as this image, when given. */
  exampleEcho?: string;
}

export async function startSecurityPlatform(o: SecurityPlatformOptions): Promise<SecurityPlatform> {
  const parent = join(PLATFORM_ROOT, '.fastgshare');
  await mkdir(parent, { recursive: true });
  const dataDir = await mkdtemp(join(parent, 'security-'));
  const sink = new CaptureSink();
  const log = createLogger({ sink, level: 'debug' });
  const env: Env = { FASTGSHARE_DATA_DIR: dataDir, ...o.env };
  const parts: Array<{ close(): Promise<void> }> = [];
  const close = async () => {
    for (const p of parts.reverse()) await p.close().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const store = await openStore({ dataDir, log: log.child('store') });
    parts.push(store);
    const images = new ImageStore({ root: join(dataDir, 'images') });
    for (const [ref, dir] of Object.entries(o.images))
      await images.put(ref, dir, { fprocess: 'node server.mjs', language: 'test' });
    if (o.exampleEcho) {
      const stack = await loadStackFile(join(PLATFORM_ROOT, 'stack.yml'));
      stack.spec.functions.echo!.image = o.exampleEcho;
      await createImageBuilder({ images, log: silentLogger }).buildStack(stack, {
        filter: 'echo',
        buildRoot: join(dataDir, 'build'),
      });
    }
    const nodeConfig = readNodeConfig(
      { ...env, FASTGSHARE_NODE_PORT: '0' },
      `sec-${hostname().replace(/[^a-z0-9.-]/gi, '')}-${process.pid}`,
    );
    const agent = await startNodeAgent({
      config: nodeConfig,
      images,
      log: log.child('node'),
      registry: new Registry(),
      // usage sampling at its default period: the memory bomb meets the kernel's limit, not only the agent's poll
      tuning: { drainGraceMs: 150, startPollMs: 30, healthIntervalMs: 200, backoffBaseMs: 100, backoffMaxMs: 500 },
    });
    parts.push(agent);
    const node = createHttpNodeAgentClient(agent.url, { token: agent.token });
    const gatewayConfig = readGatewayConfig({ PORT: '0', FASTGSHARE_HOST: '127.0.0.1', ...env });
    const gateway = await startGateway({
      config: gatewayConfig,
      store,
      nodes: [node],
      log,
      registry: new Registry(),
      tuning: { reconcileMs: 500, pollMs: 50, countFlushMs: 200 },
    });
    parts.push(gateway);

    const call: SecurityPlatform['call'] = async (method, path, c = {}) => {
      const res = await fetch(gateway.url + path, {
        method,
        headers: c.headers,
        body: c.body === undefined ? undefined : typeof c.body === 'string' ? c.body : JSON.stringify(c.body),
        signal: AbortSignal.timeout(c.timeoutMs ?? 20_000),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, text, json: <T>() => JSON.parse(text) as T };
    };
    return { dataDir, store, images, agent, gateway, sink, call, agentFunctions: () => node.listFunctions(), close };
  } catch (err) {
    await close();
    throw err;
  }
}
