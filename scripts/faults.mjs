// `npm run faults`: runs the fault, load, bad-input, secrets, session-log crash, shared-log and property suites with Node's test
// runner (one file at a time, so the load figures are not shared with another suite) and prints
// a summary table: fault | expectation | result | evidence. Tests report their evidence as
// diagnostics `faults: {json}`. Exits 1 when any test fails. `--verbose` lists every bad-input case,
// `--only REGEX` runs the suite files whose name matches.
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { run } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PREFIX = 'faults: ';
const verbose = process.argv.includes('--verbose');
// `--only REGEX`: just the suite files whose name matches (e.g. `--only session-log|shared-log`).
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt === -1 ? undefined : new RegExp(process.argv[onlyAt + 1] ?? '');

function listFiles(dir, pattern) {
  const full = path.join(ROOT, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full)
    .filter((name) => pattern.test(name))
    .sort()
    .map((name) => path.join(full, name));
}

const suites = [
  ...listFiles('test/dist/src', /^faults-.*\.test\.js$/),
  ...listFiles('test/dist/src', /^(load|bad-input|secrets|session-log-crash|shared-log)\.e2e\.test\.js$/),
];
const properties = [
  ...readdirSync(path.join(ROOT, 'packages')).flatMap((p) => listFiles(`packages/${p}/dist/test`, /-property\.test\.js$/)),
  ...readdirSync(path.join(ROOT, 'services')).flatMap((s) => listFiles(`services/${s}/dist/test`, /-property\.test\.js$/)),
  ...listFiles('test/dist/src', /-property(\.e2e)?\.test\.js$/),
];
const picked = (list) => (only === undefined ? list : list.filter((f) => only.test(path.basename(f))));
const suiteFiles = picked(suites);
const propertyFiles = picked(properties);
const files = [...suiteFiles, ...propertyFiles];
if (files.length === 0) {
  process.stderr.write('faults: no compiled test files found; run `tsc -b` first\n');
  process.exit(1);
}

const evidence = [];
const results = new Map(); // `${file}\0${name}` -> { ok, error }
const failures = [];
const started = Date.now();
process.stderr.write(`faults: running ${files.length} files (${suiteFiles.length} suites, ${propertyFiles.length} property files)\n`);

const key = (file, name) => `${file ?? ''}\0${name}`;
const seen = new Set();
for await (const event of run({ files, concurrency: 1, timeout: 15 * 60_000 })) {
  const data = event.data ?? {};
  if (data.file && !seen.has(data.file)) {
    seen.add(data.file);
    process.stderr.write(`  ${path.relative(ROOT, data.file)}\n`);
  }
  if (event.type === 'test:diagnostic' && typeof data.message === 'string' && data.message.startsWith(PREFIX)) {
    try {
      evidence.push({ file: data.file, ...JSON.parse(data.message.slice(PREFIX.length)) });
    } catch {
      // A malformed diagnostic is ignored; its test still shows in the failures if it failed.
    }
  } else if (event.type === 'test:pass' || event.type === 'test:fail') {
    if (data.details?.type === 'suite') continue;
    const ok = event.type === 'test:pass' && !data.skip;
    const error = data.details?.error;
    const message = error ? String(error.cause?.message ?? error.message ?? error).split('\n')[0] : '';
    results.set(key(data.file, data.name), { ok, error: message });
    if (!ok) failures.push({ file: data.file, name: data.name, error: message });
  }
}

const rows = [];
const reported = new Set();
const badInput = { pass: 0, fail: 0, statuses: new Map() };
for (const e of evidence) {
  const k = key(e.file, e.test);
  reported.add(k);
  const result = results.get(k) ?? results.get(key(undefined, e.test));
  const ok = result?.ok === true;
  if (/^bad input: /.test(e.fault) && !/^bad input: all /.test(e.fault) && !verbose) {
    if (ok) badInput.pass++;
    else badInput.fail++;
    const status = String(e.evidence).split(',')[0];
    badInput.statuses.set(status, (badInput.statuses.get(status) ?? 0) + 1);
    continue;
  }
  rows.push([e.fault, e.expectation, ok ? 'PASS' : 'FAIL', ok ? e.evidence : `${e.evidence} | ${result?.error ?? 'no result'}`]);
}
if (badInput.pass + badInput.fail > 0) {
  const mix = [...badInput.statuses].sort().map(([s, n]) => `${s}×${n}`).join(' ');
  rows.unshift([
    `bad input: ${badInput.pass + badInput.fail} cases (JSON, types, __proto__, nesting, UTF-8, headers, prompts)`,
    'clear 4xx or safe handling, never echoed, no crash, row + trace when a session began',
    badInput.fail === 0 ? 'PASS' : 'FAIL',
    `${badInput.pass}/${badInput.pass + badInput.fail} pass; statuses ${mix}`,
  ]);
}
// Property files: one row each.
for (const file of propertyFiles) {
  const mine = [...results].filter(([k]) => k.startsWith(`${file}\0`));
  const passed = mine.filter(([, r]) => r.ok).length;
  rows.push([
    `property: ${path.basename(file, '.test.js')} (${path.relative(ROOT, file).split('/').slice(0, path.relative(ROOT, file).startsWith('test/') ? 1 : 2).join('/')})`,
    'every generated case holds (fast-check)',
    passed === mine.length && mine.length > 0 ? 'PASS' : 'FAIL',
    `${passed}/${mine.length} properties`,
  ]);
  for (const [k] of mine) reported.add(k);
}
// Failures that never reached their evidence line.
for (const f of failures) {
  if (reported.has(key(f.file, f.name))) continue;
  rows.push([f.name, '(see test)', 'FAIL', f.error]);
}

const header = ['fault', 'expectation', 'result', 'evidence'];
const widths = header.map((h, i) => Math.min(i === 3 ? 200 : 70, Math.max(h.length, ...rows.map((r) => String(r[i]).length))));
const cell = (text, i) => {
  const s = String(text);
  return s.length > widths[i] ? `${s.slice(0, widths[i] - 1)}…` : s.padEnd(widths[i]);
};
const line = (cells) => `| ${cells.map(cell).join(' | ')} |`;
const out = [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
const total = results.size;
const failed = [...results.values()].filter((r) => !r.ok).length;
process.stdout.write(`\n${out.join('\n')}\n\n`);
process.stdout.write(`faults: ${total - failed}/${total} tests passed in ${((Date.now() - started) / 1000).toFixed(0)} s (node ${process.version}, ${files.length} files)\n`);
if (failed > 0) {
  for (const f of failures) process.stdout.write(`  FAIL ${path.relative(ROOT, f.file ?? '')}: ${f.name}: ${f.error}\n`);
  process.exitCode = 1;
}
