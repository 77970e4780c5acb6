// The service image without Docker: each service's runtime tree laid out as the Dockerfile lays
// it out (the manifests, the deps stage's own `npm ci` command, the compiled dist/src), then run
// with the image's start command on the image's exact Node release (Node 24, fetched by
// `node deploy/image-node.mjs`). Proves the image runs on its base line and holds only what its
// service runs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { filePrerequisite, requires } from '@lakehouse/test-support';
import { imageInstallCommand } from './compose-file.js';
import {
  fillRequest,
  postJson,
  REPO_ROOT,
  sharedRoster,
  startService,
  type ServiceHandle,
} from './harness.js';

const imageNodeModule = (await import(
  pathToFileURL(path.join(REPO_ROOT, 'deploy/image-node.mjs')).href
)) as { imageNode(root: string): { image: string; version: string; binary: string } };
const NODE = imageNodeModule.imageNode(REPO_ROOT);

const skip = requires(
  filePrerequisite(
    `Node ${NODE.version}, the image's ${NODE.image} (${NODE.binary})`,
    NODE.binary,
    'install python3-pip and rerun npm test, which fetches it (node deploy/image-node.mjs)',
  ),
);

/**
 * Wraps node:module's register() and registerHooks() (runtime-deprecated and its successor) so
 * that any call prints a line, and says so once it is in place.
 */
const LOADER_HOOK_SPY = `import module from 'node:module';
for (const name of ['register', 'registerHooks']) {
  const original = module[name];
  if (typeof original !== 'function') continue;
  module[name] = function (...args) {
    process.stderr.write('loader hook registered: module.' + name + '(' + String(args[0]) + ')\\n');
    return original.apply(this, args);
  };
}
module.syncBuiltinESMExports();
process.stderr.write('loader-hook spy armed\\n');
`;

const SERVICES = ['gateway', 'chatd'] as const;
const WORKSPACES = (dir: string) =>
  readdirSync(path.join(REPO_ROOT, dir)).map((name) => path.join(dir, name));

/** The manifests stage: every package.json and the lockfile, nothing else. */
function copyManifests(into: string): void {
  for (const file of ['package.json', 'package-lock.json'])
    cpSync(path.join(REPO_ROOT, file), path.join(into, file));
  for (const workspace of [...WORKSPACES('packages'), ...WORKSPACES('services'), 'test']) {
    const manifest = path.join(REPO_ROOT, workspace, 'package.json');
    if (!existsSync(manifest)) continue;
    mkdirSync(path.join(into, workspace), { recursive: true });
    cpSync(manifest, path.join(into, workspace, 'package.json'));
  }
}

/** The runtime stage's COPY of compiled sources: packages/*\/dist/src and the service's. */
function copyCompiled(into: string, service: string): void {
  for (const workspace of [...WORKSPACES('packages'), `services/${service}`]) {
    const src = path.join(REPO_ROOT, workspace, 'dist/src');
    if (!existsSync(src)) continue;
    cpSync(src, path.join(into, workspace, 'dist/src'), {
      recursive: true,
      filter: (file) => !/\.d\.ts(\.map)?$|\.tsbuildinfo$/.test(file),
    });
  }
}

function installed(root: string, name: string): boolean {
  return existsSync(path.join(root, 'node_modules', name, 'package.json'));
}

void describe(`the service image's start command on ${NODE.image}`, { skip }, () => {
  const trees: Partial<Record<(typeof SERVICES)[number], string>> = {};
  const handles: ServiceHandle[] = [];
  let gateway: ServiceHandle;
  let chatd: ServiceHandle;

  before(async () => {
    for (const service of SERVICES) {
      const dir = mkdtempSync(path.join(tmpdir(), `lakehouse-image-${service}-`));
      copyManifests(dir);
      const [npm, ...args] = imageInstallCommand(service);
      assert.equal(npm, 'npm');
      // The deps stage's command as written; the local npm cache first (the stage has the network).
      execFileSync('npm', [...args, '--prefer-offline'], { cwd: dir, stdio: 'pipe' });
      copyCompiled(dir, service);
      trees[service] = dir;
    }
    // Preloaded before the start command's own --import: reports any loader hook registration.
    const spy = path.join(trees.gateway ?? '', 'loader-hook-spy.mjs');
    writeFileSync(spy, LOADER_HOOK_SPY);
    const env = {
      ROSTER_PATH: await sharedRoster(),
      NODE_ENV: 'production',
      NODE_OPTIONS: `--import=${pathToFileURL(spy).href}`,
    };
    chatd = await startService('chatd', env, { root: trees.chatd ?? '', node: NODE.binary });
    handles.push(chatd);
    gateway = await startService(
      'gateway',
      { ...env, CHATD_URL: chatd.url },
      { root: trees.gateway ?? '', node: NODE.binary },
    );
    handles.push(gateway);
  });

  after(async () => {
    for (const handle of handles.reverse()) await handle.stop();
    for (const dir of Object.values(trees)) rmSync(dir, { recursive: true, force: true });
  });

  void it('holds only what each service runs', () => {
    const gatewayTree = trees.gateway ?? '';
    const chatdTree = trees.chatd ?? '';
    for (const tree of [gatewayTree, chatdTree]) {
      for (const devOnly of [
        'typescript',
        'tsx',
        'eslint',
        '@langfuse/otel',
        'autocannon',
        'fast-check',
      ])
        assert.equal(installed(tree, devOnly), false, `${devOnly} in ${path.basename(tree)}`);
      assert.ok(installed(tree, '@duckdb/node-api'), 'the roster reader');
    }
    assert.equal(
      installed(gatewayTree, 'openai'),
      false,
      "the gateway image carries chatd's openai",
    );
    assert.equal(
      installed(gatewayTree, 'ollama'),
      false,
      "the gateway image carries chatd's ollama",
    );
    assert.ok(installed(chatdTree, 'openai') && installed(chatdTree, 'ollama'));
  });

  void it(`runs a session end to end on Node ${NODE.version}, with no module loader hook at all`, async () => {
    const response = await postJson(`${gateway.url}/v1/iterate`, await fillRequest('phantom-once'));
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.iterations, 2);
    // http.route comes from the requestTelemetry middleware: no instrumentation patches modules.
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    assert.match(metrics, /http_server_request_duration_count\{[^}]*http_route="\/v1\/iterate"/);
    for (const handle of handles) {
      const warnings = handle.lines.filter((l) => /DeprecationWarning|ExperimentalWarning/.test(l));
      assert.deepEqual(warnings, [], `${handle.name} warned on Node ${NODE.version}`);
      assert.ok(handle.lines.includes('loader-hook spy armed'), `${handle.name} ran the spy`);
      assert.deepEqual(
        handle.lines.filter((l) => l.startsWith('loader hook registered')),
        [],
        `${handle.name} registered a module loader hook`,
      );
    }
  });
});
