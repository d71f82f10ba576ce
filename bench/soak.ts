/**
 * Soak: the whole platform (`fastgshare up`, a child process) under a fixed request rate for a
 * fixed time against the echo function, sampling the `up` process's resident memory every
 * second from /proc. Passes with zero unexpected errors and bounded memory: RSS saw-tooths with
 * garbage collection, so the test compares its floor (the lowest sample) in the last third of
 * the run with the floor in the middle third, which must grow less than MAX_FLOOR_GROWTH_MIB. Writes
 * bench/results/soak.md; the last line is
 * `RESULT {json}`.
 *
 *   npm run bench:soak [-- --rate 500 --duration 60]
 */
import { readFile } from 'node:fs/promises';
import { startPlatform } from './lib/platform.ts';
import { runLoad } from './lib/load.ts';
import { formatNumber, markdownTable, printResultLine, writeResult } from './lib/table.ts';

const MAX_FLOOR_GROWTH_MIB = 32;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1]);
  return kb / 1024;
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  const num = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  const rate = arg('rate', 500);
  const duration = arg('duration', 60);
  process.stderr.write('starting the platform with the echo function…\n');
  const platform = await startPlatform({ filter: 'echo', env: { FASTGSHARE_LOG_LEVEL: 'error' } });
  try {
    const pid = platform.child.pid!;
    const url = `${platform.gatewayUrl}/function/echo`;
    const common = {
      url,
      method: 'POST' as const,
      body: 'soak',
      headers: { 'content-type': 'text/plain' },
      connections: 16,
    };
    await runLoad({ ...common, durationS: 3, rate }); // warm-up (JIT, sockets)
    const samples: Array<[number, number]> = [];
    const t0 = performance.now();
    const sample = async () => samples.push([(performance.now() - t0) / 1000, await rssMiB(pid)]);
    await sample();
    const timer = setInterval(() => void sample().catch(() => undefined), 1000);
    process.stderr.write(`soaking ${url} at ${rate} req/s for ${duration} s…\n`);
    const load = await runLoad({ ...common, durationS: duration, rate });
    clearInterval(timer);
    await sample();

    const rss = samples.map((s) => s[1]);
    const start = rss[0]!;
    const end = rss[rss.length - 1]!;
    const max = Math.max(...rss);
    const half = samples.filter((s) => s[0] >= duration / 2);
    const floor = (from: number, to: number) =>
      Math.min(...samples.filter((s) => s[0] >= from && s[0] <= to).map((s) => s[1]));
    const floorGrowth = floor((2 * duration) / 3, Infinity) - floor(duration / 3, (2 * duration) / 3);
    const slopeMiBPerMin = slope(samples) * 60;
    const lateSlopeMiBPerMin = slope(half) * 60;
    const unexpected = load.non2xx + load.errors;
    const bounded = floorGrowth < MAX_FLOOR_GROWTH_MIB;
    const pass = unexpected === 0 && bounded && load.requests > 0;

    const table = markdownTable(
      [
        'rate (req/s)',
        'duration (s)',
        'requests',
        'achieved rps',
        'p50 ms',
        'p99 ms',
        'non-2xx',
        'errors',
        'RSS start MiB',
        'RSS max MiB',
        'RSS end MiB',
        'slope MiB/min',
        'late slope MiB/min',
      ],
      [
        [
          rate,
          duration,
          load.requests,
          formatNumber(load.rps),
          formatNumber(load.p50),
          formatNumber(load.p99),
          load.non2xx,
          load.errors,
          formatNumber(start),
          formatNumber(max),
          formatNumber(end),
          formatNumber(slopeMiBPerMin),
          formatNumber(lateSlopeMiBPerMin),
        ],
      ],
    );
    const text = [
      '# Soak: gateway at a fixed rate (echo)',
      '',
      `\`npm run bench:soak\` — \`fastgshare up\` (gateway, node agent and embedded store in one process; the echo replica is its own process) driven by autocannon (\`overallRate\`, 16 connections) after a 3 s warm-up. RSS of the \`up\` process from /proc every second.`,
      '',
      table,
      '',
      `RSS saw-tooths with garbage collection, so boundedness is judged on its floor: the lowest sample of the last third of the run may exceed the lowest of the middle third by less than ${MAX_FLOOR_GROWTH_MIB} MiB (here ${formatNumber(floorGrowth)} MiB); the slopes are least-squares fits over all samples and over the second half. Verdict: **${pass ? 'pass' : 'FAIL'}**.`,
      '',
      `RSS samples (MiB, one per second): ${rss.map((v) => v.toFixed(0)).join(' ')}`,
    ].join('\n');
    await writeResult('soak', text);
    printResultLine({
      benchmark: 'soak',
      pass,
      rate,
      durationS: duration,
      requests: load.requests,
      rps: load.rps,
      p50Ms: load.p50,
      p99Ms: load.p99,
      non2xx: load.non2xx,
      errors: load.errors,
      rssStartMiB: start,
      rssMaxMiB: max,
      rssEndMiB: end,
      slopeMiBPerMin,
      lateSlopeMiBPerMin,
      floorGrowthMiB: floorGrowth,
    });
    if (!pass) process.exitCode = 1;
  } finally {
    await platform.stop();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`soak failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
