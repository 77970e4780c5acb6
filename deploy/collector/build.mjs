// Builds the OpenTelemetry Collector the tests run, with the official builder (ocb) from the Go
// module proxy, from deploy/collector/manifest.yaml. The result is cached under
// .cache/otelcol/<key>/ (gitignored), keyed by the manifest's bytes and the builder version, so
// reruns are instant and any manifest edit builds afresh. `node deploy/collector/build.mjs`
// prints the binary's path; .ci/run calls it before `npm test`.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '../..');
const BUILDER_MODULE = 'go.opentelemetry.io/collector/cmd/builder';

/**
 * Where the Collector for the current manifest lives (it may not be built yet): its release
 * version (dist.version, also the compose image's tag), the cache key and the binary's path.
 */
export function collectorBuild(root = REPO_ROOT) {
  const manifestPath = path.join(root, 'deploy/collector/manifest.yaml');
  const text = readFileSync(manifestPath, 'utf8');
  const manifest = parse(text);
  const version = String(manifest.dist.version);
  // The builder of the same core release as the components (ONE release line).
  const builderVersion = `v${version}`;
  const key = createHash('sha256')
    .update(text)
    .update(`\n${builderVersion}`)
    .digest('hex')
    .slice(0, 16);
  const cacheRoot = path.join(root, '.cache/otelcol');
  const dir = path.join(cacheRoot, key);
  return {
    version,
    builderVersion,
    key,
    cacheRoot,
    dir,
    manifest,
    binary: path.join(dir, String(manifest.dist.name)),
  };
}

function run(command, args, options) {
  execFileSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
}

/** Builds the Collector unless the cache already holds it; returns its path. Throws on failure. */
export function buildCollector(root = REPO_ROOT) {
  const build = collectorBuild(root);
  if (existsSync(build.binary)) return { ...build, built: false, seconds: 0 };
  const started = Date.now();
  mkdirSync(build.cacheRoot, { recursive: true });
  const builderDir = path.join(build.cacheRoot, `builder-${build.builderVersion}`);
  const builder = path.join(builderDir, 'builder');
  if (!existsSync(builder)) {
    console.error(`collector: installing ${BUILDER_MODULE}@${build.builderVersion}`);
    run('go', ['install', `${BUILDER_MODULE}@${build.builderVersion}`], {
      env: { ...process.env, GOBIN: builderDir },
    });
  }
  // Built next to the final folder and renamed into place, so a half-done build never counts.
  const staging = `${build.dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const config = { ...build.manifest, dist: { ...build.manifest.dist, output_path: staging } };
  const configPath = path.join(staging, 'builder-config.yaml');
  writeFileSync(configPath, stringify(config));
  console.error(
    `collector: building ${build.manifest.dist.name} ${build.version} (key ${build.key})`,
  );
  run(builder, [`--config=${configPath}`]);
  execFileSync(path.join(staging, String(build.manifest.dist.name)), ['--version'], {
    stdio: 'ignore',
  });
  rmSync(build.dir, { recursive: true, force: true });
  renameSync(staging, build.dir);
  // Builds for older manifests are dead weight (about 110 MB each).
  for (const entry of readdirSync(build.cacheRoot)) {
    if (entry !== build.key && !entry.startsWith('builder-'))
      rmSync(path.join(build.cacheRoot, entry), { recursive: true, force: true });
  }
  return { ...build, built: true, seconds: Math.round((Date.now() - started) / 1000) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const result = buildCollector();
    console.error(
      result.built
        ? `collector: built in ${result.seconds} s`
        : `collector: cached (key ${result.key})`,
    );
    console.log(result.binary);
  } catch (error) {
    console.error(
      `collector: build failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(1);
  }
}
