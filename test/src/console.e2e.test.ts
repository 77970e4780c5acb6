// The console as a person uses it: real gateway and chatd sessions write the session log and the
// trace file, the console serves them, and headless Chromium (Debian's, driven by playwright-core)
// loads the overview, filters to max_iter_exhausted, opens a session and its tree, and follows the
// alarm to a planted ungrounded row. Screenshots of each view land in test/screenshots/.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { encodeSessionRecord, formatSessionTimestamp } from '@lakehouse/session-log';
import { PREREQUISITES, requires } from '@lakehouse/test-support';
import {
  REPO_ROOT,
  eventually,
  fillRequest,
  postJson,
  startService,
  startStack,
  type ServiceHandle,
  type Stack,
} from './harness.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';
const SCREENSHOTS = path.join(REPO_ROOT, 'test/screenshots');
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const HOSTILE_MODEL = '"><img src=x onerror=alert(1)><script>alert(2)</script>\u202eledom';
const PLANTED_ID = 'bad0bad0bad0bad0bad0bad0bad0bad0';
// Model names that are also Object members: keyed into a plain object, they broke the charts.
const OBJECT_MEMBER_MODELS = ['__proto__', 'constructor'];

interface Session {
  readonly model: string;
  readonly traceId: string;
  readonly status: number;
}

const skip = requires(PREREQUISITES.chromium(CHROMIUM));

describe('the console in a real browser, over real sessions', { skip }, () => {
  let stack: Stack;
  let consoleService: ServiceHandle;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const sessions: Session[] = [];
  const offOrigin: string[] = [];
  const pageErrors: string[] = [];
  const dialogs: string[] = [];

  before(async () => {
    const tracesPath = path.join(tmpdir(), `lakehouse-console-traces-${process.pid}.jsonl`);
    stack = await startStack({ env: { LANGFUSE_TRACE_FILE: tracesPath } });
    const models = [
      'phantom-once',
      'phantom-always',
      'clean',
      'prose-once',
      'phantom-once',
      'clean',
      'mixed-a',
      'mixed-b',
      HOSTILE_MODEL,
      ...OBJECT_MEMBER_MODELS,
    ];
    for (let i = 0; i < 3; i++) {
      for (const model of models) {
        const body = await fillRequest(model, { prompt: `Staff the shift <b>${i}</b> — ${model}` });
        const res = await postJson(`${stack.gateway.url}/v1/iterate`, body);
        sessions.push({ model, traceId: String(res.body['trace_id']), status: res.status });
      }
    }
    // The alarm must never fire on real traffic; plant one row through the real encoder, the way
    // a broken producer sharing the log would write it.
    appendFileSync(
      stack.sessionLogPath,
      encodeSessionRecord({
        sessionId: PLANTED_ID,
        timestamp: formatSessionTimestamp(Date.now()),
        daemon: 'gateway',
        kind: 'fill',
        model: 'planted-producer',
        provider: 'sim',
        prompt: 'A row from a producer that skipped the roster check.',
        iterations: 1,
        maxIterations: 3,
        finalVerdict: 'accepted',
        attempts: [{ iteration: 0, verdictKind: 'accepted' }],
        artifact: { fills: [{ candidate_id: 'W-999999', name: 'Nobody' }] },
        groundedInRoster: false,
        durationMs: 3,
      }),
    );
    consoleService = await startService('console', {
      SESSION_LOG_PATH: stack.sessionLogPath,
      LANGFUSE_TRACE_FILE: tracesPath,
    });
    // Trees reach the trace file after the span processors' batch delay.
    const exhausted = sessions.find((s) => s.model === 'phantom-always');
    assert.ok(exhausted && exhausted.status === 422, JSON.stringify(sessions));
    await eventually(
      async () => {
        const res = await fetch(`${consoleService.url}/api/sessions/${exhausted.traceId}`);
        const data = (await res.json()) as { trace: { tree?: { observations: number } } };
        return (data.trace.tree?.observations ?? 0) >= 10 ? true : undefined;
      },
      30_000,
      'the exhausted session tree in the trace file',
    );

    mkdirSync(SCREENSHOTS, { recursive: true });
    profile = mkdtempSync(path.join(tmpdir(), 'lakehouse-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1400, height: 1000 },
    });
    // Everything the page loads comes from the console itself: no CDN, no network.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(consoleService.url)) return route.continue();
      offOrigin.push(url);
      return route.abort();
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  });

  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await consoleService?.stop();
    await stack?.stop();
  });

  it('loads the overview: the alarm first, then readable charts drawn by Chart.js', async () => {
    await page.goto(consoleService.url);
    await page.waitForSelector('body[data-charts]');
    assert.equal(
      await page.getAttribute('body', 'data-charts'),
      'ready',
      (await page.locator('.charts .badge.err').allTextContents()).join('; '),
    );
    const alarm = page.locator('#alarm');
    assert.equal(
      await alarm.locator('h1').textContent(),
      'ALARM: 1 accepted fill not grounded in the roster',
    );
    assert.ok(await alarm.locator(`a[href="/sessions/${PLANTED_ID}"]`).isVisible());
    // The header names the files by base name; their directories stay in the console's log.
    const status = (await page.locator('#status').textContent()) ?? '';
    assert.ok(status.includes(`session log ${path.basename(stack.sessionLogPath)}`), status);
    assert.match(status, /trees from trace file lakehouse-console-traces-\d+\.jsonl /);
    assert.ok(!status.includes(path.dirname(stack.sessionLogPath)), status);
    assert.ok(!status.includes(`${tmpdir()}/`), status);
    // Read back what Chart.js drew (the page's own Chart global; evaluated in the page).
    const charts = (await page.evaluate(`[...document.querySelectorAll('canvas')].map((c) => {
      const data = Chart.getChart(c)?.data;
      return { id: c.id, labels: (data?.labels ?? []).map(String), datasets: (data?.datasets ?? []).map((d) => d.label) };
    })`)) as Array<{ id: string; labels: string[]; datasets: string[] }>;
    assert.deepEqual(
      charts.map((c) => c.id),
      ['chart-verdicts-time', 'chart-phantom-time', 'chart-verdicts-model', 'chart-attempts'],
    );
    const byId = Object.fromEntries(charts.map((c) => [c.id, c]));
    assert.deepEqual(byId['chart-verdicts-time']?.datasets, [
      'accepted',
      'max_iter_exhausted',
      'infra_error',
    ]);
    for (const model of ['phantom-once', 'phantom-always', 'clean']) {
      assert.ok(
        byId['chart-phantom-time']?.datasets.includes(model),
        `${model} in ${JSON.stringify(byId['chart-phantom-time'])}`,
      );
      assert.ok(byId['chart-verdicts-model']?.labels.includes(model));
    }
    assert.ok(
      byId['chart-verdicts-model']?.labels.some((l) => l.startsWith(HOSTILE_MODEL.slice(0, 40))),
      'the hostile model is a label on the canvas, not markup',
    );
    for (const model of OBJECT_MEMBER_MODELS) {
      assert.ok(byId['chart-verdicts-model']?.labels.includes(model), model);
      assert.ok(byId['chart-phantom-time']?.datasets.includes(model), model);
    }
    assert.deepEqual(byId['chart-attempts']?.labels, ['1', '2', '3']);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'overview.png'), fullPage: true });
  });

  it('filters the sessions table to max_iter_exhausted', async () => {
    await page.click('nav >> text=Sessions');
    await page.selectOption('select[name="verdict"]', 'max_iter_exhausted');
    await page.click('#filters button[type="submit"]');
    await page.waitForURL(/verdict=max_iter_exhausted/);
    const verdicts = await page.locator('table.sessions tbody td .badge').allTextContents();
    const expected = sessions.filter((s) => s.status === 422).length;
    assert.ok(expected >= 3, JSON.stringify(sessions));
    assert.equal(verdicts.filter((v) => v === 'max_iter_exhausted').length, expected);
    assert.ok(
      verdicts.every((v) => v === 'max_iter_exhausted' || v === 'false' || v === 'true'),
      String(verdicts),
    );
    assert.equal(
      await page.locator('#range').first().textContent(),
      `rows 1–${expected} of ${expected} · page 1 of 1`,
    );
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'sessions-max-iter-exhausted.png'),
      fullPage: true,
    });
  });

  it('opens a session: its attempts with the validator error and its tree with WARNING levels', async () => {
    const exhausted = sessions.find((s) => s.model === 'phantom-always');
    assert.ok(exhausted);
    await page.click(`a.session-link[href="/sessions/${exhausted.traceId}"]`);
    await page.waitForURL(new RegExp(`/sessions/${exhausted.traceId}$`));
    const errors = await page.locator('.validator-error').allTextContents();
    assert.equal(errors.length, 3);
    for (const error of errors) assert.match(error, /candidate_id W-\d+ not in roster/);
    const tree = page.locator('#tree');
    assert.ok(await tree.isVisible());
    const names = await tree.locator('.obs-name').allTextContents();
    assert.ok(
      ['attempt 0', 'attempt 1', 'attempt 2'].every((n) => names.includes(n)),
      String(names),
    );
    assert.ok(
      names.some((n) => n.startsWith('chat ')) && names.some((n) => n.startsWith('validate')),
      String(names),
    );
    const attempt0 = tree.locator('li.obs', {
      has: page.locator('> .obs-name', { hasText: /^attempt 0$/ }),
    });
    assert.equal(await attempt0.locator('> .badge.level-warning').textContent(), 'WARNING');
    // The attempt's span id in the row links to its node in the tree.
    const spanLink = page.locator('table.attempts a[href^="#obs-"]').first();
    const target = await spanLink.getAttribute('href');
    await spanLink.click();
    await page.waitForURL(new RegExp(`${target}$`));
    assert.equal(await page.locator(`${target} > .obs-name`).textContent(), 'attempt 0');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'session.png'), fullPage: true });
  });

  it('follows the alarm to the planted ungrounded row', async () => {
    await page.click('nav >> text=Overview');
    await page.click('#alarm a.alarm-all');
    await page.waitForURL(/alarm=1/);
    const rows = page.locator('table.sessions tbody tr');
    assert.equal(await rows.count(), 1);
    assert.equal(await rows.first().getAttribute('data-session'), PLANTED_ID);
    await rows.first().locator('a.session-link').click();
    await page.waitForURL(new RegExp(`/sessions/${PLANTED_ID}$`));
    assert.equal(await page.locator('.fields .badge.err').textContent(), 'false');
    assert.match(
      (await page.locator('.artifact').textContent()) ?? '',
      /"candidate_id": "W-999999"/,
    );
    assert.match((await page.locator('#no-tree').textContent()) ?? '', /no spans of this trace/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'alarm-row.png'), fullPage: true });
  });

  it('shows the hostile model and prompt as text: no element, no script, no dialog', async () => {
    const hostile = sessions.find((s) => s.model === HOSTILE_MODEL);
    assert.ok(hostile);
    await page.goto(`${consoleService.url}/sessions/${hostile.traceId}`);
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.locator('script').count(), 0);
    const model = await page
      .locator('.fields tr', { hasText: 'model' })
      .first()
      .locator('td')
      .textContent();
    assert.equal(model, HOSTILE_MODEL.replace('\u202e', '\\u{202e}'));
    assert.match((await page.locator('.prompt').textContent()) ?? '', /Staff the shift <b>0<\/b>/);
    await page.goto(`${consoleService.url}/sessions?model=${encodeURIComponent(HOSTILE_MODEL)}`);
    assert.equal(await page.locator('table.sessions tbody tr').count(), 3);
    assert.equal(await page.locator('img').count(), 0);
    assert.deepEqual(dialogs, []);
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(offOrigin, []);
  });
});
