/**
 * Cost arithmetic on known synthetic usage in the real store: per-minute records inserted by
 * hand, then the report's figures checked against sums worked out here, for both pricing
 * models, every granularity, device-class prices, CSV and the HTML page.
 */
import { expect } from 'chai';
import { startTestStore, type TestStore } from '../helpers/store.ts';
import type { PricingConfig } from '../../core/config.ts';
import { readPricingConfig } from '../../core/config.ts';
import { ratesFor } from '../../gateway/metering/pricing.ts';
import { buildCostReport, UNASSIGNED } from '../../gateway/metering/cost-report.ts';
import { parseCostQuery } from '../../gateway/metering/cost-query.ts';
import { costReportCsv } from '../../gateway/metering/cost-csv.ts';
import { costReportHtml } from '../../gateway/metering/cost-html.ts';
import { incUsage } from '../../gateway/metering/usage-writer.ts';
import { PlatformError } from '../../core/errors.ts';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const MIN = 60_000;

const pricing: PricingConfig = {
  currency: 'EUR',
  default: { deviceHour: 2, gbHour: 0.036, millionInvocations: 1 },
  devices: { cuda: { deviceHour: 36, gbHour: 0.036, millionInvocations: 1 } },
};

describe('cost report on known synthetic usage', () => {
  let ts: TestStore;
  const owners = new Map([
    ['acme', 'acme'],
    ['globex', 'globex'],
    ['globex-dev', 'globex'],
  ]);

  before(async () => {
    ts = await startTestStore();
    const m = ts.store.models;
    // acme: a cpu function for 3 minutes, 10 calls a minute, 36 device-seconds used, 72 reserved, 100 GB-s
    for (let i = 0; i < 3; i++)
      await incUsage(
        m,
        { namespace: 'acme', name: 'ocr', device: 'cpu', start: T0 + i * MIN },
        {
          invocations: 10,
          errorCount: 1,
          sloMet: 8,
          sloViolated: 2,
          deviceSeconds: 36,
          reservedDeviceSeconds: 72,
          gbSeconds: 100,
        },
      );
    // globex: a cuda function in the second minute, and one in its dev namespace in the 61st minute
    await incUsage(
      m,
      { namespace: 'globex', name: 'vad', device: 'cuda', start: T0 + MIN },
      { invocations: 1_000, deviceSeconds: 10, reservedDeviceSeconds: 20 },
    );
    await incUsage(
      m,
      { namespace: 'globex-dev', name: 'vad', device: 'cpu', start: T0 + 61 * MIN },
      { invocations: 500_000 },
    );
    // nobody's: the default namespace
    await incUsage(
      m,
      { namespace: 'openfaas-fn', name: 'figlet', device: 'cpu', start: T0 },
      { invocations: 2, gbSeconds: 3600 },
    );
    // outside the range
    await incUsage(
      m,
      { namespace: 'acme', name: 'ocr', device: 'cpu', start: T0 + 3 * 3_600_000 },
      { invocations: 99 },
    );
  });
  after(async () => ts?.cleanup());

  const query = (q: Record<string, string>) =>
    parseCostQuery({ from: '2026-03-01T10:00:00Z', to: '2026-03-01T12:00:00Z', ...q }, T0);

  it('prices pay-per-use per device class, and tenants add up exactly to the platform', async () => {
    const r = await buildCostReport(
      { models: ts.store.models, pricing, owners },
      query({ granularity: 'hour', model: 'use' }),
    );
    expect(r.tenants.map((t) => t.tenant)).to.deep.equal(['acme', 'globex', UNASSIGNED]);
    const [acme, globex, none] = r.tenants;
    // acme: 108 device-s × 2/3600 = 0.06; 300 GB-s × 0.036/3600 = 0.003; 30 calls × 1/1e6 = 0.00003
    expect(acme!.totals).to.include({
      invocations: 30,
      errorCount: 3,
      sloMet: 24,
      sloViolated: 6,
      deviceSeconds: 108,
      reservedDeviceSeconds: 216,
      gbSeconds: 300,
    });
    expect(acme!.totals.costDevice).to.equal(0.06);
    expect(acme!.totals.costMemory).to.equal(0.003);
    expect(acme!.totals.costInvocations).to.equal(0.00003);
    expect(acme!.totals.cost).to.equal(0.06303);
    // globex: cuda 10 device-s × 36/3600 = 0.1; 501,000 calls × 1/1e6 = 0.501
    expect(globex!.namespaces).to.deep.equal(['globex', 'globex-dev']);
    expect(globex!.totals.cost).to.equal(0.601);
    expect(globex!.functions.map((f) => `${f.name}.${f.namespace}`)).to.deep.equal(['vad.globex', 'vad.globex-dev']);
    // unassigned: 3600 GB-s = 1 GB-h × 0.036 + 2 calls
    expect(none!.totals.cost).to.equal(0.036002);
    expect(r.total.cost).to.equal(0.06303 + 0.601 + 0.036002);
    expect(r.total.invocations).to.equal(30 + 501_000 + 2);
    const sumMicros = r.tenants.reduce((s, t) => s + Math.round(t.totals.cost * 1e6), 0);
    expect(sumMicros).to.equal(Math.round(r.total.cost * 1e6));
    expect(r.currency).to.equal('EUR');
  });

  it('prices the reserved model on the share reserved', async () => {
    const r = await buildCostReport(
      { models: ts.store.models, pricing, owners },
      query({ granularity: 'hour', model: 'reserved' }),
    );
    const acme = r.tenants.find((t) => t.tenant === 'acme')!;
    expect(acme.totals.costDevice).to.equal(0.12); // 216 × 2/3600
    const globex = r.tenants.find((t) => t.tenant === 'globex')!;
    expect(globex.totals.costDevice).to.equal(0.2); // 20 × 36/3600
  });

  it('buckets the series by minute, hour and day', async () => {
    const byMinute = await buildCostReport(
      { models: ts.store.models, pricing, owners },
      query({ granularity: 'minute', tenant: 'acme' }),
    );
    expect(byMinute.tenants).to.have.length(1);
    expect(byMinute.tenants[0]!.series.map((p) => [p.start, p.invocations])).to.deep.equal([
      ['2026-03-01T10:00:00.000Z', 10],
      ['2026-03-01T10:01:00.000Z', 10],
      ['2026-03-01T10:02:00.000Z', 10],
    ]);
    const byHour = await buildCostReport(
      { models: ts.store.models, pricing, owners },
      query({ granularity: 'hour', tenant: 'globex' }),
    );
    expect(byHour.tenants[0]!.series.map((p) => [p.start, p.name, p.namespace, p.invocations])).to.deep.equal([
      ['2026-03-01T10:00:00.000Z', 'vad', 'globex', 1000],
      ['2026-03-01T11:00:00.000Z', 'vad', 'globex-dev', 500_000],
    ]);
    const byDay = await buildCostReport(
      { models: ts.store.models, pricing, owners },
      parseCostQuery({ from: '2026-03-01', to: '2026-03-02', granularity: 'day' }, T0),
    );
    expect(byDay.total.invocations).to.equal(30 + 501_000 + 2 + 99);
    expect(byDay.tenants.find((t) => t.tenant === 'acme')!.series).to.have.length(1);
  });

  it('reports a tenant with no usage as zero, not absent', async () => {
    const r = await buildCostReport(
      { models: ts.store.models, pricing, owners: new Map([...owners, ['idle', 'idle']]) },
      query({ tenant: 'idle' }),
    );
    expect(r.tenants).to.have.length(1);
    expect(r.tenants[0]!.totals.cost).to.equal(0);
    expect(r.total.invocations).to.equal(0);
  });

  it('writes CSV with one row per tenant, function and period', async () => {
    const r = await buildCostReport({ models: ts.store.models, pricing, owners }, query({ granularity: 'minute' }));
    const rows = costReportCsv(r)
      .trim()
      .split('\r\n')
      .map((l) => l.split(','));
    expect(rows[0]).to.include.members(['start', 'tenant', 'function', 'cost']);
    expect(rows).to.have.length(1 + 3 + 1 + 1 + 1);
    const costCol = rows[0]!.indexOf('cost');
    const total = rows.slice(1).reduce((s, row) => s + Math.round(Number(row[costCol]) * 1e6), 0);
    expect(total).to.equal(Math.round(r.total.cost * 1e6));
  });

  it('renders an HTML page with a chart per tenant and no external assets', async () => {
    const r = await buildCostReport({ models: ts.store.models, pricing, owners }, query({ granularity: 'minute' }));
    const html = costReportHtml(r);
    expect(html.match(/<section>/g)).to.have.length(3);
    expect(html.match(/<svg /g)).to.have.length(9);
    expect(html).to.contain('ocr.acme').and.to.contain('Total: <b>0.06 EUR</b>');
    expect(html).not.to.match(/<script|src=|href=/);
  });

  it('rejects bad queries with messages that say what to fix', () => {
    const bad = (q: Record<string, string>) => {
      try {
        parseCostQuery(q, T0);
      } catch (err) {
        expect(err).to.be.instanceOf(PlatformError);
        return (err as PlatformError).message;
      }
      throw new Error('accepted');
    };
    expect(bad({ granularity: 'week' })).to.contain('minute, hour or day');
    expect(bad({ from: 'yesterday' })).to.contain('RFC 3339');
    expect(bad({ from: '2026-03-02', to: '2026-03-01' })).to.contain('must be before');
    expect(bad({ model: 'free' })).to.contain('reserved');
    expect(bad({ from: '2020-01-01', to: '2026-01-01', granularity: 'minute' })).to.contain('coarser');
  });

  it('reads prices per device kind from a pricing file (devices, or its earlier name classes)', async () => {
    const { writeFile, mkdtemp, rm } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'pricing-'));
    try {
      const expected = {
        currency: 'EUR',
        default: { deviceHour: 3, gbHour: 0.01, millionInvocations: 0.4 },
        devices: { cuda: { deviceHour: 40, gbHour: 0.5, millionInvocations: 0.4 } },
      };
      for (const key of ['devices', 'classes']) {
        await writeFile(
          join(dir, 'p.yml'),
          `currency: eur\ndefault: { deviceHour: 3 }\n${key}:\n  cuda: { deviceHour: 40, gbHour: 0.5 }\n`,
        );
        const p = readPricingConfig({
          FASTGSHARE_PRICING_FILE: join(dir, 'p.yml'),
          FASTGSHARE_PRICE_MILLION_INVOCATIONS: '0.4',
        });
        expect(p, key).to.deep.equal(expected);
        expect(ratesFor(p, 'cuda').deviceHour).to.equal(40);
        expect(ratesFor(p, 'cpu').deviceHour, 'a kind without its own rates').to.equal(3);
        expect(ratesFor(p, 'constructor').deviceHour, 'not a kind: the default').to.equal(3);
      }
      await writeFile(join(dir, 'bad.yml'), 'devices:\n  cuda: { perHour: 1 }\n');
      expect(() => readPricingConfig({ FASTGSHARE_PRICING_FILE: join(dir, 'bad.yml') })).to.throw(
        /devices.cuda.perHour is not a rate/,
      );
      await writeFile(join(dir, 'v100.yml'), 'devices:\n  v100: { deviceHour: 1 }\n');
      expect(() => readPricingConfig({ FASTGSHARE_PRICING_FILE: join(dir, 'v100.yml') })).to.throw(
        /devices.v100: "v100" is not a device kind; use cpu, emulated, cuda/,
      );
      await writeFile(join(dir, 'both.yml'), 'devices: {}\nclasses: {}\n');
      expect(() => readPricingConfig({ FASTGSHARE_PRICING_FILE: join(dir, 'both.yml') })).to.throw(
        /"classes" is the earlier name of "devices"/,
      );
      expect(() => readPricingConfig({ FASTGSHARE_PRICE_DEVICE_HOUR: '-1' })).to.throw(/FASTGSHARE_PRICE_DEVICE_HOUR/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
