// Builds the OpenTelemetry Collector the tests run, with the official builder (ocb) from the Go
// module proxy, from deploy/collector/manifest.yaml. The result is cached under
// .cache/otelcol/<key>/ (gitignored), keyed by the manifest's bytes and the builder version, so
// reruns are instant and any manifest edit builds afresh. `node deploy/collector/build.mjs`
// prints the binary's path; `npm test` runs it first (deploy/prepare-tests.mjs, its pretest).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { fillCacheDir, runVisibly } from '../cache.mjs';

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

/**
 * Builds the Collector unless the cache already holds it, printing progress on stderr (a cold
 * build takes minutes); resolves to where it is. Rejects on failure.
 */
export async function buildCollector(root = REPO_ROOT) {
  const build = collectorBuild(root);
  if (existsSync(build.binary)) return { ...build, built: false, seconds: 0 };
  const started = Date.now();
  mkdirSync(build.cacheRoot, { recursive: true });
  const builderDir = path.join(build.cacheRoot, `builder-${build.builderVersion}`);
  const builder = path.join(builderDir, 'builder');
  if (!existsSync(builder)) {
    console.error(`collector: installing ${BUILDER_MODULE}@${build.builderVersion}`);
    await runVisibly('collector', 'go', ['install', `${BUILDER_MODULE}@${build.builderVersion}`], {
      env: { ...process.env, GOBIN: builderDir },
    });
  }
  console.error(
    `collector: building ${build.manifest.dist.name} ${build.version} into ${build.dir} ` +
      '(first run only: about 6 min on 2 cores with cold Go caches)',
  );
  await fillCacheDir(build.dir, async (staging) => {
    const config = { ...build.manifest, dist: { ...build.manifest.dist, output_path: staging } };
    const configPath = path.join(staging, 'builder-config.yaml');
    writeFileSync(configPath, stringify(config));
    await runVisibly('collector', builder, [`--config=${configPath}`]);
    execFileSync(path.join(staging, String(build.manifest.dist.name)), ['--version'], {
      stdio: 'ignore',
    });
  });
  // Builds for older manifests are dead weight (about 110 MB each).
  for (const entry of readdirSync(build.cacheRoot)) {
    if (entry !== build.key && !entry.startsWith('builder-'))
      rmSync(path.join(build.cacheRoot, entry), { recursive: true, force: true });
  }
  return { ...build, built: true, seconds: Math.round((Date.now() - started) / 1000) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const result = await buildCollector();
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
