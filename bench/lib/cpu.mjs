// CPU time of whole processes, from the kernel's per-thread scheduler accounting
// (/proc/PID/task/*/schedstat: the first field is the nanoseconds the thread ran). Summed over
// every thread of the process: the main thread, libuv's pool, V8's GC and compiler threads.
import { readFileSync, readdirSync } from 'node:fs';

/** Nanoseconds of CPU the process `pid` has used so far (all its live threads); NaN if gone. */
export function processCpuNanos(pid) {
  let tasks;
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return NaN;
  }
  let total = 0;
  for (const tid of tasks) {
    try {
      const first = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ', 1)[0];
      total += Number(first);
    } catch {
      // The thread ended between the listing and the read; its time is lost (rare, small).
    }
  }
  return total;
}

/**
 * Nanoseconds of CPU the main threads of `pids` have used so far (the thread whose id is the
 * process id: JavaScript, Node's http, the V8 profiler's view). The rest of cpuNanos is other
 * threads: V8's concurrent/parallel GC and compiler threads, libuv's pool.
 */
export function mainThreadCpuNanos(pids) {
  let total = 0;
  for (const pid of pids) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ', 1)[0]);
    } catch {
      return NaN;
    }
  }
  return total;
}

/** Nanoseconds of CPU the processes have used so far, summed. */
export function cpuNanos(pids) {
  let total = 0;
  for (const pid of pids) total += processCpuNanos(pid);
  return total;
}

/** True when this machine exposes per-thread schedstat (Linux with schedstats). */
export function schedstatAvailable() {
  return Number.isFinite(processCpuNanos(process.pid)) && processCpuNanos(process.pid) > 0;
}
