/**
 * CLI start-up latency, end to end (`npm run bench:cli`): `fastgshare --version`, `--help` and
 * `list` against a running gateway (`fastgshare up` without a stack, as a child process), each
 * run N times as a fresh `node` process, two ways side by side:
 * - compiled: `node bin/fastgshare.mjs …` with an up-to-date build/_js/ (compiled first);
 * - sources: the same `main()` from cli/main.ts through tsx — what the CLI did before, and what
 *   bin/fastgshare.mjs falls back to when the build is missing or stale.
 * Writes bench/results/cli.md and a `RESULT {json}` line. Target (issue 14): `list` ≤ 500 ms.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PLATFORM_ROOT, VERSION } from '../core/version.ts';
import { startPlatform } from './lib/platform.ts';
import { markdownTable, printResultLine, writeResult } from './lib/table.ts';

const RUNS = 10;
const TARGET_LIST_MS = 500;
const SOURCES_ENTRY = `import { main } from ${JSON.stringify(join(PLATFORM_ROOT, 'cli', 'main.ts'))};
process.exitCode = await main({ argv: process.argv.slice(1), env: process.env, io: { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin } });`;

type Way = 'compiled' | 'sources';

interface Run {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(way: Way, args: string[], env: Record<string, string>): Promise<Run> {
  const argv = way === 'compiled' ? [join(PLATFORM_ROOT, 'bin', 'fastgshare.mjs'), ...args] : ['--import', 'tsx', '--input-type=module', '-e', SOURCES_ENTRY, '--', ...args];
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, argv, { cwd: PLATFORM_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ ms: performance.now() - start, code, stdout, stderr }));
  });
}

function stats(ms: number[]): { median: number; min: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2, min: s[0]!, max: s[s.length - 1]! };
}

async function compile(): Promise<void> {
  const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [join(PLATFORM_ROOT, 'bin', 'compile.mjs')], { cwd: PLATFORM_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('close', (code) => resolve({ code, out }));
  });
  if (r.code !== 0) throw new Error(`compiling failed:\n${r.out}`);
}

async function benchCli(): Promise<void> {
  process.stdout.write('compiling (bin/compile.mjs)…\n');
  await compile();
  const platform = await startPlatform({ noDeploy: true, timeoutMs: 180_000 });
  const home = await mkdtemp(join(tmpdir(), 'fastgshare-bench-cli-'));
  try {
    const env = { PATH: process.env.PATH ?? '', HOME: home, OPENFAAS_CONFIG: join(home, 'openfaas'), OPENFAAS_URL: platform.gatewayUrl, FASTGSHARE_DATA_DIR: platform.dataDir };
    const cases: { name: string; args: string[] }[] = [
      { name: '--version', args: ['--version'] },
      { name: '--help', args: ['--help'] },
      { name: 'list', args: ['list'] },
    ];
    const rows: (string | number)[][] = [];
    const result: Record<string, unknown> = { runs: RUNS, targetListMs: TARGET_LIST_MS };
    for (const c of cases) {
      const times: Record<Way, number[]> = { compiled: [], sources: [] };
      for (let i = 0; i < RUNS; i++) {
        // alternate, so that a change in machine load touches both ways alike
        for (const way of ['compiled', 'sources'] as const) {
          const r = await run(way, c.args, env);
          if (r.code !== 0) throw new Error(`${way} ${c.args.join(' ')} exited ${r.code}:\n${r.stderr}`);
          // both ways must have run the CLI, not node's own --version/--help
          if (c.name === '--version' && r.stdout.trim() !== VERSION) throw new Error(`${way} --version printed ${JSON.stringify(r.stdout)}`);
          if (c.name === '--help' && !r.stdout.includes('fastgshare')) throw new Error(`${way} --help printed no fastgshare help`);
          if (way === 'compiled' && /running from the TypeScript sources/.test(r.stderr)) throw new Error(`the build went stale during the benchmark (a source changed): ${r.stderr.trim()}`);
          times[way].push(r.ms);
        }
      }
      const comp = stats(times.compiled);
      const src = stats(times.sources);
      rows.push([`fastgshare ${c.name}`, comp.median, `${comp.min.toFixed(0)}–${comp.max.toFixed(0)}`, src.median, `${src.min.toFixed(0)}–${src.max.toFixed(0)}`, `${(src.median / comp.median).toFixed(1)}×`]);
      result[c.name.replace(/^-+/, '')] = { compiledMs: comp, sourcesMs: src };
    }
    const list = result['list'] as { compiledMs: { median: number } };
    result.listMeetsTarget = list.compiledMs.median <= TARGET_LIST_MS;
    const text = [
      '# CLI start-up latency (`npm run bench:cli`)',
      '',
      `End to end: a fresh \`node\` process per call, ${RUNS} runs each, compiled and sources alternated; \`list\` against a running gateway (\`fastgshare up\`, no functions). Machine: ${(await import('node:os')).cpus().length} cores, ${new Date().toISOString().slice(0, 10)}.`,
      '',
      markdownTable(['command', 'compiled median ms', 'compiled range', 'sources (tsx) median ms', 'sources range', 'speed-up'], rows),
      '',
      `Target (issue 14): \`fastgshare list\` ≤ ${TARGET_LIST_MS} ms — ${result.listMeetsTarget ? 'met' : 'NOT met'} (median ${list.compiledMs.median.toFixed(0)} ms).`,
      '',
    ].join('\n');
    await writeResult('cli', text);
    printResultLine({ bench: 'cli', ...result });
  } finally {
    await platform.stop();
    await rm(home, { recursive: true, force: true });
  }
}

await benchCli();
