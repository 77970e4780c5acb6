import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { logs } from '@opentelemetry/api-logs';
import { InMemoryLogRecordExporter, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { createLogger, startTelemetry, WINSTON_BRIDGE_SCOPE } from '../src/index.js';
import type { Telemetry } from '../src/index.js';
import { eventually, startOtlpReceiver } from '@lakehouse/test-support';
import type { OtlpReceiver } from '@lakehouse/test-support';

// OTLP logs on: winston lines go to OTLP; the service's own processors see only their records.
describe('log routing with OTLP logs configured', () => {
  const sessionExporter = new InMemoryLogRecordExporter();
  let receiver: OtlpReceiver;
  let telemetry: Telemetry;

  before(async () => {
    receiver = await startOtlpReceiver();
    for (const k of Object.keys(process.env)) if (k.startsWith('OTEL_')) delete process.env[k];
    process.env['OTEL_EXPORTER_OTLP_LOGS_ENDPOINT'] = `${receiver.url}/v1/logs`;
    process.env['OTEL_BLRP_SCHEDULE_DELAY'] = '20';
    telemetry = startTelemetry({
      serviceName: 'log-routing',
      logRecordProcessors: [new SimpleLogRecordProcessor({ exporter: sessionExporter })],
    });
  });
  after(async () => {
    await telemetry.shutdown();
    await receiver.close();
  });

  it('configures OTLP for logs only (signal-specific endpoint)', () => {
    assert.deepEqual(telemetry.otlp, { traces: false, metrics: false, logs: true });
  });

  it('sends winston lines to OTLP once, and keeps them away from service processors', async () => {
    const otel = createLogger({ service: 'log-routing' });
    otel.remove(otel.transports[0]!); // drop stdout, keep the OTel bridge
    otel.info('bridged line', { k: 'v' });
    logs
      .getLogger('@lakehouse/session-log')
      .emit({ body: 'session row', eventName: 'session.iterate.v1' });
    await telemetry.forceFlush();
    const bridged = await eventually(() => {
      const r = receiver.logs.filter((l) => l.body === 'bridged line');
      return r.length > 0 ? r : undefined;
    });
    assert.equal(bridged.length, 1);
    assert.equal(bridged[0]?.scope, WINSTON_BRIDGE_SCOPE);
    const own = sessionExporter.getFinishedLogRecords().map((r) => r.body);
    assert.deepEqual(own, ['session row']);
  });
});
