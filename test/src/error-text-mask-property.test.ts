// Property (issue 12 invariant 4): every error text a service logs leaves the process masked,
// whatever key an upstream or a client put in it: the services' logger with the default mask.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { defaultMask } from '@lakehouse/langfuse-processor';
import { createLogger } from '@lakehouse/telemetry';
import { hostileText, secretShapes } from '@lakehouse/test-support';

type Logger = ReturnType<typeof createLogger>;
// winston's key of a formatted line (triple-beam's MESSAGE).
const MESSAGE = Symbol.for('message');

// A logger's formatted lines, with its stdout transport swapped for an object-mode sink (a
// transport is a Writable with a two-argument log()).
function lines(logger: Logger): () => string {
  let text = '';
  const sink = Object.assign(
    new Writable({
      objectMode: true,
      write(info: Record<symbol, unknown>, _encoding, done) {
        text += `${String(info[MESSAGE])}\n`;
        done();
      },
    }),
    { log: (_info: unknown, done: () => void) => done() },
  );
  logger.clear();
  logger.add(sink as unknown as Parameters<Logger['add']>[0]);
  return () => text;
}

// The logger's stream hands lines on from the next tick.
const written = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

// The services' logger (server.ts).
function servicesLogger(): { logger: Logger; text: () => string } {
  const logger = createLogger({ service: 'gateway', maskErrors: defaultMask });
  return { logger, text: lines(logger) };
}

const errorKey = fc.constantFrom('error', 'reasons', 'stack', 'db_error', 'reason');

void describe('property: error texts in log lines are masked', () => {
  void it('masks every key shape in the message of warn/error lines and in error fields', async () => {
    await fc.assert(
      fc.asyncProperty(
        secretShapes,
        fc.constantFrom('warn', 'error'),
        errorKey,
        hostileText(20),
        fc.boolean(),
        async ({ secret }, level, key, noise, asList) => {
          const { logger, text } = servicesLogger();
          const errorText = `upstream said: ${noise} ${secret} (HTTP 401)`;
          logger.log(level, `provider failed: ${secret}`, {
            [key]: asList ? [errorText] : errorText,
          });
          await written();
          const line = text();
          assert.ok(line.length > 0, 'the line was written');
          assert.ok(!line.includes(secret), line);
        },
      ),
      { numRuns: 500 },
    );
  });

  void it('never writes the raw text when the mask throws', async () => {
    const logger = createLogger({
      service: 'gateway',
      maskErrors: () => {
        throw new Error('boom');
      },
    });
    const text = lines(logger);
    logger.error('sk-raw-secret-value', { error: 'sk-raw-secret-value' });
    await written();
    assert.ok(text().includes('[unavailable]'), text());
    assert.ok(!text().includes('sk-raw-secret-value'), text());
  });
});
