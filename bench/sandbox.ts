/**
 * npm run bench:sandbox — what the replica sandbox (fast-manager/sandbox/: bubblewrap, an own uid,
 * cgroup limits) costs, against replicas run as plain child processes (FASTGSHARE_SANDBOX=off),
 * in one run. Two platforms run side by side from the same images (one per mode, each on its own
 * data dir and ports, no stack deployed, autoscaler off); the rounds alternate between them
 * (on, off, on, off, …) so that the machine's drifting load falls on both modes alike. Per round
 * and mode, for `echo` and for `ocr-recognize` (one replica, cpu device, the stack's annotations):
 *   - cold start: POST /system/functions → first 200 through the gateway (as bench/models.ts), and
 *     the agent's own replica start (readyAt − startedAt: spawn, sandbox set-up, load, health);
 *   - per-invocation latency at concurrency 1 over one keep-alive socket, p50 and p99: through the
 *     gateway and straight to the replica's port (with its forward token, as the gateway sends it);
 *   - a check that the mode is what it claims: the replica's processes run as a uid of their own
 *     with the sandbox on, as the agent's uid with it off (the bench fails otherwise).
 * Reports the median and the range (min–max) over the rounds of each figure and the difference
 * on − off of the medians. Table in bench/results/sandbox.md, last line RESULT {json}.
 *   BENCH_ROUNDS (3), BENCH_ECHO_CALLS (2000), BENCH_ECHO_DIRECT_CALLS (1000),
 *   BENCH_OCR_CALLS (80), BENCH_OCR_DIRECT_CALLS (20).
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FORWARD_TOKEN_HEADER, type FunctionReplicas, type ReplicaStatus } from '../core/contracts/node-agent.ts';
import { PLATFORM_ROOT } from '../core/version.ts';
import { startPlatform, type RunningPlatform } from './lib/platform.ts';
import { median, percentile } from '../core/stats/percentile.ts';
import { markdownTable, printResultLine, writeResult } from './lib/table.ts';

type Mode = 'on' | 'off';
const MODES: readonly Mode[] = ['on', 'off'];
const count = (name: string, dflt: number, min: number): number => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name}="${process.env[name]}" must be an integer ≥ ${min}`);
  return v;
};
const ROUNDS = count('BENCH_ROUNDS', 3, 1);
const log = (m: string) => process.stderr.write(`[bench:sandbox] ${m}\n`);

interface Case {
  key: 'echo' | 'ocr';
  fn: 'echo' | 'ocr-recognize';
  body: Buffer;
  contentType: string;
  gatewayCalls: number;
  directCalls: number;
  warmupCalls: number;
  deploy: { labels: Record<string, string>; annotations: Record<string, string>; limits?: { memory: string } };
}

/** One mode's figures in one round. */
interface Sample {
  coldMs: number;
  replicaStartMs: number;
  gw: { p50: number; p99: number; n: number };
  direct?: { p50: number; p99: number; n: number };
  uid: string;
}

const exec = promisify(execFile);
const SCALE_1 = { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '1' };

async function main(): Promise<void> {
  const png = await readFile(join(PLATFORM_ROOT, 'test/functions/fixtures/hello-world-2024.png'));
  const cases: Case[] = [
    {
      key: 'echo',
      fn: 'echo',
      body: Buffer.from('hello sandbox'),
      contentType: 'text/plain',
      gatewayCalls: count('BENCH_ECHO_CALLS', 2000, 10),
      directCalls: count('BENCH_ECHO_DIRECT_CALLS', 1000, 0),
      warmupCalls: 50,
      deploy: { labels: SCALE_1, annotations: { 'com.openfaas.health.http.path': '/_/health' } },
    },
    {
      // the stack's ocr-recognize (stack.yml): 1 of 2 cores, a guaranteed 0.3 of the token window;
      // a wide SLO so that a busy machine does not shed calls (429); at concurrency 1 an idle
      // executor takes each request at once, so the SLO adds no batching wait
      key: 'ocr',
      fn: 'ocr-recognize',
      body: png,
      contentType: 'image/png',
      gatewayCalls: count('BENCH_OCR_CALLS', 80, 5),
      directCalls: count('BENCH_OCR_DIRECT_CALLS', 20, 0),
      warmupCalls: 3,
      deploy: {
        labels: SCALE_1,
        annotations: {
          'com.openfaas.health.http.path': '/_/health',
          'fastgshare/device': 'cpu',
          'fastgshare/gpu_sm_partition': '50',
          'fastgshare/gpu_quota_request': '0.3',
          'fastgshare/gpu_quota_limit': '1',
          'fastgshare/slo_ms': '10000',
          'fastgshare/max_batch': '8',
        },
        limits: { memory: '768Mi' },
      },
    },
  ];

  const load0 = loadavg();
  const started = performance.now();
  // the images once, copied into each platform's data dir: both modes run the same bundles
  const buildDir = await mkdtemp(join(tmpdir(), 'fastgshare-bench-sbx-build-'));
  const dataDirs: Partial<Record<Mode, string>> = {};
  const platforms: Partial<Record<Mode, RunningPlatform>> = {};
  const samples: Record<Mode, Record<Case['key'], Sample[]>> = {
    on: { echo: [], ocr: [] },
    off: { echo: [], ocr: [] },
  };
  try {
    log('building echo and ocr-recognize');
    await Promise.all(
      cases.map((c) =>
        exec(process.execPath, ['bin/fastgshare.mjs', 'build', '-f', 'stack.yml', '--filter', c.fn], {
          cwd: PLATFORM_ROOT,
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', FASTGSHARE_DATA_DIR: buildDir },
        }),
      ),
    );
    for (const mode of MODES) {
      const dir = await mkdtemp(join(tmpdir(), `fastgshare-bench-sbx-${mode}-`));
      dataDirs[mode] = dir;
      await cp(join(buildDir, 'images'), join(dir, 'images'), { recursive: true, verbatimSymlinks: true });
    }
    log('starting a platform with FASTGSHARE_SANDBOX=on and one with =off');
    const env = (mode: Mode) => ({
      FASTGSHARE_SANDBOX: mode,
      FASTGSHARE_AUTOSCALE: 'false',
      FASTGSHARE_LOG_LEVEL: 'error',
      FASTGSHARE_DRAIN_TIMEOUT_MS: '3000',
    });
    const starts = await Promise.allSettled(
      MODES.map((mode) => startPlatform({ dataDir: dataDirs[mode]!, noDeploy: true, env: env(mode) })),
    );
    starts.forEach((s, i) => {
      if (s.status === 'fulfilled') platforms[MODES[i]!] = s.value;
    });
    const failed = starts.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;

    // unmeasured warm-up per mode: the page cache, the node's shared model copy (model-cache/) and
    // the agent's first-spawn paths, so round 1 is not the only one that pays for them
    for (const mode of MODES) {
      for (const c of cases) await measure(platforms[mode]!, mode, c, `sbx-warm-${c.key}`, { latency: false });
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const mode of MODES) {
        for (const c of cases) {
          const s = await measure(platforms[mode]!, mode, c, `sbx-${c.key}-${round}`, { latency: true });
          samples[mode][c.key].push(s);
          log(
            `round ${round} sandbox ${mode} ${c.fn}: cold ${s.coldMs.toFixed(0)} ms (replica ${s.replicaStartMs.toFixed(0)} ms), gateway p50 ${s.gw.p50.toFixed(2)} p99 ${s.gw.p99.toFixed(2)} ms${s.direct ? `, direct p50 ${s.direct.p50.toFixed(2)} p99 ${s.direct.p99.toFixed(2)} ms` : ''}, uid ${s.uid}`,
          );
        }
      }
    }
  } finally {
    await Promise.all(MODES.map((m) => platforms[m]?.stop()));
    await Promise.all([buildDir, ...Object.values(dataDirs)].map((d) => rm(d, { recursive: true, force: true })));
  }
  const load1 = loadavg();
  const wallS = (performance.now() - started) / 1000;

  // figures: [label, key, of(sample)]
  type Figure = { label: string; key: string; of: (s: Sample) => number | undefined };
  const figures = (c: Case): Figure[] => {
    const cap = c.key === 'echo' ? 'Echo' : 'Ocr';
    return [
      { label: 'cold start, deploy → first 200 (ms)', key: `coldStart${cap}`, of: (s) => s.coldMs },
      { label: 'replica start, agent spawn → healthy (ms)', key: `replicaStart${cap}`, of: (s) => s.replicaStartMs },
      { label: `p50 via gateway, ${c.gatewayCalls} calls (ms)`, key: `p50${cap}`, of: (s) => s.gw.p50 },
      { label: `p99 via gateway (ms)`, key: `p99${cap}`, of: (s) => s.gw.p99 },
      ...(c.directCalls > 0
        ? [
            {
              label: `p50 direct to replica, ${c.directCalls} calls (ms)`,
              key: `p50Direct${cap}`,
              of: (s: Sample) => s.direct?.p50,
            },
            { label: `p99 direct to replica (ms)`, key: `p99Direct${cap}`, of: (s: Sample) => s.direct?.p99 },
          ]
        : []),
    ];
  };
  const rows: (string | number)[][] = [];
  const result: Record<string, number> = {};
  const spreads: Record<string, { on: Summary; off: Summary }> = {};
  for (const c of cases) {
    for (const f of figures(c)) {
      const on = summary(samples.on[c.key].map(f.of));
      const off = summary(samples.off[c.key].map(f.of));
      const delta = on.median - off.median;
      rows.push([
        c.fn,
        f.label,
        on.median,
        `${fmt(on.min)}–${fmt(on.max)}`,
        off.median,
        `${fmt(off.min)}–${fmt(off.max)}`,
        delta,
        off.median > 0 ? on.median / off.median : NaN,
      ]);
      result[`${f.key}OnMs`] = round3(on.median);
      result[`${f.key}OffMs`] = round3(off.median);
      result[`${f.key}DeltaMs`] = round3(delta);
      spreads[f.key] = { on, off };
    }
  }
  // a Δ over the target only counts as a miss when the two modes' ranges do not overlap: on a
  // shared 2-core machine the rounds of one mode differ by more than the targets
  const verdict = (keys: string[], targetMs: number): Verdict => {
    const over = keys.filter((k) => !(result[`${k}DeltaMs`]! <= targetMs));
    if (over.length === 0) return 'met';
    return over.some((k) => !overlap(spreads[k]!.on, spreads[k]!.off)) ? 'not met' : 'within noise';
  };
  const coldVerdict = verdict(['coldStartEcho', 'coldStartOcr'], 100);
  const p50Verdict = verdict(['p50Echo', 'p50Ocr'], 0.1);
  const uids = (mode: Mode) => [...new Set(cases.flatMap((c) => samples[mode][c.key].map((s) => s.uid)))].join(', ');
  const verdictText = (v: Verdict) =>
    v === 'met'
      ? 'met'
      : v === 'not met'
        ? 'NOT met (Δ above the target and outside the spread of the rounds)'
        : 'not shown either way (Δ above the target but within the round-to-round spread: rerun on a quiet machine or with more rounds)';
  const text = [
    '# bench:sandbox — cost of the replica sandbox (FASTGSHARE_SANDBOX on vs off)',
    '',
    `Two platforms side by side from the same images, one with the replica sandbox on (bubblewrap, an unprivileged uid per replica, no capabilities, own mount/pid namespaces, cgroup limits), one with it off (replicas as plain child processes); ${ROUNDS} alternating rounds (on, off, …); per round and mode a fresh one-replica deployment of each function. Cold start: deploy through the gateway → first 200 (polled every 20 ms), and the node agent's own spawn → healthy time. Latency: concurrency 1, one keep-alive socket, after ${cases.map((c) => `${c.warmupCalls} ${c.fn}`).join(' / ')} warm-up calls; "direct" goes straight to the replica's port with its forward token. Inputs: echo a 13-byte text body; ocr-recognize the fixture line image hello-world-2024.png (1 of 2 cores, quota request 0.3, as in stack.yml, with a 10 s SLO so that no call is shed). Median over the rounds and range (min–max); Δ = median on − median off.`,
    '',
    markdownTable(
      ['function', 'figure', 'on median', 'on range', 'off median', 'off range', 'Δ on − off', 'on / off'],
      rows,
    ),
    '',
    `Targets (issue 12): cold start ≤ +100 ms — ${verdictText(coldVerdict)} (echo ${fmtSigned(result.coldStartEchoDeltaMs!)} ms, ocr-recognize ${fmtSigned(result.coldStartOcrDeltaMs!)} ms); p50 per call ≤ +0.1 ms — ${verdictText(p50Verdict)} (echo ${fmtSigned(result.p50EchoDeltaMs!)} ms, ocr-recognize ${fmtSigned(result.p50OcrDeltaMs!)} ms, via the gateway).`,
    '',
    `Replica process uids (agent's uid ${process.getuid?.() ?? '?'}): on ${uids('on')} (the first is bubblewrap's monitor on the host side, the second the replica's own uid); off ${uids('off')}. Machine: ${loadStr(load0)} load average at start, ${loadStr(load1)} at the end (1/5/15 min, 2 cores, shared with other work); ${wallS.toFixed(0)} s in all. On a loaded machine the per-round spread is larger than a sub-millisecond difference: read Δ against the ranges.`,
    '',
  ].join('\n');
  await writeResult('sandbox', text);
  printResultLine({
    bench: 'sandbox',
    rounds: ROUNDS,
    loadAvg1Start: round3(load0[0]!),
    loadAvg1End: round3(load1[0]!),
    ...result,
    coldStartTarget: coldVerdict,
    p50Target: p50Verdict,
  });
}

/** Deploys `name` from the case's image, measures it, deletes it and waits until its replica is gone. */
async function measure(
  p: RunningPlatform,
  mode: Mode,
  c: Case,
  name: string,
  o: { latency: boolean },
): Promise<Sample> {
  const gw = p.gatewayUrl;
  const t0 = performance.now();
  const res = await fetch(`${gw}/system/functions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ service: name, image: `${c.fn}:latest`, ...c.deploy }),
  });
  if (res.status >= 300) throw new Error(`deploy ${name} (sandbox ${mode}): ${res.status} ${await res.text()}`);
  try {
    const fnUrl = `${gw}/function/${name}`;
    const deadline = Date.now() + 120_000;
    let last = '';
    for (;;) {
      const r = await call(fnUrl, c.body, c.contentType, {}).catch((e: unknown) => ({ status: 0, text: String(e) }));
      if (r.status === 200) break;
      last = `${r.status} ${r.text.slice(0, 200)}`;
      if (Date.now() > deadline)
        throw new Error(`${name} (sandbox ${mode}) not answering 200 after 120 s: ${last}\n${p.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const coldMs = performance.now() - t0;
    const replica = await readyReplica(p, name);
    const replicaStartMs = Date.parse(replica.readyAt!) - Date.parse(replica.startedAt);
    const uid = await replicaUids(replica.pid);
    assertMode(mode, uid, name);
    const sample: Sample = { coldMs, replicaStartMs, gw: { p50: NaN, p99: NaN, n: 0 }, uid: uid.join('/') };
    if (!o.latency) return sample;
    await sequential(fnUrl, c.body, c.contentType, c.warmupCalls, {});
    sample.gw = await sequential(fnUrl, c.body, c.contentType, c.gatewayCalls, {});
    if (c.directCalls > 0) {
      if (!replica.forwardToken)
        throw new Error(`${name}: the node agent reports no forward token for replica ${replica.id}`);
      const headers = { [FORWARD_TOKEN_HEADER]: replica.forwardToken };
      const url = `${replica.url}/`;
      await sequential(url, c.body, c.contentType, c.warmupCalls, headers);
      sample.direct = await sequential(url, c.body, c.contentType, c.directCalls, headers);
    }
    return sample;
  } finally {
    await fetch(`${gw}/system/functions`, {
      method: 'DELETE',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ functionName: name }),
    });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await replicasOf(p, name).catch(() => [])).length > 0)
      await new Promise((r) => setTimeout(r, 100));
  }
}

async function replicasOf(p: RunningPlatform, name: string): Promise<ReplicaStatus[]> {
  const res = await p.nodeFetch('/v1/functions');
  if (!res.ok) throw new Error(`node agent GET /v1/functions: ${res.status}`);
  const fns = (await res.json()) as FunctionReplicas[];
  return fns.filter((f) => f.name === name).flatMap((f) => f.replicas);
}

async function readyReplica(p: RunningPlatform, name: string): Promise<ReplicaStatus> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = (await replicasOf(p, name)).find((x) => x.state === 'ready' && x.readyAt && x.pid);
    if (r) return r;
    if (Date.now() > deadline) throw new Error(`${name}: no ready replica on the node agent`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** The distinct real uids of a replica's process tree (the launched process and its descendants). */
async function replicaUids(pid: number | null): Promise<number[]> {
  if (!pid) return [];
  const uids = new Set<number>();
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    const status = await readFile(`/proc/${p}/status`, 'utf8').catch(() => '');
    const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    if (uid !== undefined) uids.add(Number(uid));
    const tasks = await readFile(`/proc/${p}/task/${p}/children`, 'utf8').catch(() => '');
    for (const c of tasks.split(/\s+/).filter(Boolean)) queue.push(Number(c));
  }
  return [...uids].sort((a, b) => a - b);
}

/** Fails the bench when a mode does not do what it says: its numbers would be meaningless. */
function assertMode(mode: Mode, uids: number[], name: string): void {
  const me = process.getuid?.() ?? 0;
  const foreign = uids.filter((u) => u !== me);
  if (mode === 'on' && foreign.length === 0)
    throw new Error(
      `${name}: sandbox on, but the replica's processes run as uid ${uids.join(',') || '?'} (the agent's)`,
    );
  if (mode === 'off' && (uids.length === 0 || foreign.length > 0))
    throw new Error(`${name}: sandbox off, but the replica's processes run as uids ${uids.join(',') || '?'}`);
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });

function call(
  url: string,
  body: Buffer,
  contentType: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: keepAlive,
        headers: { 'content-type': contentType, 'content-length': body.length, ...headers },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out after 30 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** `n` calls one after another on the keep-alive socket; p50/p99 of the 200s (any other answer fails the bench). */
async function sequential(
  url: string,
  body: Buffer,
  contentType: string,
  n: number,
  headers: Record<string, string>,
): Promise<{ p50: number; p99: number; n: number }> {
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await call(url, body, contentType, headers);
    const ms = performance.now() - t;
    if (r.status !== 200) throw new Error(`POST ${url}: ${r.status} ${r.text.slice(0, 300)}`);
    lat.push(ms);
  }
  lat.sort((a, b) => a - b);
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), n };
}

type Verdict = 'met' | 'not met' | 'within noise';
interface Summary {
  median: number;
  min: number;
  max: number;
}
const overlap = (a: Summary, b: Summary) => a.min <= b.max && b.min <= a.max;

function summary(values: (number | undefined)[]): Summary {
  const v = values.filter((x): x is number => x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN };
  return { median: median(v), min: v[0]!, max: v[v.length - 1]! };
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));
const fmtSigned = (n: number) => (n >= 0 ? '+' : '') + fmt(n);
const loadStr = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');

main().catch((err) => {
  process.stderr.write(`bench:sandbox failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
