import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  createLangfuseSpanProcessor,
  LAKEHOUSE_ATTRIBUTES as LH,
  LangfuseConfigError,
  LangfuseTranslatingSpanProcessor,
} from '../src/index.js';
import { Service } from './harness.js';

const PK = 'pk-lf-1234567890abcdef';
const SK = 'sk-lf-abcdef1234567890';

void describe('configuration', () => {
  void it('is undefined with neither keys nor a trace file', () => {
    assert.equal(createLangfuseSpanProcessor({ env: {} }), undefined);
  });

  void it('prefers Langfuse keys over the trace file and accepts LANGFUSE_HOST', async () => {
    const p = createLangfuseSpanProcessor({
      env: {
        LANGFUSE_PUBLIC_KEY: PK,
        LANGFUSE_SECRET_KEY: SK,
        LANGFUSE_HOST: 'http://127.0.0.1:9/',
        LANGFUSE_TRACE_FILE: '/tmp/x.jsonl',
      },
    });
    assert.deepEqual(p?.destination, {
      kind: 'langfuse',
      url: 'http://127.0.0.1:9/api/public/otel/v1/traces',
    });
    await p?.shutdown();
    const f = createLangfuseSpanProcessor({
      env: { LANGFUSE_TRACE_FILE: '/tmp/x.jsonl', CONTENT_CAPTURE: 'false' },
      contentCapture: false,
    });
    assert.deepEqual(f?.destination, { kind: 'file', path: '/tmp/x.jsonl' });
    assert.equal(f?.contentCapture, false);
    await f?.shutdown();
    // CONTENT_CAPTURE is the services' (parsed once, strictly); the processor takes the option only.
    const g = createLangfuseSpanProcessor({
      env: { LANGFUSE_TRACE_FILE: '/tmp/x.jsonl', CONTENT_CAPTURE: 'false' },
    });
    assert.equal(g?.contentCapture, true);
    await g?.shutdown();
  });

  void it('rejects a malformed Langfuse URL at construction, naming the variable', () => {
    for (const [name, value] of [
      ['LANGFUSE_BASE_URL', 'cloud.langfuse.com'],
      ['LANGFUSE_HOST', 'notaurl'],
      ['LANGFUSE_OTLP_ENDPOINT', 'ftp://collector/v1/traces'],
    ] as const) {
      assert.throws(
        () =>
          createLangfuseSpanProcessor({ env: { [name]: value, LANGFUSE_TRACE_FILE: '/tmp/x' } }),
        (err: unknown) =>
          err instanceof LangfuseConfigError &&
          err.variable === name &&
          err.message.startsWith(`${name}: expected an http(s) URL`),
        name,
      );
    }
  });

  void it('rejects half-configured keys at construction with a clear error', () => {
    assert.throws(
      () => createLangfuseSpanProcessor({ env: { LANGFUSE_PUBLIC_KEY: PK } }),
      (err: unknown) =>
        err instanceof LangfuseConfigError &&
        err.variable === 'LANGFUSE_SECRET_KEY' &&
        err.message.startsWith(
          'LANGFUSE_SECRET_KEY: Langfuse is half-configured (LANGFUSE_PUBLIC_KEY is set, LANGFUSE_SECRET_KEY is missing)',
        ),
    );
    assert.throws(
      () => new LangfuseTranslatingSpanProcessor({ secretKey: SK, env: {} }),
      LangfuseConfigError,
    );
  });

  void it('never mutates the original spans and skips unsampled ones', async () => {
    const exporter = new InMemorySpanExporter();
    const processor = new LangfuseTranslatingSpanProcessor({ exporter, env: {} });
    const service = new Service('gateway', processor);
    const span = service.app.startSpan('iterate fill', {
      attributes: {
        [LH.SESSION_ROOT]: true,
        [LH.KIND]: 'fill',
        [LH.PROMPT]: 'a prompt',
      },
    });
    span.end();
    await processor.forceFlush();
    const [exported] = exporter.getFinishedSpans();
    assert.equal(exported?.attributes['langfuse.trace.name'], 'iterate:fill');
    assert.equal(exported?.attributes[LH.PROMPT], undefined, 'moved into the observation input');
    const original = span as unknown as { attributes: Record<string, unknown> };
    assert.equal(original.attributes['langfuse.trace.name'], undefined);
    assert.equal(original.attributes[LH.PROMPT], 'a prompt');
    assert.ok(Object.isFrozen(exported));
    await processor.shutdown();
    // After shutdown, spans are ignored (no throw).
    const late = service.app.startSpan('late');
    assert.doesNotThrow(() => late.end());
    assert.equal(trace.getSpan(context.active()), undefined);
  });
});
