// Wraps a service's --import module with an in-process V8 profiler that the bench switches on
// and off with SIGUSR2, so a profile covers exactly the measured window (no start-up, no
// warm-up). Each stop writes BENCH_PROFILE_DIR/<service>-<n>.cpuprofile (or .heapprofile with
// BENCH_PROFILE_KIND=heap: sampled allocations, collected ones included). The wrapped module is
// BENCH_PROFILE_IMPORT (a path), else the service's own dist/src/instrument.js.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.env.BENCH_PROFILE_DIR;
const heap = process.env.BENCH_PROFILE_KIND === 'heap';
const service = process.env.OTEL_SERVICE_NAME ?? path.basename(process.cwd());
const session = new Session();
session.connect();
let running = false;
let count = 0;

function save(profile, extension) {
  if (dir === undefined) return;
  writeFileSync(path.join(dir, `${service}-${count++}.${extension}`), JSON.stringify(profile));
  // Tells the bench this profile is on disk.
  process.stdout.write(`${JSON.stringify({ message: 'profile written', service })}\n`);
}

function start() {
  if (heap) {
    session.post('HeapProfiler.enable', () =>
      session.post('HeapProfiler.startSampling', {
        samplingInterval: 1024,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      }),
    );
    return;
  }
  session.post('Profiler.enable', () =>
    session.post('Profiler.setSamplingInterval', { interval: 200 }, () =>
      session.post('Profiler.start'),
    ),
  );
}

function stop() {
  if (heap) {
    session.post('HeapProfiler.stopSampling', (err, result) => {
      if (!err) save(result.profile, 'heapprofile');
    });
    return;
  }
  session.post('Profiler.stop', (err, result) => {
    if (!err) save(result.profile, 'cpuprofile');
  });
}

process.on('SIGUSR2', () => {
  running = !running;
  if (running) start();
  else stop();
});
const target = process.env.BENCH_PROFILE_IMPORT ?? 'dist/src/instrument.js';
await import(pathToFileURL(path.resolve(target)).href);
