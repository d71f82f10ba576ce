/**
 * The readers of the node's two unix-socket protocols (core/contracts/token-channel.ts and
 * core/contracts/emulated-device.ts): what the servers accept from a replica, what they refuse and
 * with which words, and the informational fields they read as absent instead of refusing.
 */
import { expect } from 'chai';
import { readTokenRequest } from '../../../core/contracts/token-channel.ts';
import { readRunMessage } from '../../../core/contracts/emulated-device.ts';

describe('core/contracts socket protocols', () => {
  it('token channel: reads the three requests, drops fields no message has', () => {
    expect(readTokenRequest({ op: 'hello', replicaId: 'r1', key: 'k', extra: 1 })).to.deep.equal({
      op: 'hello',
      msg: { op: 'hello', replicaId: 'r1', key: 'k' },
    });
    expect(readTokenRequest({ op: 'acquire', burstMs: 12.5 })?.msg).to.deep.include({ op: 'acquire', burstMs: 12.5 });
    expect(readTokenRequest({ op: 'release', usedMs: 0 })?.msg).to.deep.include({ op: 'release', usedMs: 0 });
  });

  it('token channel: a line without a text op is not a message; an unknown op or a hello without an id has no msg', () => {
    for (const raw of [null, 5, 'hello', [1], {}, { op: 7 }])
      expect(readTokenRequest(raw), JSON.stringify(raw)).to.equal(undefined);
    expect(readTokenRequest({ op: 'steal' })).to.deep.equal({ op: 'steal' });
    expect(readTokenRequest({ op: 'hello', replicaId: 5, key: 'k' })).to.deep.equal({ op: 'hello' });
  });

  it('token channel: a key that is not text reads as none, and bad informational numbers as absent', () => {
    expect(readTokenRequest({ op: 'hello', replicaId: 'r1', key: 12345 })?.msg).to.deep.include({
      op: 'hello',
      replicaId: 'r1',
      key: undefined,
    });
    for (const burstMs of [0, -1, '3', null, Infinity])
      expect(readTokenRequest({ op: 'acquire', burstMs })?.msg, String(burstMs)).to.deep.include({
        op: 'acquire',
        burstMs: undefined,
      });
    for (const usedMs of [-1, 'x', Infinity])
      expect(readTokenRequest({ op: 'release', usedMs })?.msg, String(usedMs)).to.deep.include({
        op: 'release',
        usedMs: undefined,
      });
  });

  it('emulated device: reads a run, refuses anything else with the words the device answers', () => {
    expect(readRunMessage({ op: 'run', id: '7', partition: 50, ms: 12.5 })).to.deep.equal({
      run: { op: 'run', id: '7', partition: 50, ms: 12.5 },
    });
    expect(readRunMessage({ op: 'run', id: '7', partition: 100, ms: 0 })).to.have.property('run');
    for (const raw of [null, 5, [], { op: 'walk' }])
      expect(readRunMessage(raw), JSON.stringify(raw))
        .to.have.property('error')
        .that.match(/^unknown op .*: send \{"op":"run"/);
    for (const bad of [
      { id: '' },
      { id: 7 },
      { partition: 0 },
      { partition: 150 },
      { partition: '50' },
      { ms: -1 },
      { ms: null },
    ]) {
      expect(readRunMessage({ op: 'run', id: '7', partition: 50, ms: 1, ...bad }), JSON.stringify(bad)).to.deep.equal({
        error: 'a run needs an id (string), a partition in (0, 100] and ms ≥ 0',
      });
    }
  });
});
