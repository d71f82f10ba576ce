/**
 * CLI start-up latency, end to end (`npm run bench:cli`): `fastgshare --version`, `list`,
 * `invoke echo` and `--help` against a running gateway (`fastgshare up` with only echo deployed, as
 * a child process), each a fresh `node` process, two ways side by side:
 * - compiled: `node bin/fastgshare.mjs …` with an up-to-date build/_js/ (compiled first);
 * - sources: the same `main()` from cli/main.ts through tsx — what the CLI did before, and what
 *   bin/fastgshare.mjs falls back to when the build is missing or stale.
 * ROUNDS rounds of RUNS_PER_ROUND runs per command and way, the two ways alternated run by run, so
 * that a change in machine load touches both alike; median and spread (min–max) over all runs, and
 * each round's median. A source saved by someone else while the bench runs makes the build stale:
 * the bench then compiles again and repeats that run.
 * Writes bench/results/cli.md and a `RESULT {json}` line. Target (issue 14): `list` ≤ 500 ms.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PLATFORM_ROOT, VERSION } from '../core/version.ts';
import { startPlatform } from './lib/platform.ts';
import { markdownTable, printResultLine, writeResult } from './lib/table.ts';

const ROUNDS = 3;
const RUNS_PER_ROUND = 5;
const MAX_RECOMPILES = 20;
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

function run(way: Way, args: string[], env: Record<string, string>, stdin?: string): Promise<Run> {
  const argv =
    way === 'compiled'
      ? [join(PLATFORM_ROOT, 'bin', 'fastgshare.mjs'), ...args]
      : ['--import', 'tsx', '--input-type=module', '-e', SOURCES_ENTRY, '--', ...args];
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, argv, {
      cwd: PLATFORM_ROOT,
      env,
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
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
    const child = spawn(process.execPath, [join(PLATFORM_ROOT, 'bin', 'compile.mjs')], {
      cwd: PLATFORM_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
  const platform = await startPlatform({ filter: 'echo', timeoutMs: 180_000 });
  const home = await mkdtemp(join(tmpdir(), 'fastgshare-bench-cli-'));
  let recompiles = 0;
  try {
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: home,
      OPENFAAS_CONFIG: join(home, 'openfaas'),
      OPENFAAS_URL: platform.gatewayUrl,
      FASTGSHARE_DATA_DIR: platform.dataDir,
    };
    const cases: { name: string; args: string[]; check(r: Run): string | undefined }[] = [
      // both ways must have run the CLI, not node's own --version/--help
      {
        name: '--version',
        args: ['--version'],
        check: (r) => (r.stdout.trim() === VERSION ? undefined : `printed ${JSON.stringify(r.stdout)}`),
      },
      {
        name: 'list',
        args: ['list'],
        check: (r) => (/^echo\s/m.test(r.stdout) ? undefined : `listed no echo: ${JSON.stringify(r.stdout)}`),
      },
      {
        name: 'invoke echo',
        args: ['invoke', 'echo'],
        check: (r) => (r.stdout === 'bench' ? undefined : `echo answered ${JSON.stringify(r.stdout)}`),
      },
      {
        name: '--help',
        args: ['--help'],
        check: (r) => (r.stdout.includes('fastgshare') ? undefined : 'printed no fastgshare help'),
      },
    ];
    const once = async (way: Way, c: (typeof cases)[number]): Promise<number> => {
      for (;;) {
        const r = await run(way, c.args, env, c.name.startsWith('invoke') ? 'bench' : undefined);
        if (way === 'compiled' && /running from the TypeScript sources/.test(r.stderr)) {
          if (++recompiles > MAX_RECOMPILES)
            throw new Error(`the build keeps going stale (sources change while the bench runs): ${r.stderr.trim()}`);
          await compile();
          continue;
        }
        if (r.code !== 0) throw new Error(`${way} ${c.args.join(' ')} exited ${r.code}:\n${r.stderr}`);
        const bad = c.check(r);
        if (bad) throw new Error(`${way} ${c.args.join(' ')} ${bad}`);
        return r.ms;
      }
    };
    const times = new Map<string, Record<Way, number[][]>>(cases.map((c) => [c.name, { compiled: [], sources: [] }]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of cases) {
        const t = times.get(c.name)!;
        t.compiled.push([]);
        t.sources.push([]);
        for (let i = 0; i < RUNS_PER_ROUND; i++) {
          for (const way of (i % 2 === 0 ? ['compiled', 'sources'] : ['sources', 'compiled']) as Way[])
            t[way][round]!.push(await once(way, c));
        }
      }
      process.stdout.write(`round ${round + 1}/${ROUNDS} done\n`);
    }
    const rows: (string | number)[][] = [];
    const result: Record<string, unknown> = {
      rounds: ROUNDS,
      runsPerRound: RUNS_PER_ROUND,
      targetListMs: TARGET_LIST_MS,
      recompiles,
    };
    const fmt = (x: number) => x.toFixed(0);
    for (const c of cases) {
      const t = times.get(c.name)!;
      const comp = stats(t.compiled.flat());
      const src = stats(t.sources.flat());
      const roundMedians = (w: Way) => t[w].map((r) => fmt(stats(r).median)).join(' / ');
      rows.push([
        `fastgshare ${c.name}`,
        fmt(comp.median),
        `${fmt(comp.min)}–${fmt(comp.max)}`,
        roundMedians('compiled'),
        fmt(src.median),
        `${fmt(src.min)}–${fmt(src.max)}`,
        `${(src.median / comp.median).toFixed(1)}×`,
      ]);
      result[c.name.replace(/^-+/, '').replace(/ /g, '-')] = {
        compiledMs: comp,
        sourcesMs: src,
        compiledRoundMediansMs: t.compiled.map((r) => stats(r).median),
      };
    }
    const list = result['list'] as { compiledMs: { median: number } };
    result.listMeetsTarget = list.compiledMs.median <= TARGET_LIST_MS;
    const os = await import('node:os');
    const text = [
      '# CLI start-up latency (`npm run bench:cli`)',
      '',
      `End to end: a fresh \`node\` process per call, ${ROUNDS} rounds × ${RUNS_PER_ROUND} runs per command and way, compiled and sources alternated run by run; \`list\` and \`invoke echo\` against a running gateway (\`fastgshare up\` with echo deployed). Machine: ${os.cpus().length} cores, load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} at the end, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}.`,
      '',
      markdownTable(
        [
          'command',
          'compiled median ms',
          'compiled spread',
          'compiled round medians',
          'sources (tsx) median ms',
          'sources spread',
          'speed-up',
        ],
        rows,
      ),
      '',
      `Target (issue 14): \`fastgshare list\` ≤ ${TARGET_LIST_MS} ms — ${result.listMeetsTarget ? 'met' : 'NOT met'} (median ${fmt(list.compiledMs.median)} ms).`,
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
