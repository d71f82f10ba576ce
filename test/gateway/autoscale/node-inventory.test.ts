/** The scheduler's view of a node's reported devices: counts per kind, memory per index. */
import { expect } from 'chai';
import { liveDevices } from '../../../gateway/autoscale/node-inventory.ts';

describe('gateway/autoscale node inventory: reported devices', () => {
  it("counts the devices of each kind and keeps each one's memory by index", () => {
    expect(liveDevices(undefined)).to.deep.equal({});
    expect(
      liveDevices([
        { id: 'cpu', kind: 'cpu', index: 0 },
        { id: 'emulated', kind: 'emulated', index: 0 },
        { id: 'emulated:1', kind: 'emulated', index: 1 },
      ]),
    ).to.deep.equal({ devices: { cpu: 1, emulated: 2 } });
    expect(
      liveDevices([
        { id: 'cuda:1', kind: 'cuda', index: 1, memoryBytes: 32 },
        { id: 'cuda:0', kind: 'cuda', index: 0, memoryBytes: 16 },
        { id: 'cpu', kind: 'cpu', index: 0, memoryBytes: 64 },
      ]),
    ).to.deep.equal({
      devices: { cuda: 2, cpu: 1 },
      deviceMemoryBytes: { cuda: [16, 32], cpu: [64] },
    });
  });
});
