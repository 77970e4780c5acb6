// Calibration: OFF plus a fixed busy-loop of BENCH_BURN_US microseconds per inbound request,
// to see how a known amount of added CPU shows up in CPU per session (is it amplified?).
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const burnUs = Number(process.env.BENCH_BURN_US ?? 0);
// Or allocate: this many short-lived small objects per request (GC pressure, little CPU).
const allocObjects = Number(process.env.BENCH_ALLOC_OBJECTS ?? 0);
// Kept reachable until the next request, like a request's own state.
export let sink;
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, ...args) {
  if (event === 'request' && burnUs > 0) {
    const until = performance.now() + burnUs / 1000;
    while (performance.now() < until);
  }
  if (event === 'request' && allocObjects > 0) {
    const list = [];
    for (let i = 0; i < allocObjects; i++) list.push({ key: `k${i}`, value: { stringValue: 'v' } });
    sink = list;
  }
  return emit.call(this, event, ...args);
};
await import(pathToFileURL(path.resolve('dist/src/instrument.js')).href);
