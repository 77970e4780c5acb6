#!/usr/bin/env node
// npm links a bin only when its file exists at install time, and dist/ does not exist before
// `npm run build`: this committed shim is the bin, and it runs the built CLI.
try {
  await import('../dist/src/sessions-cli.js');
} catch (error) {
  if (
    error?.code !== 'ERR_MODULE_NOT_FOUND' ||
    !String(error.message).includes('/dist/src/sessions-cli.js')
  )
    throw error;
  process.stderr.write('lakehouse-sessions: not built yet; run `npm run build` first\n');
  process.exitCode = 2;
}
