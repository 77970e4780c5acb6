// The packages' bin shims (packages/*/bin/*.js) run their built CLIs through this: npm links a
// workspace's bin only when the file exists at install time, and dist/ does not exist before
// `npm run build`, so the committed shims are the bins.
import { fileURLToPath } from 'node:url';

/** Imports the built CLI at the file URL `cli`; without a build, says so and exits 2. */
export async function runBuilt(cli, bin) {
  try {
    await import(cli.href);
  } catch (error) {
    if (
      error?.code !== 'ERR_MODULE_NOT_FOUND' ||
      !String(error.message).includes(fileURLToPath(cli))
    )
      throw error;
    process.stderr.write(`${bin}: not built yet; run \`npm run build\` first\n`);
    process.exitCode = 2;
  }
}
