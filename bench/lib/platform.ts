/**
 * Starts the whole platform (`fastgshare up --build --deploy <stack>`) as a child process on
 * free ports with a temporary data directory, so a benchmark's load generator does not share
 * an event loop with the gateway. Resolves once the gateway is healthy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { PLATFORM_ROOT } from '../../core/version.ts';

export interface RunningPlatform {
  gatewayUrl: string;
  nodeUrl: string;
  /** The node agent's API token (from its data dir). */
  nodeToken: string;
  /** A request to the node agent's API with its token, e.g. nodeFetch('/v1/functions'). */
  nodeFetch(path: string, init?: RequestInit): Promise<Response>;
  dataDir: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface StartPlatformOptions {
  stack?: string;
  filter?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Reuse a data directory (kept at stop); default: a fresh temporary one, removed at stop. */
  dataDir?: string;
  port?: number;
  nodePort?: number;
  /** Start without building or deploying (e.g. to test that a restart restores the functions). */
  noDeploy?: boolean;
}

export async function startPlatform(opts: StartPlatformOptions = {}): Promise<RunningPlatform> {
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'fastgshare-bench-')));
  const port = opts.port ?? (await freePort());
  const nodePort = opts.nodePort ?? (await freePort());
  const args = ['bin/fastgshare.mjs', 'up'];
  if (!opts.noDeploy) args.push('--build', '--deploy', opts.stack ?? 'stack.yml');
  if (opts.filter) args.push('--filter', opts.filter);
  const child = spawn(process.execPath, args, {
    cwd: PLATFORM_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      FASTGSHARE_HOST: '127.0.0.1',
      FASTGSHARE_NODE_PORT: String(nodePort),
      FASTGSHARE_METRICS_PORT: '0', // any free port: platforms side by side must not race for 8082
      FASTGSHARE_DATA_DIR: dataDir,
      FASTGSHARE_LOG_LEVEL: 'warn',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const gatewayUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let ready = false;
  while (Date.now() < deadline && child.exitCode === null) {
    // `up` prints its invocation hint only after every function of the stack has a ready replica
    if (/Invoke/i.test(out) || (opts.noDeploy && (await healthy(`http://127.0.0.1:${port}/healthz`)))) {
      ready = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      // `up` drains every replica before it exits (FASTGSHARE_DRAIN_TIMEOUT_MS each, in parallel);
      // killing it sooner would orphan the replicas
      const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(t);
    }
    if (ownDir) await rm(dataDir, { recursive: true, force: true });
  };
  if (!ready) {
    await stop();
    throw new Error(`the platform did not come up:\n${out.slice(-4000)}`);
  }
  const nodeUrl = `http://127.0.0.1:${nodePort}`;
  const nodeToken =
    opts.env?.FASTGSHARE_NODE_TOKEN ?? (await readFile(join(dataDir, 'node-agent.token'), 'utf8')).trim();
  const nodeFetch = (path: string, init: RequestInit = {}) =>
    fetch(nodeUrl + path, {
      ...init,
      headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${nodeToken}` },
    });
  return { gatewayUrl, nodeUrl, nodeToken, nodeFetch, dataDir, child, output: () => out, stop };
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}
