/**
 * core/contracts/annotations.ts: the one parser of the fastgshare/* annotations. Defaults for
 * absent or blank values, every value kind read, and every bad value a 400 naming the annotation
 * with what to use: never clamped (partition 150 is not 100) and never ignored.
 */
import { expect } from 'chai';
import {
  ANNOTATIONS,
  hasDeviceAnnotations,
  readDeviceId,
  readFunctionAnnotations,
  readInvokeAuth,
} from '../../../core/contracts/annotations.ts';
import { deviceClassOf, deviceKindOf } from '../../../core/contracts/devices.ts';
import { PlatformError } from '../../../core/errors.ts';

function refusal(fn: () => unknown): PlatformError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(PlatformError);
    return err as PlatformError;
  }
  throw new Error('expected a refusal');
}

describe('core/contracts/annotations', () => {
  it('gives the defaults for no annotations, and for blank values', () => {
    const want = {
      device: 'cpu',
      partitionPercent: 100,
      memoryBytes: undefined,
      quotaRequest: undefined,
      quotaLimit: undefined,
      sloMs: undefined,
      maxBatch: undefined,
      emulatedProfile: undefined,
      cudaDevice: 0,
      emulatedDevice: 0,
      modelSharing: true,
      model: undefined,
      invokeAuth: 'public',
    };
    expect(readFunctionAnnotations(undefined)).to.deep.equal(want);
    const blank = Object.fromEntries(Object.values(ANNOTATIONS).map((a) => [a, '  ']));
    expect(readFunctionAnnotations(blank)).to.deep.equal(want);
  });

  it('reads every annotation, trimmed, and leaves other annotations alone', () => {
    const a = readFunctionAnnotations({
      'fastgshare/device': ' emulated ',
      'fastgshare/gpu_sm_partition': '12.5',
      'fastgshare/gpu_mem': '1.5Gi',
      'fastgshare/gpu_quota_request': '0',
      'fastgshare/gpu_quota_limit': '0.25',
      'fastgshare/slo_ms': '250',
      'fastgshare/max_batch': '16',
      'fastgshare/emulated_profile': ' v100-bert ',
      'fastgshare/cuda_device': '3',
      'fastgshare/emulated_device': '63',
      'fastgshare/model_sharing': 'OFF',
      'fastgshare/model': 'bert-large',
      'fastgshare/invoke_auth': 'tenant',
      'com.openfaas.health.http.path': '/_/health',
      'fastgshare/tenant': 'acme',
    });
    expect(a).to.deep.equal({
      device: 'emulated',
      partitionPercent: 12.5,
      memoryBytes: 1.5 * 2 ** 30,
      quotaRequest: 0,
      quotaLimit: 0.25,
      sloMs: 250,
      maxBatch: 16,
      emulatedProfile: 'v100-bert',
      cudaDevice: 3,
      emulatedDevice: 63,
      modelSharing: false,
      model: 'bert-large',
      invokeAuth: 'tenant',
    });
    for (const on of ['on', 'True', '1', ' yes '])
      expect(readFunctionAnnotations({ 'fastgshare/model_sharing': on }).modelSharing).to.equal(true);
    for (const off of ['off', 'false', '0', 'No'])
      expect(readFunctionAnnotations({ 'fastgshare/model_sharing': off }).modelSharing).to.equal(false);
  });

  const bad: [Record<string, string>, string, RegExp][] = [
    [
      { 'fastgshare/gpu_sm_partition': '150' },
      'fastgshare/gpu_sm_partition',
      /^annotation fastgshare\/gpu_sm_partition: 150 is out of range; use a number from 1 to 100 \(percent of the device\)$/,
    ],
    [{ 'fastgshare/gpu_sm_partition': '0' }, 'fastgshare/gpu_sm_partition', /0 is out of range/],
    [
      { 'fastgshare/gpu_sm_partition': 'half' },
      'fastgshare/gpu_sm_partition',
      /"half" is not a number; use a number from 1 to 100/,
    ],
    [
      { 'fastgshare/gpu_quota_request': '1.5' },
      'fastgshare/gpu_quota_request',
      /1.5 is out of range; use a number from 0 to 1/,
    ],
    [{ 'fastgshare/gpu_quota_request': '-0.1' }, 'fastgshare/gpu_quota_request', /-0.1 is out of range/],
    [{ 'fastgshare/gpu_quota_limit': '0' }, 'fastgshare/gpu_quota_limit', /use a number above 0 and at most 1/],
    [
      { 'fastgshare/gpu_quota_request': '0.5', 'fastgshare/gpu_quota_limit': '0.3' },
      'fastgshare/gpu_quota_limit',
      /0.3 is below fastgshare\/gpu_quota_request \(0.5\); use a limit from the request to 1/,
    ],
    [{ 'fastgshare/slo_ms': '0' }, 'fastgshare/slo_ms', /use a number above 0 and at most 3600000 \(ms\)/],
    [{ 'fastgshare/slo_ms': 'soon' }, 'fastgshare/slo_ms', /"soon" is not a number/],
    [
      { 'fastgshare/max_batch': '2.5' },
      'fastgshare/max_batch',
      /"2.5" is not a whole number; use a whole number from 1 to 1024/,
    ],
    [{ 'fastgshare/max_batch': '2048' }, 'fastgshare/max_batch', /2048 is out of range/],
    [{ 'fastgshare/cuda_device': '-1' }, 'fastgshare/cuda_device', /-1 is out of range/],
    [
      { 'fastgshare/emulated_device': '64' },
      'fastgshare/emulated_device',
      /64 is out of range; use a whole number from 0 to 63/,
    ],
    [{ 'fastgshare/gpu_mem': '2GB' }, 'fastgshare/gpu_mem', /"2GB" is not a resource quantity/],
    [{ 'fastgshare/gpu_mem': '-1Gi' }, 'fastgshare/gpu_mem', /must not be negative/],
    [{ 'fastgshare/device': 'tpu' }, 'fastgshare/device', /"tpu" is not a device: use cpu, emulated or cuda/],
    [{ 'fastgshare/device': 'emulated' }, 'fastgshare/emulated_profile', /needs the calibrated model to behave like/],
    [{ 'fastgshare/model_sharing': 'maybe' }, 'fastgshare/model_sharing', /"maybe" is neither on nor off/],
    [{ 'fastgshare/invoke_auth': 'private' }, 'fastgshare/invoke_auth', /"private" is neither public nor tenant/],
  ];
  for (const [annotations, annotation, message] of bad) {
    it(`refuses ${JSON.stringify(annotations)} with a 400 naming ${annotation}`, () => {
      const e = refusal(() => readFunctionAnnotations(annotations));
      expect(e.code).to.equal('bad_request');
      expect(e.status).to.equal(400);
      expect(e.message).to.match(message);
      expect(e.message.startsWith(`annotation ${annotation}: `)).to.equal(true);
      expect(e.details).to.deep.equal({ field: `annotations.${annotation}` });
    });
  }

  it('refuses a value that is not text (a stored document or JSON body of the wrong shape)', () => {
    const e = refusal(() => readFunctionAnnotations({ 'fastgshare/slo_ms': 100 } as unknown as Record<string, string>));
    expect(e.message).to.equal('annotation fastgshare/slo_ms: 100 is not text; annotation values are strings');
  });

  it('names the device a replica is scheduled on, reading only the device annotations', () => {
    expect(readDeviceId({})).to.equal('cpu');
    expect(
      readDeviceId({
        'fastgshare/device': 'emulated',
        'fastgshare/emulated_device': '2',
        'fastgshare/gpu_sm_partition': '150',
      }),
    ).to.equal('emulated:2');
    expect(readDeviceId({ 'fastgshare/device': 'cuda', 'fastgshare/cuda_device': '1' })).to.equal('cuda:1');
    expect(
      refusal(() => readDeviceId({ 'fastgshare/device': 'cuda', 'fastgshare/cuda_device': 'x' })).message,
    ).to.match(/^annotation fastgshare\/cuda_device: "x" is not a whole number/);
  });

  it('reads invoke_auth from any JSON a deployment body carries', () => {
    expect(readInvokeAuth(undefined)).to.equal('public');
    expect(readInvokeAuth([])).to.equal('public');
    expect(readInvokeAuth({ 'fastgshare/invoke_auth': 'tenant' })).to.equal('tenant');
    expect(refusal(() => readInvokeAuth({ 'fastgshare/invoke_auth': 7 })).message).to.match(
      /^annotation fastgshare\/invoke_auth: "7" is neither public nor tenant/,
    );
    expect(refusal(() => readInvokeAuth({ 'fastgshare/invoke_auth': 'Tenants' })).details).to.deep.equal({
      field: 'annotations.fastgshare/invoke_auth',
    });
  });

  it('tells a model function from a plain process by its device annotations', () => {
    expect(hasDeviceAnnotations(undefined)).to.equal(false);
    expect(hasDeviceAnnotations({ 'fastgshare/invoke_auth': 'tenant', 'fastgshare/model': 'm' })).to.equal(false);
    expect(hasDeviceAnnotations({ 'fastgshare/max_batch': '4' })).to.equal(true);
  });

  it('maps device kinds to the device classes profiles are kept under, and back', () => {
    expect(['cpu', 'emulated', 'cuda'].map((k) => deviceClassOf(k as 'cpu'))).to.deep.equal(['cpu', 'v100', 'cuda']);
    expect(['cpu', 'v100', 'cuda', 'a100'].map(deviceKindOf)).to.deep.equal(['cpu', 'emulated', 'cuda', 'a100']);
  });
});
