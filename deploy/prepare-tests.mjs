// `npm test`'s pretest: builds what the tests need beyond node_modules and the repository can make
// itself, into .cache/ (instant once there): the OpenTelemetry Collector (with Go, from
// deploy/collector/manifest.yaml) and the service image's Node release (with pip, from PyPI).
// It never fails the run itself: what it cannot prepare, it says why, and the tests' one
// prerequisite policy (packages/test-support `requires`) skips those suites, or fails them under CI.
import { spawnSync } from 'node:child_process';
import { buildCollector } from './collector/build.mjs';
import { fetchImageNode } from './image-node.mjs';

const works = (command, args) =>
  spawnSync(command, args, { stdio: 'ignore', timeout: 30_000 }).status === 0;

const message = (error) => (error instanceof Error ? error.message : String(error));

if (!works('go', ['version'])) {
  console.error('pretest: Go not found, so the Collector is not built (install Go 1.24 or newer)');
} else {
  try {
    const collector = await buildCollector();
    console.error(
      collector.built
        ? `pretest: built the Collector in ${collector.seconds} s: ${collector.binary}`
        : `pretest: the Collector is cached: ${collector.binary}`,
    );
  } catch (error) {
    console.error(`pretest: the Collector build failed: ${message(error)}`);
  }
}

if (!works('python3', ['-m', 'pip', '--version'])) {
  console.error(
    "pretest: pip not found, so the image's Node is not fetched (apt-get install python3-pip)",
  );
} else {
  try {
    const node = await fetchImageNode();
    console.error(`pretest: the image's Node ${node.version}: ${node.binary}`);
  } catch (error) {
    console.error(`pretest: fetching the image's Node failed: ${message(error)}`);
  }
}
