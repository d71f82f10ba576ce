/** Login throttling: backoff per user and per source, doubling and capped, cleared by success, bounded memory. */
import { expect } from 'chai';
import { ManualClock } from '../../core/clock.ts';
import { createLoginThrottle } from '../../gateway/tenants/login-throttle.ts';

describe('login throttle', () => {
  const make = (o: { maxEntries?: number; forgetMs?: number } = {}) => {
    const clock = new ManualClock(1_000_000);
    return { clock, t: createLoginThrottle({ freeFailures: 3, backoffMs: 1000, backoffMaxMs: 8000, clock, ...o }) };
  };

  it('lets the free failures through, then backs off 1 s, 2 s, 4 s, capped at the maximum', () => {
    const { clock, t } = make();
    for (let i = 0; i < 2; i++) {
      t.failed('alice', '10.0.0.1');
      expect(t.waitMs('alice', '10.0.0.1')).to.equal(0);
    }
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      t.failed('alice', '10.0.0.1');
      const w = t.waitMs('alice', '10.0.0.1');
      waits.push(w);
      clock.advance(w);
      expect(t.waitMs('alice', '10.0.0.1')).to.equal(0);
    }
    expect(waits).to.deep.equal([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('throttles the user from every source and the source for every user, and nobody else', () => {
    const { t } = make();
    for (let i = 0; i < 3; i++) t.failed('alice', '10.0.0.1');
    expect(t.waitMs('alice', '10.0.0.9'), 'the same user from elsewhere').to.equal(1000);
    expect(t.waitMs('bob', '10.0.0.1'), 'another user from the same source').to.equal(1000);
    expect(t.waitMs(undefined, '10.0.0.1'), 'an API key from the same source').to.equal(1000);
    expect(t.waitMs('bob', '10.0.0.9'), 'another user from another source').to.equal(0);
    expect(t.waitMs(undefined, '10.0.0.9')).to.equal(0);
  });

  it('a success clears the user and the source', () => {
    const { clock, t } = make();
    for (let i = 0; i < 4; i++) t.failed('alice', '10.0.0.1');
    clock.advance(2000);
    t.succeeded('alice', '10.0.0.1');
    expect(t.waitMs('alice', '10.0.0.1')).to.equal(0);
    t.failed('alice', '10.0.0.1');
    expect(t.waitMs('alice', '10.0.0.1'), 'counting starts again').to.equal(0);
  });

  it('forgets records idle longer than forgetMs', () => {
    const { clock, t } = make({ forgetMs: 60_000 });
    for (let i = 0; i < 5; i++) t.failed('alice', '10.0.0.1');
    clock.advance(60_001);
    t.failed('alice', '10.0.0.1');
    expect(t.waitMs('alice', '10.0.0.1'), 'one failure after a long quiet time is a first failure').to.equal(0);
  });

  it('keeps at most maxEntries records per kind: the least recently failed go first', () => {
    const { t } = make({ maxEntries: 10 });
    for (let i = 0; i < 3; i++) t.failed('victim', '10.0.0.1');
    expect(t.waitMs('victim', '10.0.9.9')).to.equal(1000);
    for (let n = 0; n < 10; n++) t.failed(`user-${n}`, `10.1.0.${n}`);
    expect(t.waitMs('victim', '10.0.9.9'), 'evicted by ten newer records').to.equal(0);
  });
});
