import { expect } from 'chai';
import { createProfileTable } from '../../core/profiles/profile-table.ts';
import { formatExplanation } from '../../scheduler/explain.ts';
import { scheduleRound } from '../../scheduler/policies/ours.ts';
import { devices, GB, PLANNER_ENTRIES, spec } from './fixtures.ts';

describe('scheduler/explain', () => {
  it('a scheduling round explains each function: demand, configs, alternatives, placement', () => {
    const profiles = createProfileTable({
      entries: PLANNER_ENTRIES,
      footprints: { m: { weightsBytes: GB, replicaBytes: GB } },
    });
    const functions = [spec({ name: 'img' }), spec({ name: 'new', model: 'unprofiled' })];
    const { decision, state } = scheduleRound(
      {
        nowMs: 0,
        functions,
        demand: new Map([
          ['img', 1300],
          ['new', 5],
        ]),
        devices: devices(4),
        current: [],
        profiles,
      },
      new Map(),
    );
    expect(state.get('img')!.replicas).to.have.length(3);
    expect(decision.needsProfiling).to.deep.equal(['new']);
    const text = formatExplanation(decision.decisions!.get('img')!);
    expect(text).to.contain('demand 1300.0 rps → initial: 3 replicas, capacity 1310.0 rps');
    expect(text).to.contain('efficient: 2 × partition 50 %, quota 1, batch 8: 600.0 rps');
    expect(text).to.contain('residual (100.0 rps): partition 20 %, quota 1, batch 1');
    expect(text).to.match(/less efficient: .* rps per unit of quota × partition/);
    expect(text).to.match(/started img-1 p50\/q1\/b8 on d\d/);
    const fresh = formatExplanation(decision.decisions!.get('new')!);
    expect(fresh).to.contain('needs profiling');
    expect(fresh).to.match(/started new-1 p100\/q1\/b1/);
  });
});
