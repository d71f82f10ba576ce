/**
 * Gateway overhead: the echo function called directly on its replica vs through the gateway,
 * under the same load, in the same run, alternating rounds so machine noise hits both sides.
 *
 *   npm run bench:gateway            (BENCH_DURATION_S=8 BENCH_ROUNDS=3 BENCH_RATE=500 to tune)
 *
 * Phase 1, closed loop: maximum throughput with a fixed number of connections.
 * Phase 2, fixed rate below saturation: latency at equal offered load.
 * A third path, a bare http-proxy hop (bench/lib/bare-proxy.ts) in its own process, shows what
 * any proxy hop costs on this machine, so the gateway's own share can be told apart.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { startPlatform, freePort } from './lib/platform.ts';
import { PLATFORM_ROOT } from '../core/version.ts';
import { runLoad, type LoadResult } from './lib/load.ts';
import { markdownTable, printResultLine, writeResult } from './lib/table.ts';
import { FORWARD_TOKEN_HEADER, type FunctionReplicas } from '../core/contracts/node-agent.ts';

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
  let stopBare = () => {};
  try {
    const fns = (await (await platform.nodeFetch(`/v1/functions`)).json()) as FunctionReplicas[];
    const echo = fns.find((f) => f.name === 'echo');
    const replica = echo?.replicas.find((r) => r.state === 'ready');
    if (!replica) throw new Error('echo has no ready replica');
    // exactly one replica, so both paths end at the same process
    if (echo!.replicas.length !== 1) throw new Error(`expected 1 echo replica, found ${echo!.replicas.length}`);
    const barePort = await freePort();
    const bare = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/lib/bare-proxy.ts', String(barePort), replica.url, replica.forwardToken ?? ''],
      { cwd: PLATFORM_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await once(bare.stdout!, 'data');
    stopBare = () => bare.kill('SIGTERM');
    const targets = {
      direct: `${replica.url}/`,
      'bare proxy': `http://127.0.0.1:${barePort}/`,
      gateway: `${platform.gatewayUrl}/function/echo`,
    };
    const common = {
      method: 'POST' as const,
      body: BODY,
      headers: { 'content-type': 'text/plain' },
      connections: CONNECTIONS,
    };
    process.stderr.write(`warming up (${targets.direct}, ${targets.gateway})…\n`);
    type Side = keyof typeof targets;
    const sides = Object.keys(targets) as Side[];
    // the direct side sends the replica's forward token itself (the proxies add it)
    const load = (side: Side, o: { durationS: number; rate?: number }) =>
      runLoad({
        ...common,
        ...(side === 'direct' && replica.forwardToken
          ? { headers: { ...common.headers, [FORWARD_TOKEN_HEADER]: replica.forwardToken } }
          : {}),
        url: targets[side],
        ...o,
      });
    for (const side of sides) await load(side, { durationS: 2 });

    const closed = Object.fromEntries(sides.map((s) => [s, [] as LoadResult[]])) as Record<Side, LoadResult[]>;
    const fixed = Object.fromEntries(sides.map((s) => [s, [] as LoadResult[]])) as Record<Side, LoadResult[]>;
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 ? sides : sides.slice().reverse();
      for (const side of order) {
        process.stderr.write(`round ${round}/${ROUNDS}: ${side} closed loop ${DURATION}s…\n`);
        closed[side].push(await load(side, { durationS: DURATION }));
        process.stderr.write(`round ${round}/${ROUNDS}: ${side} at ${RATE} req/s ${DURATION}s…\n`);
        fixed[side].push(await load(side, { durationS: DURATION, rate: RATE }));
      }
    }
    const c = Object.fromEntries(sides.map((s) => [s, merge(closed[s])])) as Record<Side, LoadResult>;
    const f = Object.fromEntries(sides.map((s) => [s, merge(fixed[s])])) as Record<Side, LoadResult>;
    const rows = [
      ...sides.map((s) => [
        'closed loop',
        s,
        c[s].rps,
        c[s].p50,
        c[s].p99,
        c[s].rps / c.direct.rps,
        c[s].non2xx + c[s].errors,
      ]),
      ...sides.map((s) => [
        `${RATE} req/s`,
        s,
        f[s].rps,
        f[s].p50,
        f[s].p99,
        f[s].p50 - f.direct.p50,
        f[s].non2xx + f[s].errors,
      ]),
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
      bareProxyRps: c['bare proxy'].rps,
      gatewayVsBareProxy: c.gateway.rps / c['bare proxy'].rps,
      bareProxyP50OverheadMsAtRate: f['bare proxy'].p50 - f.direct.p50,
      rate: RATE,
      errors: sides.reduce((a, s) => a + c[s].errors + c[s].non2xx + f[s].errors + f[s].non2xx, 0),
      targets: { p50OverheadMs: 0.5, throughputRatio: 0.7 },
    };
    const text = [
      `# Gateway overhead (echo, 64-byte POST, ${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${DURATION}s, medians)`,
      '',
      'Closed-loop rows: the 6th column is throughput ÷ direct. Fixed-rate rows: it is p50 minus direct p50 (ms).',
      '',
      markdownTable(['load', 'path', 'req/s', 'p50 ms', 'p99 ms', 'vs direct', 'errors'], rows),
      '',
      `throughput gateway/direct: ${result.throughputRatio.toFixed(3)} (target ≥ 0.7)`,
      `p50 overhead at ${RATE} req/s: ${result.p50OverheadMsAtRate.toFixed(3)} ms (target ≤ 0.5 ms); p99 overhead ${result.p99OverheadMsAtRate.toFixed(3)} ms`,
      `p50 overhead closed loop: ${result.p50OverheadMsClosed.toFixed(3)} ms`,
      `gateway ÷ bare http-proxy throughput: ${result.gatewayVsBareProxy.toFixed(3)}; bare proxy p50 overhead at ${RATE} req/s: ${result.bareProxyP50OverheadMsAtRate.toFixed(3)} ms`,
      '',
      `Command: \`npm run bench:gateway\`; machine: ${process.platform} ${process.arch}, ${(await import('node:os')).cpus().length} cores, node ${process.version}; ${new Date().toISOString()}`,
    ].join('\n');
    await writeResult('gateway', text);
    printResultLine(result);
  } finally {
    stopBare();
    await platform.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench:gateway failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
