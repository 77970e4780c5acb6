// otel-collector.yaml checked by the Collector itself: the binary built from
// deploy/collector/manifest.yaml validates it with the compose environment and holds exactly the
// components it uses, at the release the compose image pins.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { requires } from '@lakehouse/test-support';
import { COLLECTOR, COLLECTOR_CONFIG, COLLECTOR_PREREQUISITE, runCollector } from './collector.js';
import { composeEnv, composeService, dict, readRepoFile } from './compose-file.js';

const KINDS = ['receivers', 'processors', 'exporters', 'extensions', 'connectors'] as const;

/** Component types (`otlp_http`, not `otlp_http/langfuse`) otel-collector.yaml declares, by kind. */
function configComponents(): Record<string, string[]> {
  const config = dict(parse(readRepoFile('otel-collector.yaml')), 'otel-collector.yaml');
  return Object.fromEntries(
    KINDS.map((kind) => [
      kind,
      [
        ...new Set(
          Object.keys((config[kind] as object | undefined) ?? {}).map(
            (id) => id.split('/')[0] ?? id,
          ),
        ),
      ].sort(),
    ]),
  );
}

const skip = requires(COLLECTOR_PREREQUISITE);

void describe('the built Collector and otel-collector.yaml', { skip }, () => {
  void it('`otelcol validate` accepts otel-collector.yaml with the compose environment', () => {
    const result = runCollector(
      ['validate', `--config=${COLLECTOR_CONFIG}`],
      composeEnv('otel-collector'),
    );
    assert.equal(result.status, 0, result.stderr + result.stdout);
  });

  void it('`otelcol validate` refuses it without that environment (the check is not vacuous)', () => {
    const result = runCollector(['validate', `--config=${COLLECTOR_CONFIG}`]);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /endpoint/);
  });

  void it('holds exactly the components otel-collector.yaml uses, from one release line', () => {
    const result = runCollector(['components']);
    assert.equal(result.status, 0, result.stderr);
    const components = dict(parse(result.stdout), 'otelcol components');
    const built = Object.fromEntries(
      KINDS.map((kind) => [
        kind,
        ((components[kind] as { name: string }[] | null) ?? []).map((c) => c.name).sort(),
      ]),
    );
    assert.deepEqual(built, configComponents());
    const modules = KINDS.flatMap((kind) =>
      ((components[kind] as { module: string }[] | null) ?? []).map((c) => c.module),
    );
    for (const module of modules) {
      // Core components and contrib share the v0.x tag of one release; providers are core's v1.x.
      assert.ok(
        module.endsWith(` v${COLLECTOR.version}`),
        `${module} is not v${COLLECTOR.version}`,
      );
    }
  });

  void it('is the release the compose image pins', () => {
    const result = runCollector(['--version']);
    assert.equal(result.status, 0, result.stderr);
    const version = /version (\S+)/.exec(result.stdout)?.[1];
    assert.equal(version, COLLECTOR.version);
    assert.equal(
      String(composeService('otel-collector').image),
      `otel/opentelemetry-collector-contrib:${version}`,
    );
  });
});
