import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { metrics } from '@opentelemetry/api';
import {
  METRIC_LABEL_MAX_LENGTH,
  METRIC_MAX_SERIES,
  metricsHandler,
  startTelemetry,
} from '../src/index.js';
import type { Telemetry } from '../src/index.js';

// The whole SDK in-process, scraped over HTTP the way Prometheus and the Collector do.
describe('metric label bounds (every instrument, through the global meter provider)', () => {
  let telemetry: Telemetry;
  let url: string;
  const server = createServer(metricsHandler());

  before(async () => {
    for (const k of Object.keys(process.env)) if (k.startsWith('OTEL_')) delete process.env[k];
    telemetry = startTelemetry({ serviceName: 'bounds-test' });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  });
  after(async () => {
    server.close();
    await telemetry.shutdown();
  });

  const scrape = async (): Promise<string> => {
    const res = await fetch(url);
    assert.equal(res.status, 200);
    return res.text();
  };

  it('600 KB model names: the scrape answers, and no label value exceeds the cap', async () => {
    const histogram = metrics.getMeter('bounds').createHistogram('test.token.usage', {
      advice: { explicitBucketBoundaries: [1, 10, 100] },
    });
    for (let i = 0; i < 9; i++) {
      histogram.record(5, { 'gen_ai.request.model': `${String(i)}${'m'.repeat(600_000)}` });
    }
    const text = await scrape();
    const lines = text.split('\n').filter((l) => l.startsWith('test_token_usage_count'));
    assert.equal(lines.length, 9);
    for (const line of lines) {
      const value = /gen_ai_request_model="([^"]*)"/.exec(line)?.[1] ?? '';
      assert.ok(value.length > 0 && value.length <= METRIC_LABEL_MAX_LENGTH, line.slice(0, 200));
      assert.ok(value.endsWith('…'));
    }
    assert.ok(text.length < 200_000, `exposition is ${text.length} bytes`);
  });

  it('distinct label sets past the cap fold into one overflow series, across scrapes', async () => {
    const counter = metrics.getMeter('bounds').createCounter('test.sessions');
    let recorded = 0;
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < METRIC_MAX_SERIES; i++) {
        counter.add(1, { model: `r${round}-m${i}`, kind: 'fill' });
        recorded += 1;
      }
      // Scraping between rounds is what defeats a per-collection limit under cumulative temporality.
      await scrape();
    }
    const text = await scrape();
    const series = text.split('\n').filter((l) => l.startsWith('test_sessions_total{'));
    assert.equal(series.length, METRIC_MAX_SERIES + 1);
    const overflow = series.find((l) => l.includes('otel_metric_overflow="true"'));
    assert.ok(overflow, 'one overflow series');
    assert.equal(Number(overflow.split(' ').pop()), recorded - METRIC_MAX_SERIES);
    // Nothing is lost: every measurement is in some series.
    const total = series.reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    assert.equal(total, recorded);
    const folded = /^lakehouse_metric_overflow_total\{[^}]*\} (\d+)/m.exec(text);
    assert.ok(folded, 'the overflow counter is exported');
    assert.ok(Number(folded[1]) >= recorded - METRIC_MAX_SERIES);
  });

  it('each instrument has its own budget, even when two share their label keys', async () => {
    const meter = metrics.getMeter('bounds');
    const flooded = meter.createCounter('test.flooded');
    const quiet = meter.createCounter('test.quiet');
    for (let i = 0; i < METRIC_MAX_SERIES * 2; i++) flooded.add(1, { model: `junk-${i}` });
    quiet.add(1, { model: 'gpt-4o' });
    const text = await scrape();
    const quietSeries = text.split('\n').filter((l) => l.startsWith('test_quiet_total{'));
    assert.deepEqual(
      quietSeries.map((l) => /model="([^"]*)"/.exec(l)?.[1] ?? 'folded'),
      ['gpt-4o'],
      quietSeries.join('\n'),
    );
  });
});
