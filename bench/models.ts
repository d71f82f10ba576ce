/**
 * npm run bench:models — the real model functions through the full HTTP path (load generator →
 * gateway → replica → onnxruntime on pinned cores). For each model and each partition (1 core =
 * 50 %, 2 cores = 100 % of this node), one deployment with max batch B; closed-loop load at
 * concurrency 1…B lets the dynamic batcher form batches of up to that size: items/s, p50, p99 and
 * the mean batch actually formed. Cold start per function: deploy → first 200.
 * Concurrency 1 runs as its own closed loop (one keep-alive connection) that also collects each
 * answer's Server-Timing header (gateway and replica stages): the table of medians per stage, and,
 * for ocr-recognize and text-direction, the model's own time measured in this process right
 * after, with onnxruntime-node on the same model file, input and intra-op threads (the replica's
 * session options): p50 through the gateway − model time is the platform's overhead for one call.
 * Writes bench/results/models.md and ends with a `RESULT {json}` line.
 *   BENCH_SECONDS (default 4) seconds per load point.
 *   BENCH_MODELS  comma-separated functions to run (default all: ocr-recognize, text-direction,
 *                 ocr-detect, vad, ocr).
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import * as ort from 'onnxruntime-node';
import { startPlatform } from './lib/platform.ts';
import { percentile } from '../core/stats/percentile.ts';
import { runLoad } from './lib/load.ts';
import { markdownTable, printResultLine, writeResult } from './lib/table.ts';
import { cpuSessionOptions } from '../templates/onnx-node/runtime/backends/cpu.ts';
import { decodeTextLineImage } from '../templates/onnx-node/runtime/image.ts';
import { parseServerTiming } from '../core/net/server-timing.ts';
import type { Tensors } from '../templates/onnx-node/runtime/tensor.ts';
import { createOcrRecognizeFunction, toRecognizerFeeds } from '../functions/ocr-recognize/index.ts';
import { CLASSIFIER_MODEL, toClassifierFeeds } from '../functions/text-direction/index.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
if (!(SECONDS > 0)) throw new Error(`BENCH_SECONDS must be a number above 0, got "${process.env.BENCH_SECONDS}"`);

/** The Server-Timing stages in the order they happen (gateway first: it runs before and after the replica). */
const STAGES = ['gateway', 'body', 'decode', 'batch', 'token', 'prep', 'infer', 'encode'] as const;

/** How to build the model's feeds from a request body, for the direct (in-process) model timing. */
const DIRECT: Record<string, { modelPath: () => string; feeds: (body: Buffer) => Promise<Tensors> }> = {
  'ocr-recognize': {
    modelPath: () => createOcrRecognizeFunction().path,
    feeds: async (b) => toRecognizerFeeds([await decodeTextLineImage(b, 'application/json')]),
  },
  'text-direction': {
    modelPath: () => CLASSIFIER_MODEL,
    feeds: async (b) => toClassifierFeeds([await decodeTextLineImage(b, 'application/json')]),
  },
};

/** Median of onnxruntime-node session.run on the same model, input and threads as the replica, ms. */
async function directModelMs(fn: string, body: string, threads: number, runs: number): Promise<number | undefined> {
  const d = DIRECT[fn];
  if (!d) return undefined;
  const session = await ort.InferenceSession.create(d.modelPath(), cpuSessionOptions(threads));
  try {
    const feeds = await d.feeds(Buffer.from(body));
    const ortFeeds = Object.fromEntries(
      Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims)]),
    );
    for (let i = 0; i < 5; i++) await session.run(ortFeeds); // warm-up, as the replica does
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await session.run(ortFeeds);
      times.push(performance.now() - t);
    }
    return percentile(
      times.sort((a, b) => a - b),
      50,
    );
  } finally {
    await session.release();
  }
}

interface LightLoad {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  /** Median per Server-Timing stage, ms. */
  stages: Record<string, number>;
  /** Median of (total − Σ stages): client, loopback and what no stage covers. */
  unaccountedMs: number;
}

/** Closed loop at concurrency 1 on one keep-alive connection, reading each answer's Server-Timing. */
async function lightLoad(url: string, body: string, seconds: number): Promise<LightLoad> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const payload = Buffer.from(body);
  const totals: number[] = [];
  const perStage = new Map<string, number[]>();
  const rest: number[] = [];
  let non2xx = 0;
  const one = () =>
    new Promise<{ status: number; ms: number; timing: string | string[] | undefined }>((resolve, reject) => {
      const t = performance.now();
      const req = http.request(
        url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': payload.length } },
        (res) => {
          res.on('data', () => {});
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, ms: performance.now() - t, timing: res.headers['server-timing'] }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  const started = performance.now();
  try {
    while (performance.now() - started < seconds * 1000) {
      const r = await one();
      if (r.status < 200 || r.status >= 300) {
        non2xx++;
        continue;
      }
      totals.push(r.ms);
      let sum = 0;
      for (const e of parseServerTiming(r.timing)) {
        if (e.dur === undefined) continue;
        sum += e.dur;
        let list = perStage.get(e.name);
        if (!list) perStage.set(e.name, (list = []));
        list.push(e.dur);
      }
      rest.push(r.ms - sum);
    }
  } finally {
    agent.destroy();
  }
  const median = (xs: number[]) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      50,
    );
  const elapsed = (performance.now() - started) / 1000;
  return {
    requests: totals.length,
    rps: totals.length / elapsed,
    p50: median(totals),
    p99: percentile(
      [...totals].sort((a, b) => a - b),
      99,
    ),
    non2xx,
    stages: Object.fromEntries([...perStage].map(([k, v]) => [k, median(v)])),
    unaccountedMs: median(rest),
  };
}
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

interface LightPoint {
  model: string;
  cores: number;
  p50: number;
  stages: Record<string, number>;
  unaccountedMs: number;
  modelMs?: number;
  /** p50 through the gateway − model time. */
  overheadMs?: number;
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
  const allCases: ModelCase[] = [
    {
      fn: 'ocr-recognize',
      image: 'ocr-recognize:latest',
      body: JSON.stringify({ image: png }),
      maxBatch: 8,
      levels: [1, 2, 4, 8],
      memory: '768Mi',
      sloMs: 1000,
    },
    {
      fn: 'text-direction',
      image: 'text-direction:latest',
      body: JSON.stringify({ image: png }),
      maxBatch: 16,
      levels: [1, 4, 16],
      memory: '512Mi',
      sloMs: 500,
    },
    {
      fn: 'ocr-detect',
      image: 'ocr-detect:latest',
      body: JSON.stringify({ image: page }),
      maxBatch: 4,
      levels: [1, 2, 4],
      memory: '1Gi',
      sloMs: 3000,
    },
    {
      fn: 'vad',
      image: 'vad:latest',
      body: JSON.stringify({ audio: wav }),
      maxBatch: 8,
      levels: [1, 4, 8],
      memory: '512Mi',
      sloMs: 2000,
    },
    {
      fn: 'ocr',
      image: 'ocr:latest',
      body: JSON.stringify({ image: page }),
      maxBatch: 4,
      levels: [1, 2, 4],
      memory: '1536Mi',
      sloMs: 6000,
    },
  ];
  const wanted = (process.env.BENCH_MODELS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = wanted.filter((w) => !allCases.some((c) => c.fn === w));
  if (unknown.length > 0)
    throw new Error(
      `BENCH_MODELS: unknown function(s) ${unknown.join(', ')}; choose from ${allCases.map((c) => c.fn).join(', ')}`,
    );
  const cases = wanted.length > 0 ? allCases.filter((c) => wanted.includes(c.fn)) : allCases;

  const platform = await startPlatform({
    stack: 'stack.yml',
    env: { FASTGSHARE_LOG_LEVEL: 'error', FASTGSHARE_AUTOSCALE: 'false' },
  });
  const gw = platform.gatewayUrl;
  const points: Point[] = [];
  const light: LightPoint[] = [];
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
            annotations: {
              'fastgshare/device': 'cpu',
              'fastgshare/gpu_sm_partition': String(partition),
              'fastgshare/max_batch': String(c.maxBatch),
              'fastgshare/slo_ms': String(c.sloMs),
            },
            limits: { memory: c.memory },
          }),
        });
        if (res.status >= 300) throw new Error(`deploy ${name}: ${res.status} ${await res.text()}`);
        await until(
          async () =>
            (
              await fetch(`${gw}/function/${name}`, {
                method: 'POST',
                body: c.body,
                headers: { 'content-type': 'application/json' },
              })
            ).status === 200
              ? true
              : undefined,
          120_000,
          `${name} ready`,
        );
        const coldMs = performance.now() - deployedAt;
        if (cores === 2) coldStarts[c.fn] = coldMs;
        process.stderr.write(`${name}: cold start ${coldMs.toFixed(0)} ms\n`);
        for (const concurrency of c.levels) {
          const stats = async () =>
            ((await (await fetch(`${gw}/function/${name}`)).json()) as { stats: { batches: number; served: number } })
              .stats;
          const before = await stats();
          const r =
            concurrency === 1
              ? await lightLoad(`${gw}/function/${name}`, c.body, SECONDS)
              : await runLoad({
                  url: `${gw}/function/${name}`,
                  body: c.body,
                  headers: { 'content-type': 'application/json' },
                  connections: concurrency,
                  durationS: SECONDS,
                });
          const after = await stats();
          if ('stages' in r) {
            const modelMs = await directModelMs(c.fn, c.body, cores, 50);
            const lp: LightPoint = {
              model: c.fn,
              cores,
              p50: r.p50,
              stages: r.stages,
              unaccountedMs: r.unaccountedMs,
              ...(modelMs !== undefined ? { modelMs, overheadMs: r.p50 - modelMs } : {}),
            };
            light.push(lp);
            const stages = STAGES.filter((s) => s in r.stages)
              .map((s) => `${s} ${r.stages[s]!.toFixed(2)}`)
              .join(', ');
            process.stderr.write(
              `  c=1 Server-Timing medians (ms): ${stages}; not covered ${r.unaccountedMs.toFixed(2)}\n`,
            );
            if (modelMs !== undefined)
              process.stderr.write(
                `  c=1 model alone (onnxruntime-node, ${cores} thread${cores > 1 ? 's' : ''}): ${modelMs.toFixed(2)} ms; p50 − model = ${(r.p50 - modelMs).toFixed(2)} ms\n`,
              );
          }
          const meanBatch = (after.served - before.served) / Math.max(1, after.batches - before.batches);
          points.push({
            model: c.fn,
            cores,
            concurrency,
            itemsPerS: r.rps,
            p50: r.p50,
            p99: r.p99,
            meanBatch,
            non2xx: r.non2xx,
          });
          process.stderr.write(
            `  c=${concurrency}: ${r.rps.toFixed(1)} items/s p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms batch ${meanBatch.toFixed(2)}\n`,
          );
        }
        await fetch(`${gw}/system/functions`, {
          method: 'DELETE',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ functionName: name }),
        });
      }
    }
    // The stack's own replicas of the functions with a direct model timing run token-gated
    // (stack.yml sets a time quota: 1 core, every batch under a device token), alone with work on
    // their device: one call at a time there shows what the token round trip adds.
    for (const c of cases.filter((k) => DIRECT[k.fn])) {
      const r = await lightLoad(`${gw}/function/${c.fn}`, c.body, SECONDS);
      const modelMs = await directModelMs(c.fn, c.body, 1, 50);
      light.push({
        model: `${c.fn} (stack, token-gated)`,
        cores: 1,
        p50: r.p50,
        stages: r.stages,
        unaccountedMs: r.unaccountedMs,
        ...(modelMs !== undefined ? { modelMs, overheadMs: r.p50 - modelMs } : {}),
      });
      const stages = STAGES.filter((st) => st in r.stages)
        .map((st) => `${st} ${r.stages[st]!.toFixed(2)}`)
        .join(', ');
      process.stderr.write(
        `${c.fn} (stack, token-gated, 1 core) c=1: p50 ${r.p50.toFixed(2)} ms; ${stages}; not covered ${r.unaccountedMs.toFixed(2)}; model alone ${modelMs?.toFixed(2)} ms\n`,
      );
    }
  } finally {
    await platform.stop();
  }

  const rows = points.map((p) => [p.model, p.cores, p.concurrency, p.meanBatch, p.itemsPerS, p.p50, p.p99, p.non2xx]);
  const best = Object.fromEntries(
    cases.map((c) => {
      const of = (cores: number) =>
        Math.max(...points.filter((p) => p.model === c.fn && p.cores === cores).map((p) => p.itemsPerS));
      const b1 = points.find((p) => p.model === c.fn && p.cores === 1 && p.concurrency === 1)!;
      return [
        c.fn,
        { itemsPerS1Core: of(1), itemsPerS2Cores: of(2), batch1P50Ms1Core: b1.p50, coldStartMs: coldStarts[c.fn] },
      ];
    }),
  );
  const text = [
    '# bench:models — real model functions through the gateway',
    '',
    `Closed-loop load (autocannon) through the gateway, ${SECONDS} s per point; one replica per (model, partition), pinned with taskset to 1 core (50 %) or 2 cores (100 %) of this node; intra-op threads = cores; max batch as in the table's largest concurrency; SLO per model as in the last column of the setup (requests that cannot meet it are shed with 429 and counted as non-2xx); the batcher waits for a fuller batch at most SLO/2 − ℓ(max batch). "batch" is the mean batch the dynamic batcher formed. Inputs: the test fixtures (hello-world-2024.png line, page-lines.png page with 4 lines, speech-16k.wav 5.9 s) as base64 JSON.`,
    '',
    markdownTable(['model', 'cores', 'concurrency', 'batch', 'items/s', 'p50 ms', 'p99 ms', 'non-2xx'], rows),
    '',
    '## One call at a time: where the time goes (concurrency 1, medians of Server-Timing stages)',
    '',
    'gateway = time in the gateway less the upstream; body … encode = the replica\'s stages (server-timing.ts); "not covered" = median of (client-measured total − Σ stages): the load generator, loopback and HTTP parsing on both hops. "model" = onnxruntime-node session.run on the same model file, input and intra-op threads, in the bench process right after the load (not pinned to the replica\'s core); "p50 − model" is what the platform adds to one call.',
    '',
    markdownTable(
      ['model', 'cores', 'p50 ms', ...STAGES, 'not covered', 'model ms', 'p50 − model ms'],
      light.map((l) => [
        l.model,
        l.cores,
        l.p50,
        ...STAGES.map((s) => l.stages[s] ?? NaN),
        l.unaccountedMs,
        l.modelMs ?? NaN,
        l.overheadMs ?? NaN,
      ]),
    ),
    '',
    '## Cold start (deploy through the gateway → first 200, 2-core partition)',
    '',
    markdownTable(
      ['function', 'cold start ms'],
      cases.map((c) => [c.fn, coldStarts[c.fn] ?? NaN]),
    ),
    '',
  ].join('\n');
  await writeResult('models', text);
  const lightLoadResult = Object.fromEntries(
    light.map((l) => [
      `${l.model}@${l.cores}c`,
      { p50Ms: l.p50, modelMs: l.modelMs, overheadMs: l.overheadMs, stagesMs: l.stages, notCoveredMs: l.unaccountedMs },
    ]),
  );
  printResultLine({ bench: 'models', seconds: SECONDS, models: best, lightLoad: lightLoadResult });
}

main().catch((err) => {
  process.stderr.write(`bench:models failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
