/**
 * Gateway overhead: the echo function called directly on its replica vs through the gateway,
 * under the same load, in the same run, alternating rounds so machine noise hits both sides.
 *
 *   npm run bench:gateway            (BENCH_DURATION_S=8 BENCH_ROUNDS=3 BENCH_RATE=500 to tune)
 *
 * Phase 1, closed loop: maximum throughput with a fixed number of connections.
 * Phase 2, fixed rate below saturation: latency at equal offered load.
 */
import { startPlatform } from './lib/platform.ts';
import { runLoad, type LoadResult } from './lib/load.ts';
import { markdownTable, printResultLine, writeResult } from './lib/table.ts';
import type { FunctionReplicas } from '../core/contracts/node-agent.ts';

const DURATION = Number(process.env.BENCH_DURATION_S ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const BODY = 'x'.repeat(64);

function merge(results: LoadResult[]): LoadResult {
  // medians across rounds: robust to one noisy round on a shared machine
  const med = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    requests: results.reduce((a, r) => a + r.requests, 0),
    rps: med(results.map((r) => r.rps)),
    p50: med(results.map((r) => r.p50)),
    p99: med(results.map((r) => r.p99)),
    mean: med(results.map((r) => r.mean)),
    non2xx: results.reduce((a, r) => a + r.non2xx, 0),
    errors: results.reduce((a, r) => a + r.errors, 0),
  };
}

async function main(): Promise<void> {
  process.stderr.write('starting the platform with the echo function…\n');
  const platform = await startPlatform({ filter: 'echo', env: { FASTGSHARE_LOG_LEVEL: 'error' } });
  try {
    const fns = (await (await fetch(`${platform.nodeUrl}/v1/functions`)).json()) as FunctionReplicas[];
    const echo = fns.find((f) => f.name === 'echo');
    const replica = echo?.replicas.find((r) => r.state === 'ready');
    if (!replica) throw new Error('echo has no ready replica');
    // exactly one replica, so both paths end at the same process
    if (echo!.replicas.length !== 1) throw new Error(`expected 1 echo replica, found ${echo!.replicas.length}`);
    const targets = {
      direct: `${replica.url}/`,
      gateway: `${platform.gatewayUrl}/function/echo`,
    };
    const common = { method: 'POST' as const, body: BODY, headers: { 'content-type': 'text/plain' }, connections: CONNECTIONS };
    process.stderr.write(`warming up (${targets.direct}, ${targets.gateway})…\n`);
    await runLoad({ ...common, url: targets.direct, durationS: 2 });
    await runLoad({ ...common, url: targets.gateway, durationS: 2 });

    const closed: Record<'direct' | 'gateway', LoadResult[]> = { direct: [], gateway: [] };
    const fixed: Record<'direct' | 'gateway', LoadResult[]> = { direct: [], gateway: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      const order: ('direct' | 'gateway')[] = round % 2 ? ['direct', 'gateway'] : ['gateway', 'direct'];
      for (const side of order) {
        process.stderr.write(`round ${round}/${ROUNDS}: ${side} closed loop ${DURATION}s…\n`);
        closed[side].push(await runLoad({ ...common, url: targets[side], durationS: DURATION }));
        process.stderr.write(`round ${round}/${ROUNDS}: ${side} at ${RATE} req/s ${DURATION}s…\n`);
        fixed[side].push(await runLoad({ ...common, url: targets[side], durationS: DURATION, rate: RATE }));
      }
    }
    const c = { direct: merge(closed.direct), gateway: merge(closed.gateway) };
    const f = { direct: merge(fixed.direct), gateway: merge(fixed.gateway) };
    const rows = [
      ['closed loop', 'direct', c.direct.rps, c.direct.p50, c.direct.p99, c.direct.non2xx + c.direct.errors],
      ['closed loop', 'gateway', c.gateway.rps, c.gateway.p50, c.gateway.p99, c.gateway.non2xx + c.gateway.errors],
      [`${RATE} req/s`, 'direct', f.direct.rps, f.direct.p50, f.direct.p99, f.direct.non2xx + f.direct.errors],
      [`${RATE} req/s`, 'gateway', f.gateway.rps, f.gateway.p50, f.gateway.p99, f.gateway.non2xx + f.gateway.errors],
    ];
    const result = {
      bench: 'gateway',
      connections: CONNECTIONS,
      durationS: DURATION,
      rounds: ROUNDS,
      throughputRatio: c.gateway.rps / c.direct.rps,
      directRps: c.direct.rps,
      gatewayRps: c.gateway.rps,
      p50OverheadMsAtRate: f.gateway.p50 - f.direct.p50,
      p99OverheadMsAtRate: f.gateway.p99 - f.direct.p99,
      p50OverheadMsClosed: c.gateway.p50 - c.direct.p50,
      rate: RATE,
      errors: c.direct.errors + c.gateway.errors + f.direct.errors + f.gateway.errors + c.direct.non2xx + c.gateway.non2xx + f.direct.non2xx + f.gateway.non2xx,
      targets: { p50OverheadMs: 0.5, throughputRatio: 0.7 },
    };
    const text = [
      `# Gateway overhead (echo, 64-byte POST, ${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${DURATION}s, medians)`,
      '',
      markdownTable(['load', 'path', 'req/s', 'p50 ms', 'p99 ms', 'errors'], rows),
      '',
      `throughput gateway/direct: ${result.throughputRatio.toFixed(3)} (target ≥ 0.7)`,
      `p50 overhead at ${RATE} req/s: ${result.p50OverheadMsAtRate.toFixed(3)} ms (target ≤ 0.5 ms); p99 overhead ${result.p99OverheadMsAtRate.toFixed(3)} ms`,
      `p50 overhead closed loop: ${result.p50OverheadMsClosed.toFixed(3)} ms`,
      '',
      `Command: \`npm run bench:gateway\`; machine: ${process.platform} ${process.arch}, ${(await import('node:os')).cpus().length} cores, node ${process.version}; ${new Date().toISOString()}`,
    ].join('\n');
    await writeResult('gateway', text);
    printResultLine(result);
  } finally {
    await platform.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench:gateway failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
