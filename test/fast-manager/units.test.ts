import { expect } from 'chai';
import express from 'express';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { PlatformError } from '../../core/errors.ts';
import { ManualClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/logger.ts';
import { tempDir } from '../helpers/store.ts';
import { parseQuantity, parseMemoryBytes, formatBytes } from '../../core/contracts/quantity.ts';
import { splitCommandLine } from '../../fast-manager/apply/command-line.ts';
import { validateApply, fingerprintOf } from '../../fast-manager/apply/request.ts';
import { backoffDelay, formatDelay } from '../../fast-manager/replicas/backoff.ts';
import { buildReplicaEnv } from '../../fast-manager/replicas/env.ts';
import { FunctionLog } from '../../fast-manager/logs/function-log.ts';
import { createLogHub } from '../../fast-manager/logs/log-hub.ts';
import { logsRoute } from '../../fast-manager/http/logs-route.ts';
import { parseProcStat } from '../../fast-manager/usage/proc.ts';
import { resolveTuning } from '../../fast-manager/tuning.ts';
import { makeSpec } from './harness.ts';
import { advertisedUrl } from '../../fast-manager/advertised-url.ts';
import { readNodeConfig } from '../../core/config.ts';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(PlatformError);
    return (err as PlatformError).code + ': ' + (err as PlatformError).message;
  }
  throw new Error('expected an error');
}

describe('fast-manager units', () => {
  it('parses Kubernetes quantities', () => {
    expect(parseQuantity('256Mi', 'f')).to.equal(256 * 2 ** 20);
    expect(parseQuantity('1.5Gi', 'f')).to.equal(1.5 * 2 ** 30);
    expect(parseQuantity('500m', 'f')).to.equal(0.5);
    expect(parseQuantity('2', 'f')).to.equal(2);
    expect(parseQuantity('1G', 'f')).to.equal(1e9);
    expect(parseQuantity('128k', 'f')).to.equal(128_000);
    expect(parseQuantity('1e3', 'f')).to.equal(1000);
    expect(parseMemoryBytes('100.5', 'f')).to.equal(101);
    expect(codeOf(() => parseQuantity('12 parsecs', 'spec.limits.memory'))).to.match(
      /^bad_request: spec.limits.memory: "12 parsecs"/,
    );
    expect(codeOf(() => parseQuantity('1mi', 'x'))).to.match(/^bad_request/);
    expect(codeOf(() => parseQuantity('-1Mi', 'x'))).to.contain('negative');
    expect(codeOf(() => parseMemoryBytes('0', 'x'))).to.contain('more than zero');
    expect(formatBytes(300 * 2 ** 20)).to.equal('300Mi');
    expect(formatBytes(1.5 * 2 ** 30)).to.equal('1.5Gi');
    expect(formatBytes(100)).to.equal('100B');
  });

  it('splits command lines like a shell, without a shell', () => {
    expect(splitCommandLine('node index.js', 'f')).to.deep.equal(['node', 'index.js']);
    expect(splitCommandLine(`  python3  -c 'print("a b")' "x \\"y\\"" z\\ w ''`, 'f')).to.deep.equal([
      'python3',
      '-c',
      'print("a b")',
      'x "y"',
      'z w',
      '',
    ]);
    expect(codeOf(() => splitCommandLine('node "a', 'spec.envProcess'))).to.contain('unterminated');
    expect(codeOf(() => splitCommandLine('   ', 'f'))).to.contain('empty');
    expect(codeOf(() => splitCommandLine('node a | tee b', 'f'))).to.contain('shell syntax');
  });

  it('doubles the backoff per crash up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100].map((n) => backoffDelay(n, 1000, 30_000))).to.deep.equal([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
    expect(formatDelay(2000)).to.equal('2s');
    expect(formatDelay(1500)).to.equal('1.5s');
    expect(formatDelay(200)).to.equal('200ms');
  });

  it('validates apply requests and fingerprints specs independently of key order', () => {
    const v = validateApply(
      { spec: makeSpec({ name: 'ocr', limits: { memory: '256Mi' } }), replicas: 2 },
      { namespace: 'openfaas-fn', name: 'ocr' },
    );
    expect(v.memoryLimitBytes).to.equal(256 * 2 ** 20);
    expect(v.replicas).to.equal(2);
    const a = fingerprintOf(makeSpec({ name: 'a', envVars: { X: '1', Y: '2' } }));
    expect(fingerprintOf(makeSpec({ name: 'a', envVars: { Y: '2', X: '1' } }))).to.equal(a);
    expect(fingerprintOf(makeSpec({ name: 'a', envVars: { X: '1', Y: '3' } }))).to.not.equal(a);
    expect(
      fingerprintOf(
        makeSpec({ name: 'a', envVars: { X: '1', Y: '2' }, annotations: { 'fastgshare/gpu_sm_partition': '50' } }),
      ),
    ).to.not.equal(a);
    expect(
      codeOf(() =>
        validateApply(
          { spec: makeSpec({ name: 'a', envVars: { '1BAD': 'x' } }), replicas: 1 },
          { namespace: 'openfaas-fn', name: 'a' },
        ),
      ),
    ).to.contain('spec.envVars');
    expect(
      codeOf(() =>
        validateApply(
          { spec: makeSpec({ name: 'a', requests: { cpu: 'lots' } }), replicas: 1 },
          { namespace: 'openfaas-fn', name: 'a' },
        ),
      ),
    ).to.contain('spec.requests.cpu');
    expect(
      codeOf(() =>
        validateApply(
          { spec: makeSpec({ name: 'a', image: '../../etc' }), replicas: 1 },
          { namespace: 'openfaas-fn', name: 'a' },
        ),
      ),
    ).to.match(/^invalid_name/);
    expect(codeOf(() => validateApply({ replicas: 1 }, { namespace: 'openfaas-fn', name: 'a' }))).to.contain('spec');
  });

  it('builds a replica environment from envVars and platform values only', () => {
    const env = buildReplicaEnv({
      envVars: { A: '1', PORT: '9', FASTGSHARE_REPLICA_ID: 'fake', fprocess: 'not this' },
      name: 'f',
      namespace: 'ns',
      replicaId: 'f-1',
      port: 1234,
      secretsDir: '/s',
      tmpDir: '/t',
      host: { path: '/usr/bin', home: '/home/x' },
      fprocess: 'node index.ts',
    });
    expect(env).to.include({
      A: '1',
      PORT: '1234',
      FASTGSHARE_REPLICA_ID: 'f-1',
      FASTGSHARE_FUNCTION: 'f',
      FASTGSHARE_NAMESPACE: 'ns',
      FASTGSHARE_SECRETS_DIR: '/s',
      TMPDIR: '/t',
      HOME: '/home/x',
      NODE_ENV: 'production',
      fprocess: 'node index.ts',
    });
    expect(env.PATH).to.match(/node_modules\/\.bin:\/usr\/bin$/);
    expect(Object.keys(env).sort()).to.deep.equal([
      'A',
      'FASTGSHARE_FUNCTION',
      'FASTGSHARE_NAMESPACE',
      'FASTGSHARE_REPLICA_ID',
      'FASTGSHARE_SECRETS_DIR',
      'HOME',
      'NODE_ENV',
      'PATH',
      'PORT',
      'TMPDIR',
      'fprocess',
    ]);
  });

  it('keeps the last N log lines and filters them', () => {
    const log = new FunctionLog(3);
    const at = (s: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, s)).toISOString();
    for (let i = 0; i < 5; i++)
      log.push({ name: 'f', namespace: 'n', instance: i % 2 ? 'b' : 'a', timestamp: at(i), text: `l${i}` });
    expect(log.size).to.equal(3);
    expect(log.query({}).map((l) => l.text)).to.deep.equal(['l2', 'l3', 'l4']);
    expect(log.query({ instance: 'a' }).map((l) => l.text)).to.deep.equal(['l2', 'l4']);
    expect(log.query({ tail: 1 }).map((l) => l.text)).to.deep.equal(['l4']);
    expect(log.query({ since: new Date(at(3)) }).map((l) => l.text)).to.deep.equal(['l3', 'l4']);
    for (let i = 5; i < 3000; i++)
      log.push({ name: 'f', namespace: 'n', instance: 'a', timestamp: at(0), text: `l${i}` });
    expect(log.query({}).map((l) => l.text)).to.deep.equal(['l2997', 'l2998', 'l2999']);
  });

  it('stops following when the log client disconnects', async () => {
    const dir = await tempDir();
    const clock = new ManualClock(Date.UTC(2024, 0, 1));
    const hub = createLogHub({ dir: dir.dir, linesPerFunction: 100, fileMaxBytes: 1 << 20, clock, log: silentLogger });
    const app = express();
    app.get('/v1/logs', logsRoute(hub));
    const server = createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const ac = new AbortController();
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs?name=f&follow=true`, {
        signal: ac.signal,
      });
      const reader = res.body!.getReader();
      // the route subscribes in the same step that sends the headers: a follower once the response has begun
      expect(hub.log('openfaas-fn', 'f').followers).to.equal(1);
      hub.append('openfaas-fn', 'f', 'f-1', 'hello');
      const { value } = await reader.read();
      expect(JSON.parse(Buffer.from(value!).toString())).to.deep.equal({
        name: 'f',
        namespace: 'openfaas-fn',
        instance: 'f-1',
        timestamp: '2024-01-01T00:00:00.000Z',
        text: 'hello',
      });
      ac.abort();
      await reader.cancel().catch(() => undefined);
      const deadline = Date.now() + 2000;
      while (hub.log('openfaas-fn', 'f').followers > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      expect(hub.log('openfaas-fn', 'f').followers).to.equal(0);
    } finally {
      server.closeAllConnections();
      server.close();
      await hub.close();
      await dir.cleanup();
    }
  });

  it('rotates a function log file at its size bound', async () => {
    const dir = await tempDir();
    const { readFile, stat } = await import('node:fs/promises');
    try {
      const hub = createLogHub({
        dir: dir.dir,
        linesPerFunction: 10,
        fileMaxBytes: 2000,
        clock: new ManualClock(0),
        log: silentLogger,
      });
      for (let i = 0; i < 100; i++) hub.append('ns', 'f', 'f-1', `line ${i} ${'x'.repeat(50)}`);
      await hub.close();
      const cur = await stat(`${dir.dir}/ns/f.log`);
      const prev = await stat(`${dir.dir}/ns/f.log.1`);
      expect(cur.size).to.be.at.most(2000);
      expect(prev.size).to.be.at.most(2000);
      expect((await readFile(`${dir.dir}/ns/f.log`, 'utf8')).trim().split('\n').pop()).to.contain('line 99');
    } finally {
      await dir.cleanup();
    }
  });

  it('parses /proc stat lines, including odd command names', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = 'S';
    fields[5 - 3] = '4242'; // pgrp
    fields[14 - 3] = '100'; // utime
    fields[15 - 3] = '50'; // stime
    fields[24 - 3] = '2560'; // rss pages
    fields[22 - 3] = '987654'; // starttime
    const s = parseProcStat(`4243 (node (x) y) ${fields.join(' ')}`);
    expect(s).to.deep.equal({ pid: 4243, pgrp: 4242, cpuTicks: 150, rssPages: 2560, startTicks: 987654, state: 'S' });
    expect(parseProcStat('garbage')).to.equal(null);
  });

  it('advertises the bound port unless FASTGSHARE_NODE_URL says otherwise', () => {
    const cfg = (env: Record<string, string>) => readNodeConfig({ FASTGSHARE_NODE_PORT: '0', ...env }, 'h');
    expect(advertisedUrl(cfg({}), 40123)).to.equal('http://127.0.0.1:40123');
    expect(advertisedUrl(cfg({ FASTGSHARE_NODE_HOST: '0.0.0.0' }), 40123)).to.equal('http://127.0.0.1:40123');
    expect(advertisedUrl(cfg({ FASTGSHARE_NODE_HOST: '10.1.2.3' }), 40123)).to.equal('http://10.1.2.3:40123');
    expect(advertisedUrl(cfg({ FASTGSHARE_NODE_URL: 'http://gpu-7.cluster:8081/' }), 40123)).to.equal(
      'http://gpu-7.cluster:8081',
    );
    expect(advertisedUrl(cfg({ FASTGSHARE_NODE_URL: 'http://gpu-7.cluster' }), 40123)).to.equal('http://gpu-7.cluster');
    expect(advertisedUrl(readNodeConfig({ FASTGSHARE_NODE_PORT: '8081' }, 'h'), 8081)).to.equal(
      'http://127.0.0.1:8081',
    );
  });

  it('rejects bad tuning values', () => {
    expect(() => resolveTuning({ backoffBaseMs: -1 })).to.throw(/tuning.backoffBaseMs/);
    expect(() => resolveTuning({ unhealthyAfter: 5, restartAfterFailures: 2 })).to.throw(/restartAfterFailures/);
    expect(resolveTuning().backoffBaseMs).to.equal(1000);
  });
});
