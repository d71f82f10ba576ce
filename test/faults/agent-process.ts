/** A node agent as a real child process (`fastgshare node`), which a test can SIGKILL and start again. */
import { spawn, type ChildProcess } from 'node:child_process';
import { PLATFORM_ROOT } from '../../core/version.ts';

export interface AgentProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function startAgentProcess(env: Record<string, string>, timeoutMs = 20_000): Promise<AgentProcess> {
  const child = spawn(process.execPath, ['bin/fastgshare.mjs', 'node'], {
    cwd: PLATFORM_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', FASTGSHARE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + timeoutMs;
  let url: string | undefined;
  while (!url && Date.now() < deadline && child.exitCode === null) {
    url = /listening on (http:\/\/\S+);/.exec(out)?.[1];
    if (!url) await new Promise((r) => setTimeout(r, 50));
  }
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      await exited;
    }
  };
  if (!url) {
    await kill('SIGKILL');
    throw new Error(`the node agent did not start:\n${out.slice(-3000)}`);
  }
  return { url, child, output: () => out, kill };
}
