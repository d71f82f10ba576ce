/**
 * The emulated V100 model functions of stack.emulated.yml through the gateway: each runs on the
 * emulated device with its calibrated profile and partition.
 */
import { expect } from 'chai';
import { startPlatform, type RunningPlatform } from '../../bench/lib/platform.ts';

describe('emulated model functions (stack.emulated.yml)', function () {
  this.timeout(90_000);
  let platform: RunningPlatform;

  before(async () => {
    platform = await startPlatform({ stack: 'stack.emulated.yml', timeoutMs: 80_000 });
  });
  after(async () => {
    await platform?.stop();
  });

  it('serves resnet50, bert, rnnt and gnmt on the emulated device with their profiles', async () => {
    for (const [fn, profile] of [
      ['resnet50', 'v100-resnet50'],
      ['bert', 'v100-bert'],
      ['rnnt', 'v100-rnnt'],
      ['gnmt', 'v100-gnmt'],
    ]) {
      const info = (await (await fetch(`${platform.gatewayUrl}/function/${fn}`)).json()) as {
        device: { device: string; profileModel: string; batch1LatencyMs: number };
      };
      expect(info.device.device, fn).to.equal('emulated');
      expect(info.device.profileModel).to.equal(profile);
      expect(info.device.batch1LatencyMs).to.be.greaterThan(0);
      const res = await fetch(`${platform.gatewayUrl}/function/${fn}`, { method: 'POST', body: 'an item' });
      expect(res.status, fn).to.equal(200);
      expect(await res.json()).to.deep.include({ device: 'emulated', bytes: 7 });
    }
  });
});
