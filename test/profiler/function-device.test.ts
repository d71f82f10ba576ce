/**
 * What a sweep reads from the function (issue 16): the device settings come from the one
 * annotation parser (core/contracts/annotations.ts), so a bad annotation is the same 400 naming it
 * as at deploy time; the table's CSV quotes with the shared core/text/csv.ts.
 */
import { expect } from 'chai';
import { PlatformError } from '../../core/errors.ts';
import { readFunctionDevice } from '../../profiler/request.ts';
import { sweepDeviceClass } from '../../profiler/service.ts';
import { tableCsv } from '../../profiler/csv.ts';
import type { TableRecord } from '../../profiler/profile-store.ts';

function refusal(annotations: Record<string, string>): PlatformError {
  try {
    readFunctionDevice(annotations);
  } catch (err) {
    expect(err).to.be.instanceOf(PlatformError);
    return err as PlatformError;
  }
  throw new Error('expected a 400');
}

describe("profiler: the function's device settings", () => {
  it('takes the defaults of absent or blank annotations', () => {
    expect(readFunctionDevice({})).to.deep.equal({
      device: 'cpu',
      deviceId: 'cpu',
      maxBatch: 1,
      sloMs: undefined,
      emulatedProfile: undefined,
    });
    expect(readFunctionDevice({ 'fastgshare/device': ' ', 'fastgshare/max_batch': '' })).to.include({
      device: 'cpu',
      maxBatch: 1,
    });
  });

  it('reads the device, its id, the max batch, the SLO and the emulated profile', () => {
    expect(
      readFunctionDevice({
        'fastgshare/device': 'cuda',
        'fastgshare/cuda_device': '1',
        'fastgshare/max_batch': '8',
        'fastgshare/slo_ms': '250',
      }),
    ).to.deep.equal({ device: 'cuda', deviceId: 'cuda:1', maxBatch: 8, sloMs: 250, emulatedProfile: undefined });
    expect(
      readFunctionDevice({ 'fastgshare/device': 'emulated', 'fastgshare/emulated_profile': 'v100-resnet50' }),
    ).to.include({ device: 'emulated', deviceId: 'emulated', emulatedProfile: 'v100-resnet50' });
    // the token scheduler's id of the node's second emulated device (what the sweep's lock is taken on)
    expect(
      readFunctionDevice({
        'fastgshare/device': 'emulated',
        'fastgshare/emulated_profile': 'v100-resnet50',
        'fastgshare/emulated_device': '1',
      }).deviceId,
    ).to.equal('emulated:1');
  });

  it('refuses a bad annotation with a 400 naming it', () => {
    const device = refusal({ 'fastgshare/device': 'tpu' });
    expect(device.code).to.equal('bad_request');
    expect(device.message).to.equal('annotation fastgshare/device: "tpu" is not a device: use cpu, emulated or cuda');
    const batch = refusal({ 'fastgshare/max_batch': 'lots' });
    expect([batch.code, batch.details?.field]).to.deep.equal(['bad_request', 'annotations.fastgshare/max_batch']);
    const emulated = refusal({ 'fastgshare/device': 'emulated' });
    expect(emulated.message).to.match(/^annotation fastgshare\/emulated_profile: /);
  });

  it("stores a cpu sweep under the node's cores, the others under their kind's class", () => {
    expect(['cpu', 'emulated', 'cuda'].map((k) => sweepDeviceClass(k as 'cpu', 2))).to.deep.equal([
      'cpu-2c',
      'v100',
      'cuda',
    ]);
  });

  it('writes the table as CSV, quoting a field with a comma, a quote or a line break', () => {
    const t = {
      namespace: 'ns',
      function: 'fn',
      modelVersion: 'img:latest@2024-01-01, "rebuilt"',
      deviceClass: 'cpu-2c',
      entries: [
        {
          model: 'fn',
          deviceClass: 'cpu-2c',
          partitionPercent: 50,
          quota: 0.4,
          batch: 1,
          rps: 12.34567,
          latencyMs: { p50: 1, p95: 2, p99: 3 },
          memoryBytes: 1024,
          source: 'measured',
        },
      ],
    } as unknown as TableRecord;
    expect(tableCsv(t).split('\n')[1]).to.equal(
      'fn,"img:latest@2024-01-01, ""rebuilt""",cpu-2c,50,0.4,1,12.346,1,2,3,1024,measured',
    );
  });
});
