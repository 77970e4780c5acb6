// npm links a bin only when its file exists at install time, and dist/ does not exist before
// `npm run build`: the committed shims in this folder are the bins, and they run the built CLIs.
/** Runs dist/src/<module>.js; without a build, says so and exits 2. */
export async function runBuilt(module, bin) {
  const path = new URL(`../dist/src/${module}.js`, import.meta.url);
  try {
    await import(path.href);
  } catch (error) {
    if (
      error?.code !== 'ERR_MODULE_NOT_FOUND' ||
      !String(error.message).includes(`/dist/src/${module}.js`)
    )
      throw error;
    process.stderr.write(`${bin}: not built yet; run \`npm run build\` first\n`);
    process.exitCode = 2;
  }
}
