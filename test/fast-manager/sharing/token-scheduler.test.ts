import { expect } from 'chai';
import { ManualClock } from '../../../core/clock.ts';
import {
  TokenScheduler,
  type ShareConfig,
  type TokenSchedulerOptions,
} from '../../../fast-manager/sharing/token-scheduler.ts';

const share = (quotaRequest: number, quotaLimit: number, partition: number): ShareConfig => ({
  quotaRequest,
  quotaLimit,
  partition,
});

/** A scheduler on a manual clock (W = 1 s, base tokens of 50 ms) with `replicas` registered in order. */
function setup(minQuotaMs: number, replicas: Record<string, ShareConfig>, opts: Partial<TokenSchedulerOptions> = {}) {
  const clock = new ManualClock(0);
  const s = new TokenScheduler(clock, { windowMs: 1000, baseQuotaMs: 50, minQuotaMs, ...opts });
  for (const [id, sh] of Object.entries(replicas)) s.register(id, sh);
  return { clock, s };
}

/** The replicas one pass grants tokens to, and with their token lengths. */
const granted = (s: TokenScheduler) => s.schedule().grants.map((g) => g.id);
const grantedQuotas = (s: TokenScheduler) => s.schedule().grants.map((g) => [g.id, g.quotaMs]);

/**
 * Drives the scheduler with saturated replicas (each holds its token for the whole quota and asks
 * again at once) and returns the fraction of wall time each one held a token.
 */
function simulate(
  clients: Record<string, ShareConfig>,
  durationMs: number,
  opts: Partial<TokenSchedulerOptions> = {},
  active: (id: string, now: number) => boolean = () => true,
): { busy: Record<string, number>; maxConcurrentPartition: number; maxHolders: number } {
  const clock = new ManualClock(0);
  const s = new TokenScheduler(clock, { windowMs: 1000, baseQuotaMs: 50, minQuotaMs: 10, ...opts });
  const busy: Record<string, number> = {};
  for (const [id, sh] of Object.entries(clients)) {
    s.register(id, sh);
    busy[id] = 0;
  }
  let maxConcurrentPartition = 0;
  let maxHolders = 0;
  while (clock.now() < durationMs) {
    for (const id of Object.keys(clients)) if (active(id, clock.now()) && !s.holding(id)) s.request(id);
    const { nextWakeAt } = s.schedule();
    const holders = s.holders();
    maxHolders = Math.max(maxHolders, holders.length);
    maxConcurrentPartition = Math.max(
      maxConcurrentPartition,
      holders.reduce((a, g) => a + clients[g.id]!.partition, 0),
    );
    const expiries = holders.map((g) => g.grantedAt + g.quotaMs);
    const next = Math.min(durationMs, ...expiries, nextWakeAt ?? Infinity, clock.now() + 10);
    const step = Math.max(next - clock.now(), 0.001);
    for (const g of holders) busy[g.id]! += step;
    clock.advance(step);
    for (const g of s.holders()) if (g.grantedAt + g.quotaMs <= clock.now() + 1e-9) s.release(g.id);
  }
  for (const id of Object.keys(busy)) busy[id] = busy[id]! / durationMs;
  return { busy, maxConcurrentPartition, maxHolders };
}

describe('TokenScheduler', () => {
  describe('ordering', () => {
    // Usage orders replicas only where it was contended (another replica waited meanwhile), so
    // each history below is built with the other replica waiting while one holds.
    it('serves the replica with the largest unmet fraction of its request first', () => {
      const clock = new ManualClock(0);
      const s = new TokenScheduler(clock, { windowMs: 10_000, baseQuotaMs: 300, minQuotaMs: 20 });
      s.register('a', share(0.3, 0.3, 100));
      s.register('b', share(0.7, 0.7, 100));
      // a holds 2 s of its 3 s while b waits (unmet 1/3); b holds 1 s of its 7 s while a waits (unmet 6/7)
      s.request('a');
      s.request('b');
      expect(granted(s)).to.deep.equal(['a']);
      clock.advance(2000);
      s.release('a');
      s.request('a');
      expect(granted(s)).to.deep.equal(['b']);
      clock.advance(1000);
      s.release('b');
      s.request('b');
      const { grants } = s.schedule();
      expect(grants.map((g) => g.id)).to.deep.equal(['b']);
    });

    it('after requests are met, serves the least-used replica first', () => {
      const clock = new ManualClock(0);
      const s = new TokenScheduler(clock, { windowMs: 10_000, baseQuotaMs: 300, minQuotaMs: 20 });
      s.register('a', share(0.1, 1, 100));
      s.register('b', share(0.1, 1, 100));
      s.request('a');
      s.request('b');
      s.schedule();
      clock.advance(3000);
      s.release('a'); // a: 3 s while b waited, over its 1 s request
      s.request('a');
      expect(granted(s)).to.deep.equal(['b']);
      clock.advance(2000);
      s.release('b'); // b: 2 s while a waited, over its 1 s request
      s.request('b');
      expect(granted(s)).to.deep.equal(['b']);
    });

    it('does not pay back time used while nobody else waited, but counts it against a limit', () => {
      const run = (limit: number) => {
        const clock = new ManualClock(0);
        const s = new TokenScheduler(clock, { windowMs: 10_000, baseQuotaMs: 300, minQuotaMs: 20 });
        s.register('g', share(0.1, 1, 100)); // best effort beyond 10 %
        s.register('v', share(0.5, limit, 50)); // the victim: owed half the device
        s.request('g');
        s.request('v');
        expect(s.schedule().grants.map((x) => x.id)).to.deep.equal(['g']); // v waits: contended
        clock.advance(500);
        s.release('g');
        expect(s.schedule().grants.map((x) => x.id)).to.deep.equal(['v']); // nobody waits now
        clock.advance(6000); // v alone for 6 s: more than its 5 s request, taken from no one
        s.release('v');
        s.request('g');
        s.request('v');
        return { s, grants: s.schedule().grants.map((x) => x.id) };
      };
      const { s, grants } = run(1);
      // charged by all held time v would be past its request and go behind g; contended it used nothing
      expect(s.usage('v')).to.equal(6000);
      expect(s.contendedUsage('v')).to.equal(0);
      expect(s.contendedUsage('g')).to.equal(500);
      expect(grants).to.deep.equal(['v']);
      // a limit is a cap on all held time: at 0.6 of the window v has 0 left
      expect(run(0.6).grants).to.deep.equal(['g']);
    });
  });

  describe('ordering past the requests', () => {
    it('weighs held time by partition: a small partition that held long but lightly goes before a large one', () => {
      const clock = new ManualClock(0);
      const s = new TokenScheduler(clock, { windowMs: 10_000, baseQuotaMs: 300, minQuotaMs: 20 });
      s.register('small', share(0.1, 1, 10)); // will hold 3 s at 10 %: 30 %·s of the device
      s.register('large', share(0.1, 1, 100)); // will hold 2 s at 100 %: 200 %·s
      // 110 % do not fit together: while one holds, the other waits
      s.request('large');
      s.request('small');
      expect(granted(s)).to.deep.equal(['large']);
      clock.advance(2000);
      s.release('large');
      s.request('large');
      expect(granted(s)).to.deep.equal(['small']);
      clock.advance(3000);
      s.release('small');
      s.request('small');
      expect(granted(s)).to.deep.equal(['small']);
    });
  });

  describe('shares over time (saturated replicas)', () => {
    const cases: { name: string; clients: Record<string, ShareConfig>; expect: Record<string, [number, number]> }[] = [
      {
        name: 'requests 0.3 / 0.7 with limits equal get 30 / 70 %',
        clients: { a: share(0.3, 0.3, 100), b: share(0.7, 0.7, 100) },
        expect: { a: [0.28, 0.32], b: [0.68, 0.72] },
      },
      {
        name: 'a lone replica with limit 0.4 stays at or under 0.4',
        clients: { a: share(0.4, 0.4, 100) },
        expect: { a: [0.38, 0.401] },
      },
      {
        name: 'request 0.3, limit 1, alone: work conserving',
        clients: { a: share(0.3, 1, 100) },
        expect: { a: [0.97, 1] },
      },
      {
        name: 'two replicas at partition 50 both run all the time',
        clients: { a: share(0.5, 1, 50), b: share(0.5, 1, 50) },
        expect: { a: [0.97, 1], b: [0.97, 1] },
      },
      {
        name: 'two replicas at partition 100 alternate',
        clients: { a: share(0.5, 1, 100), b: share(0.5, 1, 100) },
        expect: { a: [0.45, 0.55], b: [0.45, 0.55] },
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const r = simulate(c.clients, 30_000);
        for (const [id, [lo, hi]] of Object.entries(c.expect)) {
          expect(r.busy[id], id).to.be.within(lo, hi);
        }
      });
    }

    it('idle neighbours leave their share to a replica whose limit allows it', () => {
      const r = simulate({ a: share(0.3, 1, 100), b: share(0.7, 0.7, 100) }, 30_000, {}, (id) => id === 'a');
      expect(r.busy.a).to.be.above(0.9);
      expect(r.busy.b).to.equal(0);
    });

    it('time sharing only keeps one holder even when partitions would fit', () => {
      const r = simulate({ a: share(0.5, 1, 50), b: share(0.5, 1, 50) }, 10_000, { timeSharingOnly: true });
      expect(r.maxHolders).to.equal(1);
      expect(r.busy.a! + r.busy.b!).to.be.within(0.97, 1.0001);
    });
  });

  describe('partition admission', () => {
    it('grants concurrently while the running total stays within 100 % inside one pass', () => {
      const clock = new ManualClock(0);
      const s = new TokenScheduler(clock);
      for (const id of ['a', 'b', 'c']) s.register(id, share(0.3, 1, 40));
      for (const id of ['a', 'b', 'c']) s.request(id);
      const { grants } = s.schedule();
      expect(grants).to.have.length(2); // 40 + 40 fits, a third 40 would make 120
      expect(s.holders().length).to.equal(2);
    });

    it('counts current holders when admitting new ones', () => {
      const clock = new ManualClock(0);
      const s = new TokenScheduler(clock);
      s.register('big', share(0.5, 1, 70));
      s.register('small', share(0.5, 1, 40));
      s.request('big');
      expect(granted(s)).to.deep.equal(['big']);
      s.request('small');
      expect(s.schedule().grants).to.have.length(0);
      s.release('big');
      expect(granted(s)).to.deep.equal(['small']);
    });

    it('never exceeds 100 % of the device in a long mixed run', () => {
      const r = simulate(
        { a: share(0.2, 1, 12), b: share(0.2, 1, 24), c: share(0.3, 1, 50), d: share(0.3, 1, 60) },
        20_000,
      );
      expect(r.maxConcurrentPartition).to.be.at.most(100);
      expect(r.maxHolders).to.be.at.least(2);
    });

    it('does not let best-effort users starve a replica still owed its request', () => {
      const clock = new ManualClock(0);
      const s = new TokenScheduler(clock, { windowMs: 1000, baseQuotaMs: 50, minQuotaMs: 10 });
      s.register('owed', share(0.5, 0.5, 100));
      s.register('be1', share(0.1, 1, 30)); // a request of 0.1: its token is the base 50 ms
      s.register('be2', share(0, 1, 30));
      s.request('be1');
      s.schedule(); // be1 holds until 50
      clock.advance(45);
      s.request('owed');
      s.request('be2');
      const { grants } = s.schedule();
      // owed does not fit until be1's token ends at 50; be2 would hold past it, and a token of the
      // 5 ms left is below the minimum: be2 waits
      expect(grants.map((g) => g.id)).to.deep.equal([]);
      s.release('be1');
      expect(granted(s)).to.deep.equal(['owed']);
    });

    it('backfills a replica behind a reserved one with a token that ends before the reservation', () => {
      const { clock, s } = setup(10, { big: share(0.5, 1, 60), holder: share(0.3, 1, 50), small: share(0.1, 1, 45) });
      s.request('holder');
      s.schedule(); // holder: 50 %, until 50
      clock.advance(20);
      s.request('big'); // owed, 60 % does not fit beside 50 %: reserved for t = 50
      s.request('small');
      const { grants } = s.schedule();
      // small (45 %) fits now but not beside big at t = 50: it gets the 30 ms up to the reservation
      expect(grants.map((g) => [g.id, g.quotaMs])).to.deep.equal([['small', 30]]);
      clock.advance(30);
      s.release('holder');
      s.release('small');
      expect(granted(s)).to.deep.equal(['big']);
    });

    it('backfills beside a holder that overran its token instead of reserving the room it still holds', () => {
      const { clock, s } = setup(10, { big: share(0.5, 1, 60), holder: share(0.3, 1, 50), small: share(0.1, 1, 45) });
      s.request('holder');
      s.schedule(); // holder: 50 %, token until 50
      clock.advance(70); // its batch runs on, 20 ms past the token
      s.request('big'); // owed, 60 % does not fit beside the 50 % still held
      s.request('small');
      // small (45 %) fits now but not beside big; the overrunning token is expected to end within one
      // minimum token, so small gets that much (before: a reservation at "now" that big could not use
      // blocked it)
      expect(grantedQuotas(s)).to.deep.equal([['small', 10]]);
      clock.advance(5);
      s.release('holder');
      // big waits only for small's 5 ms left, then runs
      expect(s.schedule().grants).to.deep.equal([]);
      clock.advance(5);
      s.release('small');
      expect(granted(s)).to.deep.equal(['big']);
    });

    it('backfills only a replica whose least run ends before the reservation (a batch is never cut below one item)', () => {
      const { clock, s } = setup(5, {
        big: share(0.5, 1, 60),
        holder: share(0.3, 1, 50),
        slow: share(0.1, 1, 45),
        quick: share(0.1, 1, 45),
      });
      s.request('holder');
      s.schedule(); // holder: 50 %, until 50
      clock.advance(20);
      s.request('big'); // owed, reserved for t = 50
      s.request('slow', { minRunMs: 84 }); // one item runs 84 ms: it would hold the room past 50
      const first = s.schedule();
      expect(first.grants).to.deep.equal([]);
      s.request('quick', { minRunMs: 20 }); // fits in the 30 ms before the reservation
      expect(grantedQuotas(s)).to.deep.equal([['quick', 30]]);
    });

    it('backfills until shortly before the reserved replica must start when its requests can wait', () => {
      const shares = { big: share(0.5, 1, 60), holder: share(0.3, 1, 50), slow: share(0.1, 1, 45) };
      const run = (bigSlackMs: number) => {
        const { clock, s } = setup(5, shares);
        s.request('holder');
        s.schedule(); // holder: 50 %, until 50
        clock.advance(20);
        s.request('big', { slackMs: bigSlackMs }); // owed, 60 % fits at t = 50; must start by 20 + slack
        s.request('slow', { minRunMs: 84 }); // one item runs 84 ms: past 50
        return { clock, s, first: grantedQuotas(s) };
      };
      // 200 ms of slack: big must start by 220, and slow's run ends at 104 (before, slow waited and the
      // device ran at 50 % until t = 50)
      const { clock, s, first } = run(200);
      expect(first).to.deep.equal([['slow', 50]]);
      clock.advance(30);
      s.release('holder');
      expect(granted(s)).to.deep.equal([]); // big (60 %) does not fit beside slow (45 %)
      clock.advance(54);
      s.release('slow');
      expect(granted(s)).to.deep.equal(['big']); // at 104, long before 220
      // 60 ms of slack: big must start by 80, which slow's 84 ms run would miss
      expect(run(60).first).to.deep.equal([]);
      // 120 ms: by 140, but backfill ends one base token (50 ms) before that, and slow's run ends at 104
      expect(run(120).first).to.deep.equal([]);
      expect(run(140).first).to.deep.equal([['slow', 50]]);
    });

    it('counts a token held at least its least run when reserving for a replica owed its share', () => {
      const { clock, s } = setup(
        5,
        { long: share(0.3, 1, 50), big: share(0.5, 1, 60), small: share(0.1, 1, 45) },
        { sloTokenFraction: 0 },
      );
      s.request('long', { burstMs: 10, minRunMs: 90 }); // token of 10 ms, but its one item runs 90
      expect(grantedQuotas(s)).to.deep.equal([['long', 10]]);
      clock.advance(5);
      s.request('big'); // reserved for when long's run ends (t = 90), not its quota (t = 10)
      s.request('small', { minRunMs: 40 });
      // small's 40 ms run ends by 90: backfilled, with its full 50 ms token (85 ms are left to the reservation; before,
      // the reservation was at 10 and small waited)
      expect(grantedQuotas(s)).to.deep.equal([['small', 50]]);
    });

    it('grants urgent best-effort replicas first, earliest deadline first; never ahead of one still owed', () => {
      const { clock, s } = setup(5, {
        owed: share(0.5, 1, 60),
        calm: share(0, 1, 60),
        due: share(0, 1, 60),
        sooner: share(0, 1, 60),
      });
      s.request('calm'); // no deadline given: waited longest
      clock.advance(1);
      s.request('due', { slackMs: 30 });
      clock.advance(1);
      s.request('sooner', { slackMs: 10 }); // asked last, but its request is due first
      // each takes the whole device in turn (60 % + 60 % > 100 %)
      const order: string[] = [];
      for (let i = 0; i < 3; i++) {
        const g = s.schedule().grants;
        expect(g).to.have.length(1);
        order.push(g[0]!.id);
        clock.advance(1);
        s.release(g[0]!.id);
      }
      expect(order).to.deep.equal(['sooner', 'due', 'calm']);
      // a replica owed its share still goes first, however urgent the others say they are
      s.request('sooner', { slackMs: 0 });
      s.request('owed');
      expect(granted(s)).to.deep.equal(['owed']);
    });

    it('lets urgent best-effort replicas pass one owed its share once per wait, only while its own requests can wait', () => {
      const { clock, s } = setup(5, { bert: share(0.6, 1, 60), resnet: share(0, 1, 60), resnet2: share(0, 1, 60) });
      s.request('bert', { slackMs: 400 });
      s.request('resnet', { slackMs: 20, minRunMs: 15 });
      // bert is owed but can wait 400 ms: the urgent resnet goes first
      const one = granted(s);
      expect(one).to.deep.equal(['resnet']);
      clock.advance(15);
      s.release('resnet');
      s.request('resnet2', { slackMs: 10, minRunMs: 15 });
      // bert was passed over once in this wait: now it goes first, however urgent resnet2 says it is
      expect(granted(s)).to.deep.equal(['bert']);
      clock.advance(20);
      s.release('bert');
      expect(granted(s)).to.deep.equal(['resnet2']);
      clock.advance(15);
      s.release('resnet2');
      // a new wait; but bert's own requests are due soon (slack 60 < 50 + 15): nobody passes it
      s.request('bert', { slackMs: 60 });
      s.request('resnet', { slackMs: 0, minRunMs: 15 });
      expect(granted(s)).to.deep.equal(['bert']);
    });

    it('among replicas owed their share, grants an urgent one before those that can wait', () => {
      const { clock, s } = setup(5, { victim: share(0.5, 1, 50), aggressor: share(0.15, 1, 100) });
      // the victim used some of its share already: the aggressor's unmet fraction is the larger
      s.request('victim');
      s.schedule();
      clock.advance(100);
      s.release('victim');
      s.request('aggressor', { slackMs: 400 });
      s.request('victim', { slackMs: 30 }); // its request must start within 30 ms
      expect(granted(s)).to.deep.equal(['victim']);
      clock.advance(10);
      s.release('victim');
      // when neither is urgent, the unmet fraction decides again
      s.request('victim', { slackMs: 90 });
      expect(granted(s)).to.deep.equal(['aggressor']);
    });

    it('grants a full token to a replica that fits beside the reserved one', () => {
      const { clock, s } = setup(10, { big: share(0.5, 1, 60), holder: share(0.3, 1, 50), tiny: share(0.1, 1, 20) });
      s.request('holder');
      s.schedule();
      clock.advance(20);
      s.request('big');
      s.request('tiny');
      // tiny (20 %) fits now (70 %) and beside big later (80 %): not cut
      expect(grantedQuotas(s)).to.deep.equal([['tiny', 50]]);
    });

    it('keeps the device busier than a blanket hold-back in a saturated mixed run, within 100 %', () => {
      const mix = {
        r1: share(0.4, 1, 12),
        r2: share(0.4, 1, 12),
        r3: share(0.4, 1, 12),
        r4: share(0.4, 1, 12),
        n1: share(0.4, 1, 24),
        n2: share(0.4, 1, 24),
        b1: share(0.6, 1, 50),
        b2: share(0.6, 1, 50),
      };
      const r = simulate(mix, 10_000);
      const used = Object.entries(r.busy).reduce((a, [id, f]) => a + f * mix[id as keyof typeof mix].partition, 0);
      expect(r.maxConcurrentPartition).to.be.at.most(100);
      // Σ partition × share of time held: how much of the device the tokens kept in use (of 100)
      expect(used).to.be.above(90);
    });
  });

  describe('charging and token length', () => {
    it('charges an overrun in full, by its own clock', () => {
      const clock = new ManualClock(0);
      const s = new TokenScheduler(clock, { windowMs: 10_000, baseQuotaMs: 300, minQuotaMs: 20 });
      s.register('a', share(0.5, 0.5, 100));
      s.request('a');
      const [g] = s.schedule().grants;
      expect(g!.quotaMs).to.equal(300);
      clock.advance(800);
      expect(s.release('a')).to.equal(800);
      expect(s.usage('a')).to.equal(800);
    });

    it('adapts the token length to bursts: 0.5·burst + 0.5·previous, clamped', () => {
      const clock = new ManualClock(0);
      const s = new TokenScheduler(clock, { windowMs: 1000, baseQuotaMs: 100, minQuotaMs: 20 });
      s.register('a', share(0.5, 1, 100));
      s.request('a', { burstMs: 60 }); // first burst known: quota = 60
      expect(s.schedule().grants[0]!.quotaMs).to.equal(60);
      clock.advance(60);
      s.release('a');
      s.request('a', { burstMs: 100 }); // 0.5·100 + 0.5·60 = 80
      expect(s.schedule().grants[0]!.quotaMs).to.equal(80);
      clock.advance(80);
      s.release('a');
      s.request('a', { burstMs: 5000 }); // clamped to quotaRequest·W = 500
      expect(s.schedule().grants[0]!.quotaMs).to.equal(500);
    });

    it('does not cut the tokens of a replica whose limit is the whole window, however much it held', () => {
      const { clock, s } = setup(10, { a: share(1, 1, 100) });
      for (let i = 0; i < 19; i++) {
        s.request('a');
        s.schedule();
        clock.advance(50);
        s.release('a');
      }
      // 950 of the last 1000 ms held: a limit below 1 would leave a 50 ms sliver; limit 1 leaves the token whole
      s.request('a', { burstMs: 200 });
      const [g] = s.schedule().grants;
      expect(g!.quotaMs).to.be.above(100);
    });

    it('caps a token at what is left of the limit', () => {
      const clock = new ManualClock(0);
      const s = new TokenScheduler(clock, { windowMs: 1000, baseQuotaMs: 300, minQuotaMs: 20 });
      s.register('a', share(0.4, 0.4, 100));
      s.request('a');
      s.schedule();
      clock.advance(300);
      s.release('a');
      s.request('a');
      expect(s.schedule().grants[0]!.quotaMs).to.be.closeTo(100, 1e-6);
    });

    it('tells when a replica at its limit may run again', () => {
      const clock = new ManualClock(0);
      const s = new TokenScheduler(clock, { windowMs: 1000, baseQuotaMs: 400, minQuotaMs: 20 });
      s.register('a', share(0.4, 0.4, 100));
      s.request('a');
      s.schedule();
      clock.advance(400);
      s.release('a');
      s.request('a');
      const r = s.schedule();
      expect(r.grants).to.have.length(0);
      // the first grant leaves the window from t=1000; a minimum token (20 ms) fits again at t=1020
      expect(r.nextWakeAt).to.be.closeTo(1020, 1);
      clock.advance(r.nextWakeAt! - clock.now() + 1);
      expect(granted(s)).to.deep.equal(['a']);
    });
  });

  describe('replicas that go away', () => {
    it('releases the token of a replica that vanishes while holding it', () => {
      const clock = new ManualClock(0);
      const s = new TokenScheduler(clock);
      s.register('a', share(0.5, 1, 100));
      s.register('b', share(0.5, 1, 100));
      s.request('a');
      s.request('b');
      expect(granted(s)).to.deep.equal(['a']);
      clock.advance(5);
      s.unregister('a');
      expect(granted(s)).to.deep.equal(['b']);
      expect(() => s.request('a')).to.throw(/not registered/);
    });

    it('rejects invalid shares with the field named', () => {
      const s = new TokenScheduler(new ManualClock(0));
      expect(() => s.register('x', share(0.5, 0.4, 50))).to.throw(/quotaLimit/);
      expect(() => s.register('x', share(0.5, 1, 0))).to.throw(/partition/);
      expect(() => s.register('x', share(1.5, 1, 50))).to.throw(/quotaRequest/);
    });
  });

  describe('SLO-aware token length (beyond FaST-GShare)', () => {
    const grantOf = (s: TokenScheduler, id: string) => s.schedule().grants.find((g) => g.id === id)!;

    it("caps a token at half the tightest SLO of the other replicas, not at the holder's own", () => {
      const clock = new ManualClock(0);
      const s = new TokenScheduler(clock, { windowMs: 1000, baseQuotaMs: 50, minQuotaMs: 10 });
      s.register('bert', { ...share(0.6, 1, 100), sloMs: 500 });
      s.request('bert', { burstMs: 500 }); // a long burst: the adaptive length would be 500 ms
      expect(grantOf(s, 'bert').quotaMs, 'alone: no other SLO to protect').to.equal(500);
      s.release('bert');
      s.register('resnet', { ...share(0.4, 1, 100), sloMs: 100 });
      s.request('bert', { burstMs: 500 });
      expect(grantOf(s, 'bert').quotaMs, 'resnet (SLO 100 ms) may wait at most 50 ms').to.equal(50);
      s.release('bert');
      s.request('resnet', { burstMs: 30 });
      expect(
        grantOf(s, 'resnet').quotaMs,
        "resnet's own SLO does not cap its token; bert's 500 ms allows 250",
      ).to.equal(30);
    });

    it('never goes below the minimum token, and is off with sloTokenFraction 0', () => {
      const clock = new ManualClock(0);
      const tight = new TokenScheduler(clock, { windowMs: 1000, baseQuotaMs: 50, minQuotaMs: 10 });
      tight.register('a', share(0.5, 1, 100));
      tight.register('b', { ...share(0.5, 1, 100), sloMs: 8 });
      tight.request('a', { burstMs: 200 });
      expect(grantOf(tight, 'a').quotaMs).to.equal(10);
      const off = new TokenScheduler(clock, { windowMs: 1000, baseQuotaMs: 50, minQuotaMs: 10, sloTokenFraction: 0 });
      off.register('a', share(0.5, 1, 100));
      off.register('b', { ...share(0.5, 1, 100), sloMs: 8 });
      off.request('a', { burstMs: 200 });
      expect(grantOf(off, 'a').quotaMs).to.equal(200);
    });

    it('refuses a non-positive SLO and a fraction outside [0, 1]', () => {
      const clock = new ManualClock(0);
      const s = new TokenScheduler(clock);
      expect(() => s.register('x', { ...share(0.5, 1, 100), sloMs: 0 })).to.throw(/sloMs/);
      expect(() => new TokenScheduler(clock, { sloTokenFraction: 2 })).to.throw(/sloTokenFraction/);
    });

    it('keeps saturated replicas in their shares with the cap on (shares unchanged, tokens shorter)', () => {
      const r = simulate(
        { a: { ...share(0.3, 0.3, 100), sloMs: 40 }, b: { ...share(0.7, 0.7, 100), sloMs: 40 } },
        10_000,
      );
      expect(r.busy.a).to.be.closeTo(0.3, 0.03);
      expect(r.busy.b).to.be.closeTo(0.7, 0.03);
    });
  });
});
