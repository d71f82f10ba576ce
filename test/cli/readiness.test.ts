import { expect } from 'chai';
import type { OpenFaasClient } from '../../cli/api-client.ts';
import { waitForReady } from '../../cli/readiness.ts';
import type { FunctionStatus } from '../../core/contracts/openfaas.ts';
import { ManualClock } from '../../core/clock.ts';
import { PlatformError } from '../../core/errors.ts';

/** A client whose functions become ready after `readyAfter[name]` polls (absent: never). */
function fakeClient(readyAfter: Record<string, number>): { client: OpenFaasClient; polls: Record<string, number> } {
  const polls: Record<string, number> = {};
  const client = {
    async getFunction(name: string): Promise<FunctionStatus> {
      polls[name] = (polls[name] ?? 0) + 1;
      if (name === 'missing' && polls[name]! < 2) throw new PlatformError('not_found', 'no such function yet');
      const ready = readyAfter[name] !== undefined && polls[name]! >= readyAfter[name]!;
      return { name, availableReplicas: ready ? 1 : 0 } as FunctionStatus;
    },
  } as unknown as OpenFaasClient;
  return { client, polls };
}

describe('cli/readiness', () => {
  it('waits for every function, reporting each one as it becomes ready', async () => {
    const clock = new ManualClock(0);
    const { client, polls } = fakeClient({ a: 1, b: 4, missing: 3 });
    const ready: string[] = [];
    const waiting: string[] = [];
    await waitForReady(client, [{ name: 'a' }, { name: 'b' }, { name: 'missing' }], {
      timeoutMs: 60_000,
      intervalMs: 1_000,
      now: () => clock.now(),
      sleep: async (ms) => clock.advance(ms),
      onReady: (n, ms) => ready.push(`${n}@${ms}`),
      onWaiting: (n) => waiting.push(n),
    });
    expect(ready).to.deep.equal(['a@0', 'missing@2000', 'b@3000']);
    expect(polls).to.deep.equal({ a: 1, b: 4, missing: 3 });
    expect(waiting).to.include('b');
  });

  it('gives up after the timeout, naming the function and where to look', async () => {
    const clock = new ManualClock(0);
    const { client } = fakeClient({ a: 1 });
    const err = await waitForReady(client, [{ name: 'a' }, { name: 'stuck' }], {
      timeoutMs: 5_000,
      intervalMs: 1_000,
      now: () => clock.now(),
      sleep: async (ms) => clock.advance(ms),
    }).catch((e: PlatformError) => e);
    expect(err).to.be.instanceOf(PlatformError);
    expect((err as PlatformError).code).to.equal('no_replicas');
    expect((err as PlatformError).message).to.equal(
      'no ready replica for stuck after 5s: see `fastgshare logs stuck` and `fastgshare describe stuck`',
    );
  });
});
