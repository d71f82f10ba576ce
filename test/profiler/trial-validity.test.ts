/**
 * What the profiler accepts as a measurement (issue 14 item 4) and how its figures are shown: a
 * trial that could not run properly is never a configuration's capacity, tables and explain never
 * show `capacity 0.0 rps` or `NaN ms`, and the words for what a waiting sweep waits for.
 */
import { expect } from 'chai';
import { isValidTrial, trialProblem } from '../../profiler/trial-validity.ts';
import type { TrialMetrics } from '../../profiler/trial-result.ts';
import { buildTableEntries, measuredFootprint } from '../../profiler/table.ts';
import type { TrialRecord } from '../../profiler/profile-store.ts';
import { usableEntry } from '../../profiler/store-profile-source.ts';
import { autoGrid, AUTO_TRIAL_SECONDS } from '../../profiler/auto-grid.ts';
import { trialConfigs, defaultGrid } from '../../profiler/grid.ts';
import { waitReason } from '../../profiler/wait-reason.ts';
import { formatProfileTable, progressLine } from '../../cli/commands/profile.ts';
import { formatQueue } from '../../cli/commands/profiles.ts';
import { formatExplanation } from '../../scheduler/explain.ts';
import type { FunctionDecision } from '../../scheduler/policies/policy.ts';

function metrics(over: Partial<TrialMetrics> = {}): TrialMetrics {
  return {
    sloRps: 40,
    closedLoopRps: 50,
    latencyMs: { p50: 10, p95: 20, p99: 30 },
    closedLoopLatencyMs: { p50: 12, p95: 25, p99: 40 },
    errorRate: 0,
    busyShare: 0.5,
    busySource: 'cpu',
    memoryBytes: 100 << 20,
    requests: 500,
    steps: [],
    ...over,
  };
}

function trial(
  i: number,
  config: { partitionPercent: number; quota: number; batch: number },
  m: TrialMetrics,
): TrialRecord {
  return {
    sweepId: 's',
    trialIndex: i,
    namespace: 'ns',
    function: 'fn',
    modelVersion: 'v',
    deviceClass: 'cpu-2c',
    node: 'n',
    config,
    metrics: m,
    startedAt: new Date(0),
    durationMs: 1000,
  };
}

describe('profiler: trial validity and the figures shown', () => {
  it('takes a configuration that meets no rate under the SLO as a measurement, and a trial that could not run as none', () => {
    expect(trialProblem(metrics())).to.equal(undefined);
    // the closed loop answered, no open-loop step met the SLO: a real result (rps 0 at the SLO)
    expect(trialProblem(metrics({ sloRps: 0 }))).to.equal(undefined);
    expect(
      trialProblem(metrics({ closedLoopRps: 0, sloRps: 0, latencyMs: { p50: NaN, p95: NaN, p99: NaN } })),
    ).to.match(/no request succeeded/);
    expect(trialProblem(metrics({ errorRate: 0.8, failedRate: 0.8 }))).to.match(/80 % of the trial's requests failed/);
    // a replica that refuses with 429 what it cannot serve within the SLO works as designed: measured
    expect(trialProblem(metrics({ errorRate: 0.9, failedRate: 0.05 }))).to.equal(undefined);
    // what a stored NaN reads back as through JSON
    expect(trialProblem(metrics({ latencyMs: { p50: 10, p95: 20, p99: null as unknown as number } }))).to.match(
      /latency percentile is missing/,
    );
    expect(trialProblem(metrics(), 'the platform process was stalled for 3.1 s during the trial')).to.match(/stalled/);
    expect(isValidTrial(metrics({ invalid: 'no request succeeded' }))).to.equal(false);
    expect(isValidTrial(metrics())).to.equal(true);
  });

  it('builds the table from valid trials only: an invalid cell is fitted from its neighbours, never 0 rps or NaN', () => {
    const grid = { partitions: [50, 100], quotas: [1], batches: [1] };
    const trials = [
      trial(
        0,
        { partitionPercent: 50, quota: 1, batch: 1 },
        metrics({
          sloRps: 0,
          closedLoopRps: 0,
          latencyMs: { p50: NaN, p95: NaN, p99: NaN },
          invalid: 'no request succeeded in the closed loop',
          memoryBytes: 999 << 20,
        }),
      ),
      trial(1, { partitionPercent: 100, quota: 1, batch: 1 }, metrics({ sloRps: 80 })),
    ];
    const entries = buildTableEntries(trials, grid, 'fn', 'cpu-2c');
    expect(entries).to.have.length(2);
    const half = entries.find((e) => e.partitionPercent === 50)!;
    expect(half.source).to.equal('fitted');
    expect(half.rps).to.be.closeTo(40, 1e-9);
    for (const e of entries) {
      expect(e.rps).to.be.greaterThan(0);
      expect([e.latencyMs.p50, e.latencyMs.p95, e.latencyMs.p99].every(Number.isFinite)).to.equal(true);
    }
    // the invalid trial's memory is not the replica's footprint either
    expect(measuredFootprint(trials).replicaBytes).to.equal(100 << 20);
    // nothing valid: no rows at all (the sweep then fails and is tried again, sweep.ts)
    expect(buildTableEntries([trials[0]!], grid, 'fn', 'cpu-2c')).to.deep.equal([]);
  });

  it('offers the planner only rows with a rate under the SLO and every latency figure', () => {
    const base = {
      model: 'fn',
      deviceClass: 'cpu',
      partitionPercent: 50,
      quota: 1,
      batch: 1,
      memoryBytes: 1,
      source: 'measured' as const,
    };
    expect(usableEntry({ ...base, rps: 10, latencyMs: { p50: 1, p95: 2, p99: 3 } })).to.equal(true);
    expect(usableEntry({ ...base, rps: 0, latencyMs: { p50: 1, p95: 2, p99: 3 } })).to.equal(false);
    expect(usableEntry({ ...base, rps: 10, latencyMs: { p50: 1, p95: 2, p99: null as unknown as number } })).to.equal(
      false,
    );
    expect(usableEntry({ ...base, rps: NaN, latencyMs: { p50: 1, p95: 2, p99: 3 } })).to.equal(false);
  });

  it('gives the auto-scaler a short grid: the ends of every axis, minutes not an hour', () => {
    const g = autoGrid('cpu', 2, 16);
    expect(g).to.deep.equal({ partitions: [50, 100], quotas: [1], batches: [1, 16] });
    expect(trialConfigs(g)).to.have.length(4);
    expect(trialConfigs(defaultGrid('cpu', 2, 16))).to.have.length(50);
    expect(autoGrid('cuda', 1, 1)).to.deep.equal({ partitions: [6, 50, 100], quotas: [1], batches: [1] });
    expect(AUTO_TRIAL_SECONDS).to.be.lessThan(20);
  });

  it('says what a waiting sweep waits for', () => {
    const base = { device: 'cpu', node: 'node-a', attemptsMade: 0, attempts: 5, ahead: 0, running: 0 };
    expect(waitReason({ ...base, raw: 'active' })).to.equal(undefined);
    expect(
      waitReason({
        ...base,
        raw: 'delayed',
        phase: 'waiting-for-device',
        holder: { id: 'j1', function: 'ocr.openfaas-fn', done: 3, total: 8 },
      }),
    ).to.equal(
      'the device cpu on node-a: the sweep of ocr.openfaas-fn holds it (job j1, 3/8 trials done); one sweep per device at a time',
    );
    // picked up again and checking the device: still waiting for it, not running
    expect(waitReason({ ...base, raw: 'active', phase: 'waiting-for-device' })).to.match(
      /^the device cpu on node-a \(another sweep held it a moment ago\)/,
    );
    expect(waitReason({ ...base, raw: 'active', phase: 'starting' })).to.equal(undefined);
    expect(waitReason({ ...base, raw: 'delayed', attemptsMade: 1, failedReason: 'replica not ready' })).to.equal(
      'a retry (run 2 of 5) after a failed run: replica not ready',
    );
    expect(waitReason({ ...base, raw: 'waiting', ahead: 2, running: 2, concurrency: 2 })).to.equal(
      'its turn: 2 sweeps queued before it, 2 running (at most 2 at once)',
    );
    expect(waitReason({ ...base, raw: 'waiting', running: 2, concurrency: 2 })).to.equal(
      'a free worker: 2 sweeps running, at most 2 at once',
    );
  });

  it('prints the progress of a waiting sweep with its reason, and a table without NaN or 0.0 rps', () => {
    const waiting = progressLine({
      id: 'j',
      function: 'fn.ns',
      state: 'waiting',
      trials: 8,
      estimateSeconds: 80,
      waitingFor: 'the device cpu on node-a: …',
      progress: { phase: 'waiting-for-device', done: 2, total: 8, etaSeconds: 0 },
    });
    expect(waiting).to.contain('2/8 trials').and.contain('waiting for the device cpu on node-a');
    expect(waiting).to.not.contain('ETA 0m00s');
    const running = progressLine({
      id: 'j',
      function: 'fn.ns',
      state: 'active',
      trials: 8,
      estimateSeconds: 80,
      progress: {
        phase: 'trial',
        done: 3,
        total: 8,
        trial: 4,
        config: { partitionPercent: 50, quota: 0.4, batch: 1 },
        etaSeconds: 75,
      },
    });
    expect(running).to.equal('[#########---------------] 3/8 trials  p50 q0.4 b1  trial  ETA 1m15s');
    const text = formatProfileTable({
      function: 'fn',
      deviceClass: 'cpu-2c',
      modelVersion: 'fn:latest@1',
      entries: [
        {
          partitionPercent: 50,
          quota: 1,
          batch: 1,
          rps: 0,
          latencyMs: { p50: 900, p99: 1500 },
          memoryBytes: 100 << 20,
          source: 'measured',
        },
        {
          partitionPercent: 100,
          quota: 1,
          batch: 1,
          rps: 12.345,
          latencyMs: { p50: 10, p99: null },
          memoryBytes: 100 << 20,
          source: 'fitted',
        },
      ],
    });
    expect(text).to.not.match(/NaN|0\.0 rps|null/);
    expect(text).to.contain('misses SLO').and.contain('12.3');
    const q = formatQueue({
      running: 1,
      concurrency: 2,
      sweeps: [
        {
          id: 'a',
          function: 'ocr.openfaas-fn',
          state: 'active',
          trials: 8,
          estimateSeconds: 80,
          origin: 'autoscaler',
          node: 'n',
          device: 'cpu',
          progress: { phase: 'trial', done: 3, total: 8, trial: 4, etaSeconds: 50 },
        },
        {
          id: 'b',
          function: 'vad.openfaas-fn',
          state: 'waiting',
          trials: 8,
          estimateSeconds: 80,
          origin: 'request',
          node: 'n',
          device: 'cpu',
          waitingFor: 'the device cpu on n: the sweep of ocr.openfaas-fn holds it',
        },
      ],
    });
    expect(q).to.match(/^1 running \(at most 2 at once, one per device\), 1 waiting/);
    expect(q).to.match(/ocr\.openfaas-fn\s+active\s+auto-scaler\s+n\/cpu\s+3\/8\s+running trial 4, about 1 min left/);
    expect(q).to.match(
      /vad\.openfaas-fn\s+waiting\s+request\s+n\/cpu\s+0\/8\s+waits for the device cpu on n: the sweep of ocr\.openfaas-fn holds it/,
    );
  });

  it('explain never prints a capacity of 0 rps or a NaN latency', () => {
    const note = {
      partitionPercent: 50,
      quota: 1,
      batch: 1,
      rps: 0,
      batchLatencyMs: NaN,
      efficiency: NaN,
      source: 'measured',
      replicas: 1,
    };
    const d = {
      function: 'fn',
      plan: {
        action: 'initial',
        replicas: [{}],
        capacityRps: 0,
        needsProfiling: false,
        sloUnachievable: false,
        explanation: {
          model: 'fn',
          sloMs: 100,
          demandRps: 2,
          efficient: note,
          notes: [],
          alternatives: [],
          infeasible: 0,
        },
      },
      placement: [],
    } as unknown as FunctionDecision;
    const text = formatExplanation(d);
    expect(text).to.not.match(/NaN|capacity 0\.0 rps/);
    expect(text).to.contain('1 replica, no profiled capacity');
    expect(text).to.contain('no rate within the SLO, batch latency unknown ms');
  });
});
