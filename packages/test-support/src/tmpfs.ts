import { execFileSync } from 'node:child_process';

/**
 * Mounts a tmpfs of `bytes` on the existing directory `dir`, a real filesystem that fills up.
 * Returns false when this machine does not let us (not Linux, not root, no CAP_SYS_ADMIN); the
 * caller then takes its documented fallback. Unmount with {@link unmountTmpfs}.
 */
export function mountTmpfs(dir: string, bytes: number): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], {
      stdio: 'ignore',
      timeout: 10_000,
    });
    return true;
  } catch {
    return false;
  }
}

/** Unmounts what {@link mountTmpfs} mounted on `dir`; never throws. */
export function unmountTmpfs(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    // Already gone: nothing to clean up.
  }
}
