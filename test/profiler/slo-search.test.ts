/**
 * The open-loop search's load shape: autocannon opens every connection at once when a run starts,
 * so the connection count is a burst the replica sees. It must cover the target rate at the
 * latency the closed loop measured (so the loop stays open) and not much more (so the first
 * moment is not a burst the replica sheds). A CI run had 256 connections for 134 req/s of a 5 ms
 * model: 30-50 % of the step shed, and no trial met the SLO.
 */
import { expect } from 'chai';
import { searchSloRate, OPEN_LOOP_STEPS } from '../../profiler/slo-search.ts';
import type { LoadGenerator, LoadOutcome, LoadRun } from '../../profiler/load.ts';

function outcome(rps: number, p99: number, failed = 0): LoadOutcome {
  const ok = Math.round(rps);
  return { ok, failed, shed: failed, rps, p50: p99 / 2, p95: p99, p99, errorRate: failed / (ok + failed), seconds: 1 };
}

function recorder(closed: LoadOutcome, step: (r: LoadRun) => LoadOutcome) {
  const runs: LoadRun[] = [];
  const load: LoadGenerator = {
    async run(r) {
      runs.push(r);
      return r.rate === undefined ? closed : step(r);
    },
  };
  return { runs, load };
}

const base = { url: 'http://127.0.0.1:1/', body: Buffer.from('x'), contentType: 'text/plain', batch: 1, seconds: 10 };

describe('profiler: SLO-rate search', () => {
  it('opens enough connections for the rate at twice the measured p99, not one per SLO window', async () => {
    const { runs, load } = recorder(outcome(268, 5), (r) => outcome(r.rate!, 6));
    const r = await searchSloRate(load, { ...base, sloMs: 2000 });
    const open = runs.filter((x) => x.rate !== undefined);
    expect(open.map((x) => x.rate)).to.deep.equal(OPEN_LOOP_STEPS.map((f) => 268 * f));
    // 50 ms floor × 268 req/s = 13.4 → 14 + batch; far from 256
    expect(open.map((x) => x.connections)).to.deep.equal(OPEN_LOOP_STEPS.map((f) => Math.ceil(268 * f * 0.05) + 1));
    expect(r.best?.targetRps).to.equal(268);
  });

  it('a slow closed loop gets more connections, capped by the SLO and by 256', async () => {
    const slow = recorder(outcome(20, 400), (r) => outcome(r.rate!, 300));
    await searchSloRate(slow.load, { ...base, sloMs: 1000 });
    // 2 × 400 ms = 800 ms below the 1000 ms SLO: 10 req/s × 0.8 s = 8, + batch
    expect(slow.runs.find((x) => x.rate !== undefined)!.connections).to.equal(9);
    const capped = recorder(outcome(2000, 900), (r) => outcome(r.rate!, 100));
    await searchSloRate(capped.load, { ...base, sloMs: 1000, batch: 4 });
    expect(capped.runs.find((x) => x.rate !== undefined)!.connections).to.equal(256);
  });

  it('stops at the first step that misses the SLO and reports the best one that met it', async () => {
    const { runs, load } = recorder(outcome(100, 20), (r) =>
      r.rate! > 80 ? outcome(r.rate! * 0.8, 50, 5) : outcome(r.rate!, 30),
    );
    const r = await searchSloRate(load, { ...base, sloMs: 300 });
    expect(r.steps.map((s) => s.meetsSlo)).to.deep.equal([true, true, false]);
    expect(r.best?.targetRps).to.equal(70);
    expect(runs).to.have.length(4);
  });

  it('does not search when the closed loop served nothing', async () => {
    const { runs, load } = recorder(outcome(0, NaN), () => outcome(1, 1));
    const r = await searchSloRate(load, { ...base, sloMs: 300 });
    expect(r.steps).to.deep.equal([]);
    expect(r.best).to.equal(undefined);
    expect(runs).to.have.length(1);
  });
});
