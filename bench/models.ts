/**
 * npm run bench:models — the real model functions through the full HTTP path (load generator →
 * gateway → replica → onnxruntime on pinned cores). For each model and each partition (1 core =
 * 50 %, 2 cores = 100 % of this node), one deployment with max batch B; closed-loop load at
 * concurrency 1…B lets the dynamic batcher form batches of up to that size: items/s, p50, p99 and
 * the mean batch actually formed. Cold start per function: deploy → first 200.
 * Writes bench/results/models.md and ends with a `RESULT {json}` line.
 *   BENCH_SECONDS (default 4) seconds per load point.
 */
import { readFile } from 'node:fs/promises';
import { startPlatform } from './lib/platform.ts';
import { runLoad } from './lib/load.ts';
import { markdownTable, printResultLine, writeResult } from './lib/table.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const fixture = (name: string) => readFile(new URL(`../test/functions/fixtures/${name}`, import.meta.url));

interface ModelCase {
  fn: string;
  image: string;
  body: string;
  maxBatch: number;
  levels: number[];
  memory: string;
  sloMs: number;
}

interface Point {
  model: string;
  cores: number;
  concurrency: number;
  itemsPerS: number;
  p50: number;
  p99: number;
  meanBatch: number;
  non2xx: number;
}

async function until<T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out: ${what}`);
}

async function main(): Promise<void> {
  const png = (await fixture('hello-world-2024.png')).toString('base64');
  const page = (await fixture('page-lines.png')).toString('base64');
  const wav = (await fixture('speech-16k.wav')).toString('base64');
  const cases: ModelCase[] = [
    { fn: 'ocr-recognize', image: 'ocr-recognize:latest', body: JSON.stringify({ image: png }), maxBatch: 8, levels: [1, 2, 4, 8], memory: '768Mi', sloMs: 1000 },
    { fn: 'text-direction', image: 'text-direction:latest', body: JSON.stringify({ image: png }), maxBatch: 16, levels: [1, 4, 16], memory: '512Mi', sloMs: 500 },
    { fn: 'ocr-detect', image: 'ocr-detect:latest', body: JSON.stringify({ image: page }), maxBatch: 4, levels: [1, 2, 4], memory: '1Gi', sloMs: 3000 },
    { fn: 'vad', image: 'vad:latest', body: JSON.stringify({ audio: wav }), maxBatch: 8, levels: [1, 4, 8], memory: '512Mi', sloMs: 2000 },
    { fn: 'ocr', image: 'ocr:latest', body: JSON.stringify({ image: page }), maxBatch: 4, levels: [1, 2, 4], memory: '1536Mi', sloMs: 6000 },
  ];

  const platform = await startPlatform({ stack: 'stack.yml', env: { FASTGSHARE_LOG_LEVEL: 'error', FASTGSHARE_AUTOSCALE: 'false' } });
  const gw = platform.gatewayUrl;
  const points: Point[] = [];
  const coldStarts: Record<string, number> = {};
  try {
    // the stack's own replicas stay up but idle (no load reaches them)
    for (const c of cases) {
      for (const partition of [50, 100]) {
        const cores = partition === 50 ? 1 : 2;
        const name = `bench-${c.fn}-${cores}c`;
        const deployedAt = performance.now();
        const res = await fetch(`${gw}/system/functions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            service: name,
            image: c.image,
            labels: { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '1' },
            annotations: { 'fastgshare/device': 'cpu', 'fastgshare/gpu_sm_partition': String(partition), 'fastgshare/max_batch': String(c.maxBatch), 'fastgshare/slo_ms': String(c.sloMs) },
            limits: { memory: c.memory },
          }),
        });
        if (res.status >= 300) throw new Error(`deploy ${name}: ${res.status} ${await res.text()}`);
        await until(async () => ((await fetch(`${gw}/function/${name}`, { method: 'POST', body: c.body, headers: { 'content-type': 'application/json' } })).status === 200 ? true : undefined), 120_000, `${name} ready`);
        const coldMs = performance.now() - deployedAt;
        if (cores === 2) coldStarts[c.fn] = coldMs;
        process.stderr.write(`${name}: cold start ${coldMs.toFixed(0)} ms\n`);
        for (const concurrency of c.levels) {
          const stats = async () => ((await (await fetch(`${gw}/function/${name}`)).json()) as { stats: { batches: number; served: number } }).stats;
          const before = await stats();
          const r = await runLoad({ url: `${gw}/function/${name}`, body: c.body, headers: { 'content-type': 'application/json' }, connections: concurrency, durationS: SECONDS });
          const after = await stats();
          const meanBatch = (after.served - before.served) / Math.max(1, after.batches - before.batches);
          points.push({ model: c.fn, cores, concurrency, itemsPerS: r.rps, p50: r.p50, p99: r.p99, meanBatch, non2xx: r.non2xx });
          process.stderr.write(`  c=${concurrency}: ${r.rps.toFixed(1)} items/s p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms batch ${meanBatch.toFixed(2)}\n`);
        }
        await fetch(`${gw}/system/functions`, { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ functionName: name }) });
      }
    }
  } finally {
    await platform.stop();
  }

  const rows = points.map((p) => [p.model, p.cores, p.concurrency, p.meanBatch, p.itemsPerS, p.p50, p.p99, p.non2xx]);
  const best = Object.fromEntries(
    cases.map((c) => {
      const of = (cores: number) => Math.max(...points.filter((p) => p.model === c.fn && p.cores === cores).map((p) => p.itemsPerS));
      const b1 = points.find((p) => p.model === c.fn && p.cores === 1 && p.concurrency === 1)!;
      return [c.fn, { itemsPerS1Core: of(1), itemsPerS2Cores: of(2), batch1P50Ms1Core: b1.p50, coldStartMs: coldStarts[c.fn] }];
    }),
  );
  const text = [
    '# bench:models — real model functions through the gateway',
    '',
    `Closed-loop load (autocannon) through the gateway, ${SECONDS} s per point; one replica per (model, partition), pinned with taskset to 1 core (50 %) or 2 cores (100 %) of this node; intra-op threads = cores; max batch as in the table's largest concurrency; SLO per model as in the last column of the setup (requests that cannot meet it are shed with 429 and counted as non-2xx); the batcher waits for a fuller batch at most SLO/2 − ℓ(max batch). "batch" is the mean batch the dynamic batcher formed. Inputs: the test fixtures (hello-world-2024.png line, page-lines.png page with 4 lines, speech-16k.wav 5.9 s) as base64 JSON.`,
    '',
    markdownTable(['model', 'cores', 'concurrency', 'batch', 'items/s', 'p50 ms', 'p99 ms', 'non-2xx'], rows),
    '',
    '## Cold start (deploy through the gateway → first 200, 2-core partition)',
    '',
    markdownTable(['function', 'cold start ms'], cases.map((c) => [c.fn, coldStarts[c.fn] ?? NaN])),
    '',
  ].join('\n');
  await writeResult('models', text);
  printResultLine({ bench: 'models', seconds: SECONDS, models: best });
}

main().catch((err) => {
  process.stderr.write(`bench:models failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
