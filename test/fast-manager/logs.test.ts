import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useAgentHarness, waitFor, waitReady } from './harness.ts';
import type { LogMessage } from '../../core/contracts/openfaas.ts';

describe('fast-manager: function logs', function () {
  this.timeout(30_000);
  const ctx = useAgentHarness();

  it('returns NDJSON lines of every replica, filtered by instance, tail and since', async () => {
    await ctx.h.apply({ name: 'chatty' }, 2);
    const [a, b] = (await waitReady(ctx.h, 'chatty', 2)).replicas;
    for (let i = 0; i < 5; i++) await fetch(`${a!.url}/log?text=a-${i}`);
    await fetch(`${b!.url}/log?text=b-0`);
    const all = await waitFor('log lines', async () => {
      const l = await ctx.h.logs('name=chatty&namespace=openfaas-fn');
      return l.some((x) => x.text === 'b-0') && l.some((x) => x.text === 'a-4') ? l : undefined;
    });
    for (const l of all) {
      expect(l).to.have.all.keys('name', 'namespace', 'instance', 'timestamp', 'text');
      expect(l.name).to.equal('chatty');
      expect(l.namespace).to.equal('openfaas-fn');
      expect(new Date(l.timestamp).toISOString()).to.equal(l.timestamp);
    }
    expect(all.filter((l) => l.text === `listening on ${new URL(a!.url).port}`).map((l) => l.instance)).to.deep.equal([
      a!.id,
    ]);

    const onlyA = await ctx.h.logs(`name=chatty&instance=${a!.id}`);
    expect(onlyA.every((l) => l.instance === a!.id)).to.equal(true);
    expect(onlyA.map((l) => l.text).filter((t) => t.startsWith('a-'))).to.deep.equal([
      'a-0',
      'a-1',
      'a-2',
      'a-3',
      'a-4',
    ]);

    const tail = await ctx.h.logs(`name=chatty&instance=${a!.id}&tail=2`);
    expect(tail.map((l) => l.text)).to.deep.equal(['GET /log', 'a-4']);
    expect(await ctx.h.logs('name=chatty&tail=0')).to.deep.equal([]);
    expect(await ctx.h.logs('name=chatty&tail=-1')).to.have.length(all.length);

    const cut = all.find((l) => l.text === 'b-0')!.timestamp;
    const since = await ctx.h.logs(`name=chatty&since=${encodeURIComponent(cut)}`);
    expect(since.length).to.be.greaterThan(0);
    expect(since.every((l) => l.timestamp >= cut)).to.equal(true);
    expect(since.map((l) => l.text)).to.not.include('a-0');

    // and they are written to the function's log file
    const file = await waitFor('log file', async () => {
      const text = await readFile(join(ctx.h.dataDir, 'logs', 'openfaas-fn', 'chatty.log'), 'utf8');
      return text.includes('"b-0"') ? text : undefined;
    });
    const parsed = file
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LogMessage);
    expect(parsed.map((l) => l.text)).to.include.members(['a-0', 'a-4', 'b-0']);
  });

  it('streams new lines with follow=true until the client disconnects', async () => {
    await ctx.h.apply({ name: 'follower' }, 1);
    const r = (await waitReady(ctx.h, 'follower', 1)).replicas[0]!;
    const ac = new AbortController();
    const res = await fetch(`${ctx.h.agent.url}/v1/logs?name=follower&follow=true&tail=0`, {
      signal: ac.signal,
      headers: { authorization: `Bearer ${ctx.h.agent.token}` },
    });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.contain('application/x-ndjson');
    const reader = res.body!.getReader();
    const got: LogMessage[] = [];
    let buf = '';
    const readUntil = async (text: string) => {
      while (!got.some((l) => l.text === text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buf += Buffer.from(value).toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          got.push(JSON.parse(buf.slice(0, nl)) as LogMessage);
          buf = buf.slice(nl + 1);
        }
      }
    };
    await fetch(`${r.url}/log?text=first-followed`);
    await readUntil('first-followed');
    await fetch(`${r.url}/log?text=second-followed`);
    await readUntil('second-followed');
    expect(got.every((l) => l.name === 'follower' && l.instance === r.id)).to.equal(true);
    expect(got.map((l) => l.text)).to.not.include(`listening on ${new URL(r.url).port}`);
    ac.abort();
    await reader.cancel().catch(() => undefined);
  });

  it('rejects a bad log query and answers an empty stream for an unknown function', async () => {
    const bad = await ctx.h.call<{ code: string; message: string }>('GET', '/v1/logs?name=chatty&tail=lots');
    expect(bad.status).to.equal(400);
    expect(bad.body.message).to.contain('tail');
    const badSince = await ctx.h.call<{ code: string; message: string }>('GET', '/v1/logs?name=chatty&since=yesterday');
    expect(badSince.status).to.equal(400);
    expect(badSince.body.message).to.contain('since');
    const noName = await ctx.h.call<{ code: string }>('GET', '/v1/logs');
    expect(noName.status).to.equal(400);
    expect(noName.body.code).to.equal('invalid_name');
    expect(await ctx.h.logs('name=never-deployed')).to.deep.equal([]);
  });
});
