import { expect } from 'chai';
import { PlatformError } from '../../../core/errors.ts';
import { deviceIdOf, readShareConfig } from '../../../fast-manager/sharing/share-config.ts';
import { fingerprintOf } from '../../../fast-manager/apply/request.ts';
import { makeSpec } from '../harness.ts';

const R = 'fastgshare/gpu_quota_request',
  L = 'fastgshare/gpu_quota_limit',
  P = 'fastgshare/gpu_sm_partition',
  M = 'fastgshare/gpu_mem';

describe('share configuration from annotations', () => {
  it('is undefined (not token-gated) without quota annotations', () => {
    expect(readShareConfig(undefined)).to.equal(undefined);
    expect(readShareConfig({ [P]: '50' })).to.equal(undefined);
  });
  const ok: [Record<string, string>, object][] = [
    [{ [R]: '0.3' }, { quotaRequest: 0.3, quotaLimit: 1, partition: 100 }],
    [
      { [R]: '0.3', [L]: '0.3', [P]: '50' },
      { quotaRequest: 0.3, quotaLimit: 0.3, partition: 50 },
    ],
    [{ [L]: '0.4' }, { quotaRequest: 0, quotaLimit: 0.4, partition: 100 }],
    [
      { [R]: '0', [L]: '1', [M]: '2Gi' },
      { quotaRequest: 0, quotaLimit: 1, partition: 100, memoryBytes: 2 ** 31 },
    ],
    [
      { [R]: '1', [M]: '1000' },
      { quotaRequest: 1, quotaLimit: 1, partition: 100, memoryBytes: 1000 },
    ],
  ];
  for (const [a, want] of ok) it(`reads ${JSON.stringify(a)}`, () => expect(readShareConfig(a)).to.deep.equal(want));

  const badCases: [Record<string, string>, string, string][] = [
    [{ [R]: '1.5' }, R, 'from 0 to 1'],
    [{ [R]: '-0.1' }, R, 'from 0 to 1'],
    [{ [R]: 'lots' }, R, 'not a number'],
    [{ [R]: '0.5', [L]: '0.3' }, L, 'from the request to 1'],
    [{ [L]: '0' }, L, 'above 0'],
    [{ [L]: '2' }, L, 'at most 1'],
    [{ [R]: '0.3', [P]: '0' }, P, 'from 1 to 100'],
    [{ [R]: '0.3', [P]: '101' }, P, 'from 1 to 100'],
    [{ [R]: '0.3', [M]: '2GB' }, M, 'resource quantity'],
  ];
  for (const [a, annotation, text] of badCases) {
    it(`refuses ${JSON.stringify(a)} naming ${annotation}`, () => {
      let err: unknown;
      try {
        readShareConfig(a);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(PlatformError);
      expect((err as PlatformError).code).to.equal('bad_request');
      expect((err as PlatformError).message)
        .to.include(annotation)
        .and.include(text);
    });
  }

  it('keys devices: the cpu, one per emulated device index, one per cuda id', () => {
    expect(deviceIdOf({})).to.equal('cpu');
    expect(deviceIdOf({ 'fastgshare/device': 'emulated' })).to.equal('emulated');
    expect(deviceIdOf({ 'fastgshare/device': 'emulated', 'fastgshare/emulated_device': '0' })).to.equal('emulated');
    expect(deviceIdOf({ 'fastgshare/device': 'emulated', 'fastgshare/emulated_device': '3' })).to.equal('emulated:3');
    // names an emulated device only
    expect(deviceIdOf({ 'fastgshare/device': 'cpu', 'fastgshare/emulated_device': '3' })).to.equal('cpu');
    expect(deviceIdOf({ 'fastgshare/device': 'cuda', 'fastgshare/cuda_device': '1' })).to.equal('cuda:1');
    expect(() => deviceIdOf({ 'fastgshare/device': 'emulated', 'fastgshare/emulated_device': '1.5' })).to.throw(
      /fastgshare\/emulated_device: "1.5" is not a whole number/,
    );
  });

  it('leaves quota changes out of the template fingerprint (applied live) but not partition changes', () => {
    const base = makeSpec({ name: 'f', annotations: { [R]: '0.3', [L]: '0.5', [P]: '50' } });
    const quota = makeSpec({ name: 'f', annotations: { [R]: '0.4', [L]: '0.6', [P]: '50' } });
    const part = makeSpec({ name: 'f', annotations: { [R]: '0.3', [L]: '0.5', [P]: '25' } });
    expect(fingerprintOf(quota)).to.equal(fingerprintOf(base));
    expect(fingerprintOf(part)).to.not.equal(fingerprintOf(base));
  });
});
