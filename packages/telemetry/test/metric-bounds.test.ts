import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { metrics } from '@opentelemetry/api';
import fc from 'fast-check';
import { eventually, hostileText } from '@lakehouse/test-support';
import {
  METRIC_LABEL_MAX_LENGTH,
  METRIC_MAX_LABEL_BYTES,
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

  it('a generated flood of model names on a histogram: its exposition stays within the byte budget', async () => {
    const boundaries = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000];
    const lines = boundaries.length + 3;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        // A distinct prefix per name, so every one is a new series; the stem makes it long.
        hostileText(METRIC_LABEL_MAX_LENGTH - 8),
        fc.integer({ min: 200, max: 3000 }),
        async (stem, count) => {
          const models = Array.from({ length: count }, (_, i) => `${String(i)}${stem}`);
          run += 1;
          const name = `test_flood_${String(run)}`;
          const histogram = metrics
            .getMeter('bounds')
            .createHistogram(name, { advice: { explicitBucketBoundaries: boundaries } });
          for (const model of models)
            histogram.record(3, { 'gen_ai.request.model': model, 'gen_ai.token.type': 'input' });
          const own = (await scrape())
            .split('\n')
            .filter(
              (l) =>
                l.startsWith(`${name}_bucket{`) ||
                l.startsWith(`${name}_sum{`) ||
                l.startsWith(`${name}_count{`),
            );
          let clientBytes = 0;
          for (const line of own) {
            const value = /gen_ai_request_model="((?:[^"\\]|\\.)*)"/.exec(line)?.[1];
            if (value !== undefined) clientBytes += Buffer.byteLength(value);
          }
          // The model names as exposed, over every line of every series, fit the budget (before,
          // each was counted once per series and appeared on 17 lines here).
          assert.ok(clientBytes <= METRIC_MAX_LABEL_BYTES, `${clientBytes} bytes of model names`);
          // The rest of a line is ours (name, scope, token type, le, numbers): under 200 bytes.
          const bytes = own.reduce((sum, l) => sum + Buffer.byteLength(l) + 1, 0);
          const bound = METRIC_MAX_LABEL_BYTES + (METRIC_MAX_SERIES + 1) * lines * 200;
          assert.ok(bytes <= bound, `${bytes} bytes exposed for ${name}, bound ${bound}`);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('concurrent scrapes share one render, and a young render is served again', async () => {
    let renders = 0;
    let arrived = 0;
    let release: (() => void) | undefined;
    let held = false;
    const gate = metrics.getMeter('bounds').createObservableGauge('test.render.gate');
    // Holds the render under way until every scrape has arrived.
    gate.addCallback(async (result) => {
      if (release === undefined) return;
      held = true;
      await new Promise<void>((r) => (release = r));
      result.observe(1);
    });
    const shared = metricsHandler({ maxAgeMs: 0, onRender: () => (renders += 1) });
    const storm = createServer((req, res) => {
      arrived += 1;
      shared(req, res);
    });
    await new Promise<void>((r) => storm.listen(0, '127.0.0.1', r));
    const stormUrl = `http://127.0.0.1:${(storm.address() as AddressInfo).port}/metrics`;
    try {
      release = () => undefined;
      const scrapes = Array.from({ length: 50 }, () => fetch(stormUrl).then((r) => r.text()));
      await eventually(() => (arrived === 50 && held ? true : undefined), 10_000, '50 scrapes');
      release();
      const bodies = await Promise.all(scrapes);
      assert.equal(renders, 1, 'one render for 50 concurrent scrapes');
      assert.equal(new Set(bodies).size, 1);
      assert.match(bodies[0] ?? '', /^test_render_gate\{[^}]*\} 1$/m);
      release = undefined;
      await (await fetch(stormUrl)).text();
      assert.equal(renders, 2, 'with maxAgeMs 0 a later scrape renders again');

      const cached = metricsHandler({ maxAgeMs: 3_600_000, onRender: () => (renders += 1) });
      const again = createServer(cached);
      await new Promise<void>((r) => again.listen(0, '127.0.0.1', r));
      const againUrl = `http://127.0.0.1:${(again.address() as AddressInfo).port}/metrics`;
      try {
        for (let i = 0; i < 5; i++) assert.equal((await fetch(againUrl)).status, 200);
        assert.equal(renders, 3, 'five scrapes within maxAgeMs: one render');
      } finally {
        again.close();
      }
    } finally {
      release?.();
      storm.close();
    }
  });
});
