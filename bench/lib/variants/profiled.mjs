// Wraps a service's --import module with an in-process V8 CPU profiler that the bench switches
// on and off with SIGUSR2, so a profile covers exactly the measured window (no start-up, no
// warm-up). Each stop writes BENCH_PROFILE_DIR/<service>-<n>.cpuprofile. The wrapped module is
// BENCH_PROFILE_IMPORT (a path), else the service's own dist/src/instrument.js.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.env.BENCH_PROFILE_DIR;
const service = process.env.OTEL_SERVICE_NAME ?? path.basename(process.cwd());
const session = new Session();
session.connect();
let running = false;
let count = 0;
process.on('SIGUSR2', () => {
  if (!running) {
    running = true;
    session.post('Profiler.enable', () =>
      session.post('Profiler.setSamplingInterval', { interval: 200 }, () =>
        session.post('Profiler.start'),
      ),
    );
    return;
  }
  running = false;
  session.post('Profiler.stop', (err, result) => {
    if (err || dir === undefined) return;
    writeFileSync(
      path.join(dir, `${service}-${count++}.cpuprofile`),
      JSON.stringify(result.profile),
    );
    // Tells the bench this profile is on disk.
    process.stdout.write(`${JSON.stringify({ message: 'profile written', service })}\n`);
  });
});
const target = process.env.BENCH_PROFILE_IMPORT ?? 'dist/src/instrument.js';
await import(pathToFileURL(path.resolve(target)).href);
