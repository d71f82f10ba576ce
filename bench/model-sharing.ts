/**
 * Model sharing benchmark (`npm run bench:model-sharing`): 4 replicas of ocr-recognize on one node
 * (cpu device, partition 50 each, no quotas), with the annotation fastgshare/model_sharing off and
 * on, alternating, in one run. Per mode:
 *   - start time of each replica (agent's readyAt − startedAt: spawn, load, warm-up), started one
 *     after another so they do not compete; with sharing on the first replica builds the node's
 *     shared copy (the cache is emptied first) and the later ones map it;
 *   - memory of the 4 replica processes from /proc/<pid>/smaps_rollup: PSS (shared pages split
 *     among the processes that map them) and USS (pages only that process holds), idle after
 *     warm-up and again after load;
 *   - closed-loop throughput and latency with every replica loaded (the same text line).
 * Table in bench/results/model-sharing.md, last line RESULT {json}.
 */
import { readFile, rm } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { PLATFORM_ROOT } from '../core/version.ts';
import { markdownTable, printResultLine, writeResult } from './lib/table.ts';
import { buildStack, startBenchNode, type BenchNode } from './lib/sharing-node.ts';
import { closeLoadAgent, closedLoop, useForwardToken } from './lib/sharing-load.ts';
import { median } from '../core/stats/percentile.ts';

type Sharing = 'off' | 'on';
const REPLICAS = Number(process.env.BENCH_REPLICAS ?? 4);
const LOAD_S = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CLIENTS_PER_REPLICA = 4;
const FN = 'ocr-recognize';
const log = (m: string) => process.stderr.write(`[bench:model-sharing] ${m}\n`);

interface Memory {
  pssMiB: number;
  ussMiB: number;
  rssMiB: number;
}

interface ModeRun {
  sharing: Sharing;
  startMs: number[];
  idle: Memory;
  loaded: Memory;
  itemsPerS: number;
  p50: number;
  p99: number;
}

async function processMemory(pids: number[]): Promise<Memory> {
  let pss = 0;
  let uss = 0;
  let rss = 0;
  for (const pid of pids) {
    const t = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(t)?.[1] ?? NaN);
    pss += kb('Pss');
    uss += kb('Private_Clean') + kb('Private_Dirty');
    rss += kb('Rss');
  }
  return { pssMiB: pss / 1024, ussMiB: uss / 1024, rssMiB: rss / 1024 };
}

async function waitReady(node: BenchNode, n: number): Promise<Awaited<ReturnType<BenchNode['replicas']>>> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const reps = await node.replicas(FN);
    const ready = reps.filter((r) => r.state === 'ready');
    if (ready.length >= n && reps.every((r) => r.state === 'ready')) return ready;
    if (Date.now() > deadline)
      throw new Error(
        `${FN}: ${ready.length}/${n} replicas ready after 120 s: ${JSON.stringify(reps.map((r) => [r.state, r.lastExit?.reason]))}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function runMode(node: BenchNode, sharing: Sharing, png: Buffer): Promise<ModeRun> {
  await rm(join(node.dataDir, 'model-cache'), { recursive: true, force: true });
  const annotations = { 'fastgshare/model_sharing': sharing };
  const startMs: number[] = [];
  const seen = new Set<string>();
  for (let n = 1; n <= REPLICAS; n++) {
    await node.deploy(FN, FN, { partition: 50 }, { replicas: n, annotations });
    const ready = await waitReady(node, n);
    const fresh = ready.filter((r) => !seen.has(r.id));
    for (const r of fresh) {
      seen.add(r.id);
      startMs.push(Date.parse(r.readyAt!) - Date.parse(r.startedAt));
    }
  }
  const ready = await waitReady(node, REPLICAS);
  const pids = ready.map((r) => r.pid!).filter(Boolean);
  await new Promise((r) => setTimeout(r, 1000));
  const idle = await processMemory(pids);
  const loads = await Promise.all(
    ready.map((r) => closedLoop(useForwardToken(r), png, 'image/png', CLIENTS_PER_REPLICA, LOAD_S)),
  );
  const loaded = await processMemory(pids);
  await node.remove(FN);
  for (const deadline = Date.now() + 30_000; (await node.replicas(FN)).length > 0 && Date.now() < deadline;)
    await new Promise((r) => setTimeout(r, 100));
  const itemsPerS = loads.reduce((a, l) => a + l.rps, 0);
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    sharing,
    startMs,
    idle,
    loaded,
    itemsPerS,
    p50: med(loads.map((l) => l.p50)),
    p99: Math.max(...loads.map((l) => l.p99)),
  };
}

const round = (n: number, d = 1) => Number(n.toFixed(d));

async function main(): Promise<void> {
  const started = Date.now();
  const png = await readFile(join(PLATFORM_ROOT, 'test/functions/fixtures/hello-world-2024.png'));
  log(`building ${FN}`);
  const built = await buildStack('stack.yml', [FN]);
  const node = await startBenchNode(built, false);
  const runs: ModeRun[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const sharing of ['off', 'on'] as const) {
        log(`round ${round + 1}/${ROUNDS}: sharing ${sharing}`);
        const r = await runMode(node, sharing, png);
        log(
          `  start ${r.startMs.map((x) => x.toFixed(0)).join('/')} ms, PSS ${r.idle.pssMiB.toFixed(1)} MiB, USS ${r.idle.ussMiB.toFixed(1)} MiB, ${r.itemsPerS.toFixed(1)} items/s`,
        );
        runs.push(r);
      }
    }
  } finally {
    await node.close();
    await built.close();
    closeLoadAgent();
  }

  // medians over rounds, per mode
  const agg = (s: Sharing) => {
    const rs = runs.filter((r) => r.sharing === s);
    const m = (f: (r: ModeRun) => number) => median(rs.map(f));
    return {
      firstStartMs: m((r) => r.startMs[0]!),
      laterStartMs: m((r) => median(r.startMs.slice(1))),
      idlePss: m((r) => r.idle.pssMiB),
      idleUss: m((r) => r.idle.ussMiB),
      idleRss: m((r) => r.idle.rssMiB),
      loadedPss: m((r) => r.loaded.pssMiB),
      loadedUss: m((r) => r.loaded.ussMiB),
      itemsPerS: m((r) => r.itemsPerS),
      p50: m((r) => r.p50),
      p99: m((r) => r.p99),
    };
  };
  const off = agg('off');
  const on = agg('on');
  const rows: (string | number)[][] = [
    [
      `PSS of ${REPLICAS} replicas, idle after warm-up (MiB)`,
      round(off.idlePss),
      round(on.idlePss),
      round(on.idlePss / off.idlePss, 3),
    ],
    [
      `USS of ${REPLICAS} replicas, idle (MiB)`,
      round(off.idleUss),
      round(on.idleUss),
      round(on.idleUss / off.idleUss, 3),
    ],
    [
      `RSS of ${REPLICAS} replicas, idle (MiB; shared pages counted in each)`,
      round(off.idleRss),
      round(on.idleRss),
      round(on.idleRss / off.idleRss, 3),
    ],
    [
      `PSS of ${REPLICAS} replicas, after load (MiB)`,
      round(off.loadedPss),
      round(on.loadedPss),
      round(on.loadedPss / off.loadedPss, 3),
    ],
    [
      `USS of ${REPLICAS} replicas, after load (MiB)`,
      round(off.loadedUss),
      round(on.loadedUss),
      round(on.loadedUss / off.loadedUss, 3),
    ],
    [
      'start time, first replica (ms)',
      round(off.firstStartMs, 0),
      round(on.firstStartMs, 0),
      round(on.firstStartMs / off.firstStartMs, 3),
    ],
    [
      'start time, later replicas, median (ms)',
      round(off.laterStartMs, 0),
      round(on.laterStartMs, 0),
      round(on.laterStartMs / off.laterStartMs, 3),
    ],
    [
      `closed loop, ${REPLICAS} × ${CLIENTS_PER_REPLICA} clients, items/s`,
      round(off.itemsPerS),
      round(on.itemsPerS),
      round(on.itemsPerS / off.itemsPerS, 3),
    ],
    ['latency p50 (ms)', round(off.p50), round(on.p50), round(on.p50 / off.p50, 3)],
    ['latency p99 (ms)', round(off.p99), round(on.p99), round(on.p99 / off.p99, 3)],
  ];
  const perRun = markdownTable(
    ['round', 'sharing', 'start ms (replica 1…n)', 'PSS idle', 'USS idle', 'PSS loaded', 'items/s'],
    runs.map((r, i) => [
      String(Math.floor(i / 2) + 1),
      r.sharing,
      r.startMs.map((x) => x.toFixed(0)).join(' / '),
      round(r.idle.pssMiB),
      round(r.idle.ussMiB),
      round(r.loaded.pssMiB),
      round(r.itemsPerS),
    ]),
  );
  const text = `# Model sharing benchmark

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; node ${process.version}. ${REPLICAS} replicas of ${FN} (PP-OCRv4 recogniser, 10.8 MB of weights) on one node, cpu device, partition 50 each (1 core of 2 per replica), no time quotas; annotation \`fastgshare/model_sharing\` off vs on, alternating, ${ROUNDS} rounds, medians. Replicas start one after another; the model cache is emptied before each mode, so with sharing on the first replica builds the shared copy. Load: ${CLIENTS_PER_REPLICA} closed-loop clients per replica for ${LOAD_S} s, one text line (the "Hello World 2024" fixture).

| measure | sharing off | sharing on | on / off |
| --- | --- | --- | --- |
${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}

Per run:

${perRun}

PSS splits each shared page among the processes mapping it, so it is the honest total; USS is what each replica holds alone. Start time is the agent's readyAt − startedAt (process spawn, runtime and model load, warm-up batches). Run time ${((Date.now() - started) / 1000).toFixed(0)} s.
`;
  await writeResult('model-sharing', text);
  printResultLine({
    bench: 'model-sharing',
    replicas: REPLICAS,
    off: Object.fromEntries(Object.entries(off).map(([k, v]) => [k, round(v, 2)])),
    on: Object.fromEntries(Object.entries(on).map(([k, v]) => [k, round(v, 2)])),
    ratios: {
      idlePss: round(on.idlePss / off.idlePss, 3),
      idleUss: round(on.idleUss / off.idleUss, 3),
      itemsPerS: round(on.itemsPerS / off.itemsPerS, 3),
      laterStart: round(on.laterStartMs / off.laterStartMs, 3),
    },
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:model-sharing failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
