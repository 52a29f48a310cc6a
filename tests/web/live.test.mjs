// Live mode (SPEC 12) against a real keb-server: the test starts build/bin/keb-server with a demo
// fleet, an HS256 secret and --web-root build/web, mints tokens with `keb-server token`, opens
// the page the server serves in headless Debian chromium, and drives the UI by clicking and
// typing into the canvas (kebSim.widgetRect). The server's own HTTP API (node fetch) is the
// reference for every check.
//   node live.test.mjs            (scripts/test-web.sh runs it after web.test.mjs)
// Env: KEB_SERVER (build/bin/keb-server), KEB_WEB_ROOT (build/web), KEB_ARTIFACTS, KEB_CHROMIUM.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clickWidget, pageState, startDemoServer, stepRunner, typeInto, waitFrames, waitState } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const webRoot = path.resolve(process.env.KEB_WEB_ROOT || path.join(repo, 'build', 'web'));
const serverBin = path.resolve(process.env.KEB_SERVER || path.join(repo, 'build', 'bin', 'keb-server'));
const artifacts = path.resolve(process.env.KEB_ARTIFACTS || path.join(repo, 'test-artifacts'));
const chromiumPath = process.env.KEB_CHROMIUM || '/usr/bin/chromium';
const fleetSize = 400;

const numbers = {};
const { results, step } = stepRunner();

const state = pageState;

async function main() {
  assert.ok(fs.existsSync(serverBin), `${serverBin} missing: cmake --build build --target keb-server`);
  assert.ok(fs.existsSync(path.join(webRoot, 'keb-web.wasm')), `${webRoot} has no page: scripts/build-web.sh`);
  fs.mkdirSync(artifacts, { recursive: true });
  const secret = 'live-test-secret-' + process.pid;
  const token = execFileSync(serverBin, ['token', '--secret', secret, '--scope', 'broker-upgrade:read broker-upgrade:write'],
    { encoding: 'utf8' }).trim();
  const server = await startDemoServer({ serverBin, webRoot, secret, fleetSize });
  const base = server.base;
  const api = async (method, p, body, tok = token) => {
    const r = await fetch(base + p, { method, headers: { Authorization: `Bearer ${tok}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined });
    return { status: r.status, body: await r.json() };
  };
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keb-chromium-'));
  const browser = await chromium.launchPersistentContext(userDir, {
    executablePath: chromiumPath, headless: true, viewport: { width: 1600, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
  const page = browser.pages()[0] || await browser.newPage();
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  // 401 (the wrong token) and 409 (the second pause) are asked for on purpose.
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 40[19]/.test(m.text())) consoleErrors.push(m.text()); });

  let orchID = '';
  try {
    await step('live: the page served by keb-server offers Live mode', async () => {
      await page.goto(base + '/', { waitUntil: 'load' });
      await page.waitForFunction(() => window.kebSim !== undefined, null, { timeout: 30000 });
      await waitState(page, (s) => s.liveAvailable, 'liveAvailable (X-Keb-Server header)');
      await clickWidget(page, 'mode.live');
      const s = await state(page);
      assert.equal(s.mode, 'live');
    });

    await step('live: a wrong token shows the server\'s 401 message', async () => {
      const wrong = token.slice(0, -4) + 'AAAA';
      const ref = await api('GET', '/runtimes?page_size=1', undefined, wrong);
      assert.equal(ref.status, 401);
      await typeInto(page, 'live.token', wrong);
      await clickWidget(page, 'live.connect');
      const s = await waitState(page, (x) => x.live && x.live.error.startsWith('401'), 'a 401 in the live panel');
      assert.equal(s.live.error, `401 ${ref.body.error}`, 'the panel shows the server\'s own message');
      await waitFrames(page, 3);
      const r = await page.evaluate(() => window.kebSim.widgetRect('live.error'));
      assert.ok(r && r.w > 0 && r.y + r.h <= 1000, `error line not on screen: ${JSON.stringify(r)}`);
      assert.ok(await page.evaluate(() => window.kebSim.widgetRect('tables.error')), 'orchestrations panel shows the error too');
      await page.screenshot({ path: path.join(artifacts, 'web-live-401.png') });
      numbers.wrongToken = s.live.error;
    });

    await step('live: token entry shows the server\'s fleet on the fleet map', async () => {
      await typeInto(page, 'live.token', token);
      await clickWidget(page, 'live.connect');
      const s = await waitState(page, (x) => x.live.fleetSize === fleetSize && !x.live.error, `${fleetSize} runtimes`);
      assert.equal(s.live.runtimesTotal, fleetSize);
      assert.deepEqual(Object.keys(s.live.fleetCounts), ['no operation'], JSON.stringify(s.live.fleetCounts));
      assert.ok(await page.evaluate(() => window.kebSim.widgetRect('live.ok')));
      // Browsers accept br; keb-server answers them with gzip (brotli at httplib's default quality
      // took 1.6 s per 1,000-runtime page: a 100,000-runtime fleet read for minutes).
      const r = await fetch(`${base}/runtimes?page_size=1000`, { headers: { Authorization: `Bearer ${token}`,
        'Accept-Encoding': 'gzip, deflate, br' } });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-encoding'), 'gzip');
      assert.equal((await r.json()).data.length, fleetSize);
    });

    await step('live: the orchestration list is the server\'s', async () => {
      // One dry-run orchestration created outside the page: it must appear in the list.
      const r = await api('POST', '/upgrade/kyma', { targets: { include: [{ target: 'all' }] }, dryRun: true,
        strategy: { type: 'parallel', schedule: 'immediate', parallel: { workers: 5 } }, kyma: { version: '2.19.0' } });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      await clickWidget(page, 'orchestrations.refresh');
      const s = await waitState(page, (x) => x.live.orchestrations === 1, 'one orchestration listed');
      const ref = await api('GET', '/orchestrations');
      assert.equal(s.live.orchestrations, ref.body.totalCount);
    });

    await step('live: preview draws the prediction', async () => {
      await clickWidget(page, 'form.preview');
      const s = await waitState(page, (x) => x.live.preview && x.live.preview.status === 200 && x.live.preview.drawn > 0,
        'a drawn preview');
      const p = s.live.preview.body;
      // Same request, same store and fleet: the same answer from the server directly.
      const ref = await api('POST', '/upgrade/kyma?preview=true', s.formBody);
      assert.equal(ref.status, 200, JSON.stringify(ref.body));
      // Predictions start at the server's "now": the same request asked a moment later gives the
      // same runtimes, hourly starts and duration, shifted by the time between the two asks.
      assert.equal(p.runtimes, ref.body.runtimes);
      assert.deepEqual(p.hourly.map((h) => h.starts), ref.body.hourly.map((h) => h.starts));
      const span = (b) => Date.parse(b.predictedEnd) - Date.parse(b.predictedStart);
      assert.ok(Math.abs(span(p) - span(ref.body)) < 1000, `${span(p)} vs ${span(ref.body)} ms`);
      assert.ok(p.runtimes > 0 && p.predictedEnd && p.hourly.length > 0, JSON.stringify(p).slice(0, 400));
      assert.equal(s.live.preview.drawn, p.hourly.length, 'one bar per predicted hour');
      assert.ok(await page.evaluate(() => window.kebSim.widgetRect('preview.plot')));
      assert.equal((await api('GET', '/orchestrations')).body.totalCount, 1, 'preview stored nothing');
      await page.screenshot({ path: path.join(artifacts, 'web-live-preview.png') });
      numbers.preview = { runtimes: p.runtimes, predictedStart: p.predictedStart, predictedEnd: p.predictedEnd,
        predictedEndP90: p.predictedEndP90, hours: p.hourly.length, assumptions: p.assumptions };
    });

    await step('live: submit starts a rollout and the fleet map changes', async () => {
      await clickWidget(page, 'form.submit');
      const s = await waitState(page, (x) => x.lastSubmit && x.lastSubmit.status === 202, 'a 202 from Submit');
      orchID = s.lastSubmit.body.orchestrationID;
      assert.equal(s.selectedOrchestration, orchID);
      const ref = await api('GET', `/orchestrations/${orchID}`);
      assert.equal(ref.status, 200);
      // Before: the dry run's operations (succeeded). The rollout's own show up in progress.
      const m = await waitState(page, (x) => (x.live.fleetCounts['in progress'] || 0) > 0,
        'the fleet map to show operations in progress', 30000);
      numbers.fleetCountsAfterSubmit = m.live.fleetCounts;
      await page.screenshot({ path: path.join(artifacts, 'web-live-fleet.png') });
    });

    await step('live: operations page and filter', async () => {
      const total = (await api('GET', `/orchestrations/${orchID}/operations?page_size=1`)).body.totalCount;
      assert.ok(total > 100, `only ${total} operations`);
      const s0 = await waitState(page, (x) => x.live.operations === total, `${total} operations listed`);
      assert.equal(s0.live.operationsShown, 50);
      await clickWidget(page, 'ops.next');
      const s1 = await waitState(page, (x) => /page=2&/.test(x.live.operationsQuery) && x.live.operationsShown === 50, 'page 2');
      assert.ok(s1.live.operationsQuery.startsWith(`/orchestrations/${orchID}/operations?page=2`));
      await clickWidget(page, 'operations.stateFilter');
      await clickWidget(page, 'operations.state.in progress', 10);
      const s2 = await waitState(page, (x) => /state=in%20progress/.test(x.live.operationsQuery) && x.live.operations >= 0
        && x.live.operations < fleetSize, 'the in-progress filter');
      assert.ok(/page=1&/.test(s2.live.operationsQuery), 'a new filter starts at page 1');
      const ref = await api('GET', `/orchestrations/${orchID}/operations?state=in%20progress`);
      assert.ok(Math.abs(ref.body.totalCount - s2.live.operations) <= 10, `${ref.body.totalCount} vs ${s2.live.operations}`);
      await clickWidget(page, 'operations.stateFilter');
      await clickWidget(page, 'operations.state.all', 10);
    });

    await step('live: pause, resume and cancel', async () => {
      await clickWidget(page, 'orchestration.pause');
      await waitState(page, (x) => x.shown && x.shown.state === 'paused', 'paused in the panel');
      assert.equal((await api('GET', `/orchestrations/${orchID}`)).body.state, 'paused');
      await clickWidget(page, 'orchestration.pause');
      const again = await waitState(page, (x) => x.shown.message.startsWith('pause: 409'), 'the 409 of a second pause');
      assert.ok(again.shown.messageIsError);
      await clickWidget(page, 'orchestration.resume');
      await waitState(page, (x) => x.shown.state === 'in progress', 'in progress again');
      assert.equal((await api('GET', `/orchestrations/${orchID}`)).body.state, 'in progress');
      await clickWidget(page, 'orchestration.cancel');
      const s = await waitState(page, (x) => x.shown.state === 'canceling' || x.shown.state === 'canceled', 'canceling');
      assert.ok(['canceling', 'canceled'].includes((await api('GET', `/orchestrations/${orchID}`)).body.state));
      await waitState(page, (x) => (x.live.fleetCounts.canceled || 0) > 0, 'canceled cells on the map', 30000);
      numbers.fleetCountsAfterCancel = (await state(page)).live.fleetCounts;
      numbers.cancelShown = s.shown.state;
    });

    await step('live: Back to simulator leaves live mode', async () => {
      await clickWidget(page, 'live.leave');
      const s = await state(page);
      assert.equal(s.mode, 'simulator');
      assert.equal(consoleErrors.length, 0, consoleErrors.join('\n'));
    });
  } finally {
    await browser.close();
    server.proc.kill('SIGTERM');
    fs.writeFileSync(path.join(artifacts, 'web-live-numbers.json'), JSON.stringify(numbers, null, 2));
  }
  console.log('live numbers:', JSON.stringify(numbers));
  const failed = results.filter((r) => !r.ok);
  console.log(`${results.length - failed.length}/${results.length} live steps passed`);
  process.exit(failed.length ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
