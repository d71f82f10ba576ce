import { expect } from 'chai';
import { readGatewayConfig, readNodeConfig, readAsyncConfig, readProfilerConfig, readAuth } from '../../core/config.ts';
import { ConfigError } from '../../core/errors.ts';

describe('core/config', () => {
  it('has documented defaults', () => {
    const c = readGatewayConfig({}, '/srv');
    expect(c).to.include({
      port: 8080,
      dataDir: '/srv/.fastgshare',
      redisUrl: 'redis://127.0.0.1:6379',
      maxBodyBytes: 10 * 1024 * 1024,
      readyTimeoutMs: 10_000,
    });
    expect(c.mongoUri).to.equal(undefined);
    expect(c.auth).to.equal(undefined);
    expect(c.async).to.equal(undefined); // async and the profiler need Redis asked for explicitly
    expect(readNodeConfig({}, 'host-a', '/srv')).to.include({
      port: 8081,
      name: 'host-a',
      advertiseUrl: 'http://127.0.0.1:8081',
    });
  });

  const bad: [Record<string, string>, string][] = [
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ MONGODB_URI: 'postgres://x' }, 'MONGODB_URI'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL'],
    [{ FASTGSHARE_LOG_LEVEL: 'loud' }, 'FASTGSHARE_LOG_LEVEL'],
    [{ FASTGSHARE_AUTH: 'maybe' }, 'FASTGSHARE_AUTH'],
    [{ FASTGSHARE_ADMIN_PASSWORD: 'short' }, 'FASTGSHARE_ADMIN_PASSWORD'],
    [{ FASTGSHARE_NODES: 'http://ok:1,ftp://no' }, 'FASTGSHARE_NODES'],
    [{ FASTGSHARE_ASYNC: 'yes' }, 'FASTGSHARE_ASYNC'],
    [{ FASTGSHARE_ASYNC: 'true', FASTGSHARE_ASYNC_PREFIX: 'has space' }, 'FASTGSHARE_ASYNC_PREFIX'],
    [{ FASTGSHARE_PROFILER: 'true', FASTGSHARE_PROFILER_QUEUE: ':colon' }, 'FASTGSHARE_PROFILER_QUEUE'],
  ];
  for (const [env, variable] of bad) {
    it(`names ${variable} when ${JSON.stringify(env)} is invalid`, () => {
      let err: unknown;
      try {
        readGatewayConfig(env);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).variable).to.equal(variable);
      expect((err as Error).message.startsWith(`${variable}: `)).to.equal(true);
    });
  }

  it('keeps 50000 timeline events per device by default; FASTGSHARE_TIMELINE_EVENTS sets it (0 = off) and a bad value names the variable', () => {
    expect(readNodeConfig({}, 'host-a', '/srv').timelineEvents).to.equal(50_000);
    expect(readNodeConfig({ FASTGSHARE_TIMELINE_EVENTS: '0' }, 'host-a', '/srv').timelineEvents).to.equal(0);
    for (const v of ['-1', 'lots', '1.5'])
      expect(() => readNodeConfig({ FASTGSHARE_TIMELINE_EVENTS: v }, 'host-a', '/srv')).to.throw(
        ConfigError,
        /^FASTGSHARE_TIMELINE_EVENTS: /,
      );
  });

  it('turns Redis-backed features on when REDIS_URL is set or the flag says so, and off by flag', () => {
    expect(readAsyncConfig({ REDIS_URL: 'redis://r:6379' })).to.include({ prefix: 'fastgshare', maxAttempts: 5 });
    expect(readAsyncConfig({ FASTGSHARE_ASYNC: 'true' })).to.not.equal(undefined);
    expect(readAsyncConfig({ REDIS_URL: 'redis://r:6379', FASTGSHARE_ASYNC: 'false' })).to.equal(undefined);
    expect(readProfilerConfig({ FASTGSHARE_PROFILER: '1' })).to.include({ queue: 'profiler', trialSeconds: 20 });
    expect(readProfilerConfig({ FASTGSHARE_PROFILER: '1' })?.auto, 'automatic sweeps on by default').to.equal(true);
    expect(readProfilerConfig({ FASTGSHARE_PROFILER: '1', FASTGSHARE_PROFILER_AUTO: 'false' })?.auto).to.equal(false);
    expect(readProfilerConfig({})).to.equal(undefined);
  });

  it('enables basic auth with a password and defaults the user to admin', () => {
    expect(readAuth({ FASTGSHARE_ADMIN_PASSWORD: 'long-enough' })).to.deep.equal({
      user: 'admin',
      password: 'long-enough',
    });
    expect(readAuth({ FASTGSHARE_ADMIN_PASSWORD: 'long-enough', FASTGSHARE_AUTH: 'false' })).to.equal(undefined);
  });
});
