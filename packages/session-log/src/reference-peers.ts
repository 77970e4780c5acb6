import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** Where the reference producers live, relative to the repository root. */
const REFERENCE_PEERS_DIR = 'parity/peers';

function run(command: string, args: readonly string[], cwd: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      // A build must never reach for the network beyond the pinned crates: no Go toolchain download.
      env: { ...process.env, GOTOOLCHAIN: 'local' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => resolve(`${command}: ${error.message}`));
    child.on('close', (code) =>
      resolve(
        code === 0 ? undefined : `${command} ${args.join(' ')} failed (${code}): ${stderr.trim()}`,
      ),
    );
  });
}

/**
 * Builds the Go (`go build`, standard library only) and Rust (`cargo build --release --locked`)
 * reference producers under `root/parity/peers` and returns their commands. Both builds are
 * incremental, so a second call costs well under a second. Throws naming the build that failed
 * (Go 1.22+ and cargo are needed).
 */
export async function buildReferencePeers(root: string): Promise<{ go: string[]; rust: string[] }> {
  const goDir = join(root, REFERENCE_PEERS_DIR, 'go');
  const rustDir = join(root, REFERENCE_PEERS_DIR, 'rust');
  const [goError, rustError] = await Promise.all([
    run('go', ['build', '-o', 'session-log-peer', '.'], goDir),
    run('cargo', ['build', '--release', '--locked', '--quiet'], rustDir),
  ]);
  const problems = [goError, rustError].filter((e) => e !== undefined);
  if (problems.length > 0) {
    throw new Error(`could not build the reference producers:\n${problems.join('\n')}`);
  }
  return {
    go: [join(goDir, 'session-log-peer')],
    rust: [join(rustDir, 'target', 'release', 'session-log-peer')],
  };
}
