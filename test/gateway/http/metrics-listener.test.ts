/** The metrics listener and its settings: apart from the public port, local by default. */
import { expect } from 'chai';
import { Registry, Counter } from 'prom-client';
import { readGatewayConfig, readMetricsListenConfig } from '../../../core/config.ts';
import { ConfigError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { startMetricsListener } from '../../../gateway/http/metrics-listener.ts';

describe('metrics listener', () => {
  it('defaults to 127.0.0.1:8082, or any free port when PORT is 0', () => {
    expect(readMetricsListenConfig({})).to.deep.equal({ port: 8082, host: '127.0.0.1' });
    expect(readMetricsListenConfig({ PORT: '0' })).to.deep.equal({ port: 0, host: '127.0.0.1' });
    expect(
      readMetricsListenConfig({ FASTGSHARE_METRICS_PORT: '9100', FASTGSHARE_METRICS_HOST: '0.0.0.0' }),
    ).to.deep.equal({ port: 9100, host: '0.0.0.0' });
    expect(readGatewayConfig({}).metrics).to.deep.equal({ port: 8082, host: '127.0.0.1' });
  });

  it('stops the start with a message naming the variable for a bad value', () => {
    const bad = (env: Record<string, string>, variable: string) => {
      expect(() => readMetricsListenConfig(env))
        .to.throw(ConfigError)
        .with.property('variable', variable);
    };
    bad({ FASTGSHARE_METRICS_PORT: 'eighty' }, 'FASTGSHARE_METRICS_PORT');
    bad({ FASTGSHARE_METRICS_PORT: '70000' }, 'FASTGSHARE_METRICS_PORT');
    bad({ PORT: '9000', FASTGSHARE_METRICS_PORT: '9000' }, 'FASTGSHARE_METRICS_PORT');
    bad({ FASTGSHARE_METRICS_HOST: 'not a host' }, 'FASTGSHARE_METRICS_HOST');
  });

  it('serves GET /metrics and nothing else; a taken port is an error that names the variable', async () => {
    const registry = new Registry();
    new Counter({ name: 'probe_total', help: 'a probe', registers: [registry] }).inc(3);
    const m = await startMetricsListener(registry, { port: 0, host: '127.0.0.1' }, silentLogger);
    try {
      expect(m.url).to.equal(`http://127.0.0.1:${m.port}`);
      const r = await fetch(`${m.url}/metrics`);
      expect(r.status).to.equal(200);
      expect(r.headers.get('content-type')).to.contain('text/plain');
      expect(await r.text()).to.contain('probe_total 3');
      for (const path of ['/', '/system/functions', '/function/echo', '/metrics/x'])
        expect((await fetch(m.url + path)).status, path).to.equal(404);
      expect((await fetch(`${m.url}/metrics`, { method: 'POST' })).status).to.equal(404);
      let err: unknown;
      await startMetricsListener(registry, { port: m.port, host: '127.0.0.1' }, silentLogger).then(
        (x) => x.close(),
        (e: unknown) => (err = e),
      );
      expect(String((err as Error)?.message)).to.contain('FASTGSHARE_METRICS_PORT');
    } finally {
      await m.close();
    }
  });
});
