import { expect } from 'chai';
import { loadCalibrationProfiles, V100_DEVICE_CLASS } from '../../core/profiles/calibration-profiles.ts';
import { createProfileTable } from '../../core/profiles/profile-table.ts';
import { loadLatencyTable } from '../../core/profiles/calibration-table.ts';
import { entry, GB } from './fixtures.ts';

describe('core/profiles (calibration)', () => {
  const t = loadCalibrationProfiles();
  const find = (model: string, p: number, q: number, b: number) =>
    t.entries(model, V100_DEVICE_CLASS).find((e) => e.partitionPercent === p && e.quota === q && e.batch === b)!;

  it('batch-1 V100 rows are the measured throughput (v100-profiles.csv)', () => {
    const e = find('v100-resnet50', 12, 0.4, 1);
    expect(e.source).to.equal('measured');
    expect(e.rps).to.be.closeTo(35.118, 1e-9);
    expect(e.latencyMs.p50).to.be.closeTo(1000 / 35.118, 1e-9);
  });

  it("larger batches are fitted with the emulated device's latency and the measured quota effect", () => {
    const lat = loadLatencyTable();
    const e = find('v100-bert', 50, 0.6, 4);
    expect(e.source).to.equal('fitted');
    expect(e.serviceMs).to.be.closeTo(lat.latencyMs('v100-bert', 4, 50), 1e-9);
    const s = find('v100-bert', 50, 0.6, 1).rps / find('v100-bert', 50, 1, 1).rps;
    expect(e.rps).to.be.closeTo((s * 4 * 1000) / e.serviceMs!, 1e-9);
    expect(t.serviceMs('resnet50', 8, 40)).to.equal(lat.latencyMs('resnet50', 8, 40));
  });

  it('footprints: weights from parameter counts, runtime per replica 1427 MB', () => {
    expect(t.footprint('v100-resnet50').weightsBytes).to.equal(102_400_000);
    expect(t.footprint('v100-bert').replicaBytes).to.equal(1427 * 1024 * 1024);
    expect(() => t.footprint('nope')).to.throw(/no memory footprint for model "nope"/);
    expect(t.models()).to.include.members([
      'v100-resnet50',
      'v100-bert',
      'v100-rnnt',
      'v100-gnmt',
      'vgg16',
      'mobilenet',
    ]);
  });

  it('a table over rows validates configurations', () => {
    expect(() => createProfileTable({ entries: [entry(120, 1, 1, 1, 1)], footprints: {} })).to.throw(
      /partition must be in/,
    );
    expect(() => createProfileTable({ entries: [entry(50, 0, 1, 1, 1)], footprints: {} })).to.throw(/quota must be in/);
    const one = createProfileTable({
      entries: [entry(50, 1, 2, 100, 20)],
      footprints: { m: { weightsBytes: GB, replicaBytes: GB } },
    });
    expect(one.entries('m', 'gpu')).to.have.length(1);
    expect(one.entries('m', 'other')).to.deep.equal([]);
    expect(one.serviceMs('m', 4, 50)).to.equal(40);
  });
});
