/**
 * Deploy-time refusal of bad fastgshare/* annotations through the gateway's API, with the real
 * node agent and store: POST and PUT /system/functions answer 400 naming the annotation (the one
 * parser in core/contracts/annotations.ts, run by admission before anything is stored or sent to
 * a node), and the function stays as it was: not created, or its old annotations kept.
 */
import { expect } from 'chai';
import { startGatewayHarness, type GatewayHarness } from './harness.ts';

const deployment = (service: string, annotations: Record<string, string>) => ({
  service,
  image: 'echo:latest',
  annotations,
  labels: {},
  envVars: {},
});

describe('gateway: bad annotations are a 400 at deploy time', function () {
  this.timeout(30_000);
  let h: GatewayHarness;
  before(async () => {
    h = await startGatewayHarness();
  });
  after(async () => {
    await h?.close();
  });

  const names = async () => (await h.call('GET', '/system/functions')).json<{ name: string }[]>().map((f) => f.name);

  const bad: [Record<string, string>, string, string][] = [
    [
      { 'fastgshare/gpu_sm_partition': '150' },
      'fastgshare/gpu_sm_partition',
      '150 is out of range; use a number from 1 to 100',
    ],
    [
      { 'fastgshare/gpu_quota_request': '1.5' },
      'fastgshare/gpu_quota_request',
      '1.5 is out of range; use a number from 0 to 1',
    ],
    [{ 'fastgshare/slo_ms': 'soon' }, 'fastgshare/slo_ms', '"soon" is not a number'],
    [{ 'fastgshare/max_batch': '2.5' }, 'fastgshare/max_batch', '"2.5" is not a whole number'],
    [{ 'fastgshare/device': 'tpu' }, 'fastgshare/device', '"tpu" is not a device'],
    [{ 'fastgshare/model_sharing': 'maybe' }, 'fastgshare/model_sharing', 'neither on nor off'],
    [{ 'fastgshare/invoke_auth': 'private' }, 'fastgshare/invoke_auth', 'neither public nor tenant'],
  ];
  for (const [annotations, annotation, text] of bad) {
    it(`POST with ${JSON.stringify(annotations)}: 400 naming ${annotation}, nothing stored`, async () => {
      const r = await h.call('POST', '/system/functions', { body: deployment('bad', annotations) });
      expect(r.status).to.equal(400);
      expect(r.headers.get('x-fastgshare-error')).to.equal('bad_request');
      expect(r.text).to.contain(`annotation ${annotation}: `).and.contain(text);
      expect(await names()).to.not.include('bad');
    });
  }

  it('PUT that makes a deployed function bad: 400, and the stored annotations stay', async () => {
    expect(
      (await h.call('POST', '/system/functions', { body: deployment('keep', { 'fastgshare/invoke_auth': 'tenant' }) }))
        .status,
    ).to.equal(202);
    const r = await h.call('PUT', '/system/functions', {
      body: deployment('keep', { 'fastgshare/invoke_auth': 'tenant', 'fastgshare/gpu_sm_partition': '150' }),
    });
    expect(r.status).to.equal(400);
    expect(r.text).to.contain('annotation fastgshare/gpu_sm_partition: 150 is out of range');
    const fn = (await h.call('GET', '/system/function/keep')).json<{ annotations?: Record<string, string> }>();
    expect(fn.annotations).to.deep.equal({ 'fastgshare/invoke_auth': 'tenant' });
  });
});
