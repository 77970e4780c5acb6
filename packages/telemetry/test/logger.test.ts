import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import winston from 'winston';
import { createLogger, LOG_FIELD_MAX_LENGTH, requestLogger } from '../src/index.js';

// Replaces the stdout transport with a stream we can read; formats stay the logger's own.
function capture(logger: winston.Logger): () => Record<string, unknown>[] {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  logger.clear();
  logger.add(new winston.transports.Stream({ stream }));
  return () =>
    text
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('createLogger', () => {
  const provider = new NodeTracerProvider();
  before(() => provider.register());
  after(async () => {
    trace.disable();
    await provider.shutdown();
  });

  it('writes JSON lines with timestamp, level, message, service and meta', () => {
    const logger = createLogger({ service: 'gateway', level: 'debug' });
    const lines = capture(logger);
    logger.debug('hello', { port: 4110 });
    const [line] = lines();
    assert.equal(line?.['message'], 'hello');
    assert.equal(line?.['level'], 'debug');
    assert.equal(line?.['service'], 'gateway');
    assert.equal(line?.['port'], 4110);
    assert.match(String(line?.['timestamp']), /^\d{4}-\d\d-\d\dT/);
    assert.equal(line?.['trace_id'], undefined, 'no trace fields outside a span');
  });

  it('cuts every string field, nested meta and the message to LOG_FIELD_MAX_LENGTH', () => {
    const logger = createLogger({ service: 'gateway' });
    const lines = capture(logger);
    const huge = 'm'.repeat(600_000);
    logger.info(huge, { model: huge, nested: { error: huge, list: [huge] }, port: 1 });
    const [line] = lines();
    const text = JSON.stringify(line);
    assert.ok(text.length < 6 * LOG_FIELD_MAX_LENGTH, `line of ${text.length} characters`);
    assert.equal(String(line?.['model']).length, LOG_FIELD_MAX_LENGTH);
    assert.equal(String(line?.['message']).length, LOG_FIELD_MAX_LENGTH);
    assert.ok(String(line?.['model']).endsWith('…'));
    assert.equal(line?.['port'], 1);
  });

  it('requestLogger adds trace_id and span_id of the span in the given context, also to its children', () => {
    const logger = createLogger({ service: 'chatd' });
    const lines = capture(logger);
    const span = trace.getTracer('test').startSpan('work');
    const ids = span.spanContext();
    const scoped = requestLogger(logger, trace.setSpan(ROOT_CONTEXT, span));
    scoped.info('inside');
    scoped.child({ component: 'x' }).warn('child');
    span.end();
    logger.info('outside');
    assert.equal(requestLogger(logger, ROOT_CONTEXT), logger, 'no span: the logger itself');
    const [inside, child, outside] = lines();
    assert.equal(inside?.['trace_id'], ids.traceId);
    assert.equal(inside?.['span_id'], ids.spanId);
    assert.equal(child?.['trace_id'], ids.traceId);
    assert.equal(child?.['component'], 'x');
    assert.equal(outside?.['trace_id'], undefined);
    assert.deepEqual(Object.keys(inside ?? {}).sort(), [
      'level',
      'message',
      'service',
      'span_id',
      'timestamp',
      'trace_id',
    ]);
  });

  it('respects the level option', () => {
    const logger = createLogger({ service: 'chatd', level: 'warn' });
    const lines = capture(logger);
    logger.info('dropped');
    logger.error('kept');
    assert.deepEqual(
      lines().map((l) => l['message']),
      ['kept'],
    );
  });
});
