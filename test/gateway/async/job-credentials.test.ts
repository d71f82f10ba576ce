/**
 * Queued calls carry no credential: the function caller drops any credential header a job holds
 * and presents the gateway's internal credential for the job's caller instead; the processor takes
 * a credential left in a job by an older gateway out of Redis (job.updateData) before the call.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Job } from 'bullmq';
import { ManualClock } from '../../../core/clock.ts';
import { silentLogger } from '../../../core/logger.ts';
import { createFunctionCaller, type FunctionCaller } from '../../../gateway/async/function-caller.ts';
import { createProcessor } from '../../../gateway/async/processor.ts';
import { createFunctionLimiter } from '../../../gateway/async/limiter.ts';
import type { AsyncJobData, AsyncJobResult } from '../../../gateway/async/job.ts';
import { createInternalCredential } from '../../../gateway/tenants/internal-credential.ts';
import { INTERNAL_AUTH_HEADER, ON_BEHALF_HEADER } from '../../../gateway/proxy/headers.ts';

const job = (over: Partial<AsyncJobData> = {}): AsyncJobData => ({
  callId: 'call-1',
  function: 'echo.acme',
  method: 'POST',
  path: '/p',
  headers: { 'x-custom': 'kept', Authorization: 'Basic YWNtZTpzZWNyZXQ=', 'x-fastgshare-internal-auth': 'stale' },
  bodyBase64: Buffer.from('hi').toString('base64'),
  caller: { kind: 'tenant', name: 'acme' },
  acceptedAt: 0,
  ...over,
});

describe('async jobs carry no credentials', () => {
  let server: http.Server;
  let url = '';
  const seen: http.IncomingHttpHeaders[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it("the function caller sends the internal credential for the job's caller, never a credential from the job", async () => {
    const internal = createInternalCredential();
    const caller = createFunctionCaller({
      gatewayUrl: () => url,
      timeoutMs: 5000,
      maxResponseBytes: 1024,
      credentials: internal.headers,
    });
    try {
      expect((await caller.call(job())).status).to.equal(200);
      const h = seen.at(-1)!;
      expect(h.authorization).to.equal(undefined);
      expect(h['x-custom']).to.equal('kept');
      expect(
        internal.check(h[INTERNAL_AUTH_HEADER] as string),
        "this process's credential, not the stale one",
      ).to.equal(true);
      expect(h[ON_BEHALF_HEADER]).to.equal('tenant:acme');
      await caller.call(job({ caller: undefined }));
      expect(seen.at(-1)![ON_BEHALF_HEADER], 'an old job without a caller runs as anonymous').to.equal('anonymous');
    } finally {
      caller.close();
    }
  });

  it('the processor removes a credential an older gateway left in a job before calling', async () => {
    const updates: AsyncJobData[] = [];
    const called: AsyncJobData[] = [];
    const fake: FunctionCaller = {
      call: async (d) => (called.push(d), { status: 200, headers: {}, body: Buffer.alloc(0) }),
      close: () => undefined,
    };
    const process = createProcessor({
      caller: fake,
      callbacks: { send: async () => undefined },
      limiter: createFunctionLimiter(1),
      metrics: {
        submitted: () => undefined,
        finished: () => undefined,
        retried: () => undefined,
        callback: () => undefined,
      },
      clock: new ManualClock(),
      log: silentLogger,
      maxAttempts: 1,
    });
    const j = {
      data: job(),
      attemptsMade: 0,
      updateData: async (d: AsyncJobData) => void updates.push(d),
    } as unknown as Job<AsyncJobData, AsyncJobResult>;
    expect((await process(j)).status).to.equal(200);
    expect(updates).to.have.length(1);
    expect(updates[0]!.headers).to.deep.equal({ 'x-custom': 'kept' });
    expect(called[0]!.headers).to.deep.equal({ 'x-custom': 'kept' });
    // a clean job is not rewritten
    const clean = {
      data: job({ headers: { 'x-custom': 'kept' } }),
      attemptsMade: 0,
      updateData: async (d: AsyncJobData) => void updates.push(d),
    } as unknown as Job<AsyncJobData, AsyncJobResult>;
    await process(clean);
    expect(updates).to.have.length(1);
  });
});
