// Browser test of the simulator page (build/web) in headless Debian chromium via playwright-core.
//   node web.test.mjs            (scripts/test-web.sh builds what is needed and runs this)
// Env: KEB_WEB_ROOT (build/web), KEB_SIM (build/bin/keb-sim), KEB_ARTIFACTS (test-artifacts),
//      KEB_CHROMIUM (/usr/bin/chromium), KEB_PERF_SECONDS (5), KEB_WEB_URL (test a page served
//      elsewhere, e.g. keb-server --web-root build/web, instead of the built-in static server).
// Checks: the page loads without console errors; two bundled scenarios run through
// window.kebSim give the same summary as `keb-sim run FILE --seed N --report OUT.json`; an
// orchestration started by clicking through the UI reaches the API router; the screenshot shows
// the fleet map (not a blank canvas). Prints: load time, transferred bytes, wasm/js sizes, frame times.
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { clickWidget, stepRunner, typeInto as typeIntoWidget, waitFrames } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const webRoot = path.resolve(process.env.KEB_WEB_ROOT || path.join(repo, 'build', 'web'));
const kebSim = path.resolve(process.env.KEB_SIM || path.join(repo, 'build', 'bin', 'keb-sim'));
const artifacts = path.resolve(process.env.KEB_ARTIFACTS || path.join(repo, 'test-artifacts'));
const chromiumPath = process.env.KEB_CHROMIUM || '/usr/bin/chromium';
const perfSeconds = Number(process.env.KEB_PERF_SECONDS || 5);
// The folder whose *.json the page bundles (web/CMakeLists.txt KEB_WEB_SCENARIO_DIR).
const scenarioDir = path.resolve(process.env.KEB_SCENARIO_DIR || path.join(repo, 'scenarios'));
// The two bundled scenarios compared with keb-sim (names under scenarios/), and their seeds.
const compareRuns = (process.env.KEB_WEB_COMPARE || '').split(',').filter(Boolean);

const numbers = {};
const only = process.env.KEB_WEB_ONLY ? new RegExp(process.env.KEB_WEB_ONLY) : null;  // dev: run matching steps
const { results, step } = stepRunner((name) => only && !only.test(name) && !/page loads|bundled scenarios are listed/.test(name));

// ---- a tiny static server (wasm needs application/wasm for streaming compilation) ----
const mime = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm',
  '.json': 'application/json', '.png': 'image/png', '.css': 'text/css',
};
let bytesServed = 0;
function startServer(root) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let rel = decodeURIComponent(url.pathname);
    if (rel.endsWith('/')) rel += 'index.html';
    const file = path.resolve(root, '.' + rel);
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const body = fs.readFileSync(file);
    bytesServed += body.length;
    res.writeHead(200, { 'content-type': mime[path.extname(file)] || 'application/octet-stream',
                         'content-length': body.length, 'cache-control': 'no-store' });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function canonical(v) {
  // Stable text of a JSON value (object keys sorted) for equality and diffs.
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (v && typeof v === 'object') {
    return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canonical(v[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}
function firstDifference(a, b, where = '$') {
  if (canonical(a) === canonical(b)) return null;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = firstDifference(a[k], b[k], `${where}.${k}`);
      if (d) return d;
    }
  }
  return `${where}: page=${JSON.stringify(a)} keb-sim=${JSON.stringify(b)}`;
}

// Plays at 10,000x and measures frames for `seconds` after 500 ms of warm-up; the caller pauses.
async function measurePlaying(page, seconds) {
  await page.evaluate(() => { window.kebSim.setSpeed(10000); window.kebSim.play(); });
  await page.waitForTimeout(500);
  await page.evaluate(() => window.kebSim.resetFrameStats());
  const t0 = await page.evaluate(() => window.kebSim.state().now);
  await page.waitForTimeout(seconds * 1000);
  const stats = await page.evaluate(() => window.kebSim.frameStats());
  const st = await page.evaluate(() => window.kebSim.state());
  return { stats, st, t0 };
}

async function main() {
  for (const f of ['index.html', 'keb-web.js', 'keb-web.wasm', 'kebsim-api.js']) {
    assert.ok(fs.existsSync(path.join(webRoot, f)), `${webRoot}/${f} missing: run scripts/build-web.sh`);
  }
  fs.mkdirSync(artifacts, { recursive: true });
  // KEB_WEB_URL: test a page served elsewhere (e.g. keb-server --web-root build/web).
  const server = process.env.KEB_WEB_URL ? null : await startServer(webRoot);
  const base = process.env.KEB_WEB_URL || `http://127.0.0.1:${server.address().port}/`;
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keb-chromium-'));
  // A fresh profile folder per run (launchPersistentContext is playwright's --user-data-dir).
  const browser = await chromium.launchPersistentContext(userDir, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
  const consoleErrors = [];
  const page = browser.pages()[0] || await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('requestfailed', (r) => consoleErrors.push(`request failed: ${r.url()}`));
  page.on('response', (r) => { if (r.status() >= 400) consoleErrors.push(`HTTP ${r.status()} ${r.url()}`); });

  try {
    await step('page loads and window.kebSim is ready', async () => {
      const t0 = Date.now();
      await page.goto(base, { waitUntil: 'load' });
      await page.waitForFunction(() => window.kebSim !== undefined, null, { timeout: 30000 });
      numbers.loadMs = Date.now() - t0;
      numbers.pageLoadToReadyMs = await page.evaluate(() => performance.now());
      // Bytes on the wire as the page saw them (document + every resource), whoever served them.
      numbers.transferredBytes = await page.evaluate(() => performance.getEntriesByType('navigation')
        .concat(performance.getEntriesByType('resource')).reduce((n, e) => n + (e.transferSize || e.encodedBodySize || 0), 0));
      if (server) numbers.bytesServed = bytesServed;
      const js = fs.statSync(path.join(webRoot, 'keb-web.js')).size;
      const wasm = fs.statSync(path.join(webRoot, 'keb-web.wasm')).size;
      const gz = zlib.gzipSync(Buffer.concat(['index.html', 'kebsim-api.js', 'keb-web.js', 'keb-web.wasm']
        .map((f) => fs.readFileSync(path.join(webRoot, f)))), { level: 9 }).length;
      Object.assign(numbers, { jsBytes: js, wasmBytes: wasm, gzipBytes: gz });
      assert.ok(numbers.transferredBytes > js, `transfer not measured: ${numbers.transferredBytes}`);
      assert.ok(numbers.transferredBytes < 3 * 1024 * 1024, `page transferred ${numbers.transferredBytes} bytes, target < 3 MB`);
      await page.waitForTimeout(300);  // a few frames
      const stats = await page.evaluate(() => window.kebSim.frameStats());
      assert.ok(stats.frames > 0, 'no frame was drawn');
    });

    let bundled = [];
    await step('bundled scenarios are listed', async () => {
      bundled = await page.evaluate(() => window.kebSim.scenarios());
      const onDisk = fs.readdirSync(scenarioDir).filter((f) => f.endsWith('.json')).sort();
      assert.deepEqual([...bundled].sort(), onDisk);
      assert.ok(bundled.length >= 2, 'need at least two bundled scenarios');
    });

    // Default: a rollout with failures and a retry, and one with a broker restart mid-rollout
    // (seeds other than the files' own); else the first two bundled scenarios.
    const preferred = ['failures_then_retry.json:7', 'restart_while_in_progress.json:3'];
    const wanted = compareRuns.length ? compareRuns
      : (preferred.every((p) => bundled.includes(p.split(':')[0])) ? preferred : bundled.slice(0, 2).map((n, i) => `${n}:${11 + i}`));
    const runs = wanted.map((s) => { const [n, seed] = s.split(':'); return { name: n, seed: Number(seed || 7) }; });
    for (const run of runs) {
      await step(`runScenario(${run.name}, seed ${run.seed}) equals keb-sim --report`, async () => {
        assert.ok(fs.existsSync(kebSim), `${kebSim} missing: build the native keb-sim first`);
        // summary() names the file as keb-sim was given it: run keb-sim from the scenario folder's
        // parent with a relative path, and hand the page the same name.
        const cwd = path.dirname(scenarioDir);
        const file = path.join(path.basename(scenarioDir), run.name);
        const text = fs.readFileSync(path.join(cwd, file), 'utf8');
        const t0 = Date.now();
        const fromPage = await page.evaluate(([t, s, n]) => window.kebSim.runScenario(t, s, n), [text, run.seed, file]);
        const pageMs = Date.now() - t0;
        const out = path.join(artifacts, `keb-sim-${path.basename(run.name, '.json')}-${run.seed}.json`);
        const t1 = Date.now();
        execFileSync(kebSim, ['run', file, '--seed', String(run.seed), '--report', out], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
        const nativeMs = Date.now() - t1;
        const fromNative = JSON.parse(fs.readFileSync(out, 'utf8'));
        fs.writeFileSync(path.join(artifacts, `web-${path.basename(run.name, '.json')}-${run.seed}.json`), JSON.stringify(fromPage, null, 2));
        numbers[`run ${run.name}`] = `page ${pageMs} ms, native ${nativeMs} ms`;
        const d = firstDifference(fromPage, fromNative);
        assert.equal(d, null, `summaries differ at ${d} (is ${kebSim} built from the same sources as build/web?)`);
      });
    }

    await step('runScenario rejects a bad scenario with a clear error (no crash)', async () => {
      const msg = await page.evaluate(() => window.kebSim.runScenario('{"fleet": 3').then(() => 'resolved', (e) => String(e.message)));
      assert.notEqual(msg, 'resolved');
      assert.ok(msg.length > 5, `error message too short: ${msg}`);
      const alive = await page.evaluate(() => window.kebSim.frameStats().frames);
      await page.waitForTimeout(200);
      assert.ok((await page.evaluate(() => window.kebSim.frameStats().frames)) > alive, 'page stopped drawing after a bad scenario');
    });

    await step('UI: load a bundled scenario and start an orchestration by clicking', async () => {
      await clickWidget(page, 'scenario.load');
      await page.waitForFunction(() => !window.kebSim.state().loading, null, { timeout: 30000 });  // loads over 2 frames
      const st = await page.evaluate(() => window.kebSim.state());
      assert.ok(st.loaded, `scenario not loaded: ${JSON.stringify(st)}`);
      const before = await page.evaluate(() => window.kebSim.api('GET', '/orchestrations'));
      assert.equal(before.status, 200);
      await clickWidget(page, 'form.submit');
      const after = await page.evaluate(() => window.kebSim.api('GET', '/orchestrations'));
      assert.equal(after.status, 200);
      assert.equal(after.body.totalCount, before.body.totalCount + 1, `no new orchestration: ${JSON.stringify(after.body)}`);
      const ui = await page.evaluate(() => window.kebSim.state());
      assert.ok(ui.lastSubmit && ui.lastSubmit.status === 202, `submit answer: ${JSON.stringify(ui.lastSubmit)}`);
      const id = ui.lastSubmit.body.orchestrationID;
      assert.ok(after.body.data.some((o) => o.orchestrationID === id), 'submitted orchestration not in the list');
      await clickWidget(page, 'playback.play');
      await page.waitForTimeout(500);
      await clickWidget(page, 'playback.pause');
      const one = await page.evaluate((i) => window.kebSim.api('GET', `/orchestrations/${i}`), id);
      assert.equal(one.status, 200);
      assert.ok(await page.evaluate(() => !window.kebSim.state().playing), 'Pause did not pause');
      // Select it in the Orchestrations table and cancel it with the panel's button.
      const rows = await page.evaluate(() => window.kebSim.api('GET', '/orchestrations?page=1&page_size=20'));
      const row = rows.body.data.findIndex((o) => o.orchestrationID === id);
      assert.ok(row >= 0 && row < 20, 'new orchestration not on the first page');
      await clickWidget(page, `orchestrations.row${row}`, 20);
      assert.equal((await page.evaluate(() => window.kebSim.state())).selectedOrchestration, id);
      await clickWidget(page, 'orchestration.cancel');
      const canceled = await page.evaluate((i) => window.kebSim.api('GET', `/orchestrations/${i}`), id);
      if (['pending', 'in progress'].includes(one.body.state)) {
        assert.ok(['canceling', 'canceled'].includes(canceled.body.state), `after Cancel: ${canceled.body.state}`);
      }
    });

    await step('UI: load a scenario file through the file picker; typed bad JSON shows an error', async () => {
      const name = 'workers_5.json';
      // The page opens the picker from its next frame; the browser allows that only while the
      // click's user activation lasts (a few seconds): on a very slow machine, click again.
      let chooser = null;
      for (let attempt = 0; attempt < 3 && !chooser; attempt++) {
        [chooser] = await Promise.all([
          page.waitForEvent('filechooser', { timeout: 15000 }).catch(() => null),
          clickWidget(page, 'scenario.file'),
        ]);
      }
      assert.ok(chooser, 'Load file... did not open a file chooser');
      await chooser.setFiles(path.join(scenarioDir, name));
      await page.waitForFunction((n) => window.kebSim.state().name === n, name, { timeout: 10000 });
      const st = await page.evaluate(() => window.kebSim.state());
      assert.equal(st.loaded, true);
      assert.ok(!st.loadError, st.loadError);
      // Type a broken scenario into the paste box and load it: the UI shows the parser's error,
      // the loaded scenario stays, and the page keeps drawing.
      // (The box holds the loaded file's text: typeInto selects all and deletes it first.)
      await typeIntoWidget(page, 'scenario.paste', '{"fleet":{"size":"x"}}');
      await clickWidget(page, 'scenario.loadPasted');
      await page.waitForFunction(() => !window.kebSim.state().loading, null, { timeout: 30000 });
      const after = await page.evaluate(() => window.kebSim.state());
      assert.ok(after.loadError && /fleet\.size/.test(after.loadError), `expected an error naming fleet.size, got ${JSON.stringify(after.loadError)}`);
      assert.equal(after.name, name, 'a bad scenario replaced the loaded one');
      await waitFrames(page, 2);
    });

    await step('UI: playback controls and injections', async () => {
      const name = 'failures_then_retry.json';
      await page.evaluate((n) => window.kebSim.loadScenario(window.kebSim.scenarioText(n), 7, null, n), name);
      await clickWidget(page, 'speed.10k');
      let st = await page.evaluate(() => window.kebSim.state());
      assert.equal(st.speed, 10000);
      const before = st.eventsProcessed;
      await clickWidget(page, 'playback.step');
      st = await page.evaluate(() => window.kebSim.state());
      assert.equal(st.eventsProcessed, before + 1, 'Step did not process exactly one event');
      await clickWidget(page, 'playback.plus1h');
      st = await page.evaluate(() => window.kebSim.state());
      assert.equal(Date.parse(st.now) - Date.parse(st.start), 3600 * 1000, `+1h: ${st.now}`);
      await clickWidget(page, 'inject.restart');
      await clickWidget(page, 'inject.outage');
      await clickWidget(page, 'inject.burst');
      st = await page.evaluate(() => window.kebSim.state());
      assert.equal(st.restarts, 1, 'Broker restart not injected');
      assert.ok(!st.playbackError, st.playbackError);
      await clickWidget(page, 'playback.plus1h');
      const orchs = await page.evaluate(() => window.kebSim.api('GET', '/orchestrations'));
      assert.equal(orchs.status, 200);
      // Jumping back replays the scenario from its start: same time, no injected restart.
      const halfHour = new Date(Date.parse(st.start) + 1800 * 1000).toISOString().replace('.000Z', 'Z');
      const back = await page.evaluate((t) => window.kebSim.jumpTo(t), halfHour);
      assert.equal(Date.parse(back.now), Date.parse(halfHour));
      assert.equal(back.restarts, 0);
    });

    await step('UI: a staged orchestration from the form (400 shown, then 202); stage table; Pause/Resume; timeline marks', async () => {
      // 20 runtimes, 3 of them in the canary region; every upgrade takes 10 minutes, none fails.
      const runtimes = Array.from({ length: 20 }, (_, i) => ({ runtimeID: `rt-${i + 1}`, shootName: `c-${i + 1}`,
        region: i < 3 ? 'canary-land' : 'westeurope' }));
      const scenario = JSON.stringify({ name: 'stages ui', maxDuration: '3d', fleet: { size: 0, runtimes },
        faults: { duration: { distribution: 'fixed', value: '10m' } } });
      await page.evaluate((t) => window.kebSim.loadScenario(t, null, null, 'stages-ui.json'), scenario);
      const formBody = async () => (await page.evaluate(() => window.kebSim.state())).formBody;
      const typeInto = (widget, text) => typeIntoWidget(page, widget, text, { enter: true });
      await clickWidget(page, 'form.tab.rollout');
      await clickWidget(page, 'form.stage.add');
      assert.equal((await formBody()).strategy.stages.length, 1, 'the + stage button added no stage');
      await typeInto('form.stage0.rule0', 'canary-land');
      await typeInto('form.stage0.soak', '2x');  // not a duration: the router's 400 must name it
      await typeInto('form.stage0.maxFailures', '0');
      await clickWidget(page, 'form.stage.add');  // stage-2 without targets: takes the rest
      await clickWidget(page, 'form.blackout.add');
      await typeInto('form.blackout0.reason', 'freeze');
      let body = await formBody();
      assert.deepEqual(body.strategy.stages[0], { name: 'stage-1', targets: { include: [{ region: 'canary-land' }] },
        soak: '2x', maxFailures: 0 }, JSON.stringify(body.strategy));
      assert.deepEqual(body.strategy.stages[1], { name: 'stage-2' });
      assert.equal(body.strategy.blackouts[0].reason, 'freeze');
      await clickWidget(page, 'form.submit');
      let st = await page.evaluate(() => window.kebSim.state());
      assert.equal(st.lastSubmit.status, 400, JSON.stringify(st.lastSubmit));
      assert.match(st.lastSubmit.body.error, /strategy\.stages\[0\]\.soak/);
      await typeInto('form.stage0.soak', '2h');
      assert.equal((await formBody()).strategy.stages[0].soak, '2h');
      await clickWidget(page, 'form.submit');
      st = await page.evaluate(() => window.kebSim.state());
      assert.equal(st.lastSubmit.status, 202, JSON.stringify(st.lastSubmit));
      const id = st.lastSubmit.body.orchestrationID;
      assert.equal(st.selectedOrchestration, id);
      // One simulated hour: the canary (3 runtimes) is done and soaking; stage-2 waits.
      await clickWidget(page, 'playback.plus1h');
      const one = await page.evaluate((i) => window.kebSim.api('GET', `/orchestrations/${i}`), id);
      assert.equal(one.body.state, 'in progress', JSON.stringify(one.body));
      assert.equal(one.body.stages[0].state, 'soaking', JSON.stringify(one.body.stages));
      await waitFrames(page, 2);
      st = await page.evaluate(() => window.kebSim.state());
      assert.deepEqual(st.shown.stages.map((s) => [s.name, s.state, s.done, s.total]),
        [['stage-1', 'soaking', 3, 3], ['stage-2', 'pending', 0, 17]], JSON.stringify(st.shown));
      assert.match(st.shown.stages[0].soak, /^soak 1h \d\dm left$/);
      assert.equal(st.shown.stages[0].maxFailures, 0);
      assert.ok(await page.evaluate(() => window.kebSim.widgetRect('stages.row1')), 'stage table not drawn');
      // Pause: the orchestration and the panel say paused; a second Pause is a 409 shown in red.
      await clickWidget(page, 'orchestration.pause');
      let now = await page.evaluate((i) => window.kebSim.api('GET', `/orchestrations/${i}`), id);
      assert.equal(now.body.state, 'paused');
      assert.equal(now.body.description, 'paused by operator');
      await waitFrames(page, 2);
      assert.equal((await page.evaluate(() => window.kebSim.state())).shown.state, 'paused');
      await clickWidget(page, 'orchestration.pause');
      st = await page.evaluate(() => window.kebSim.state());
      assert.ok(st.shown.messageIsError && /^pause: 409 orchestration is paused/.test(st.shown.message), JSON.stringify(st.shown));
      await clickWidget(page, 'orchestration.resume');
      now = await page.evaluate((i) => window.kebSim.api('GET', `/orchestrations/${i}`), id);
      assert.equal(now.body.state, 'in progress');
      await waitFrames(page, 2);
      st = await page.evaluate(() => window.kebSim.state());
      assert.equal(st.shown.state, 'in progress');
      assert.ok(!st.shown.messageIsError, JSON.stringify(st.shown));
      // Timeline: the request's blackout is shaded; stage start, soak, pause and resume are marked.
      assert.ok(st.timeline.blackouts >= 1, JSON.stringify(st.timeline));
      assert.ok(st.timeline.marks >= 4, JSON.stringify(st.timeline));
      // Play on to the end: stage-2 runs after the soak (and the blackout) and the rollout succeeds.
      await page.evaluate(() => window.kebSim.jumpTo(new Date(Date.parse(window.kebSim.state().now) + 12 * 3600e3).toISOString().replace('.000Z', 'Z')));
      now = await page.evaluate((i) => window.kebSim.api('GET', `/orchestrations/${i}`), id);
      assert.equal(now.body.state, 'succeeded', JSON.stringify(now.body));
      assert.deepEqual(now.body.stages.map((s) => s.state), ['succeeded', 'succeeded']);
      await waitFrames(page, 2);
      numbers.stageTimeline = (await page.evaluate(() => window.kebSim.state())).timeline;
      await page.screenshot({ path: path.join(artifacts, 'web-stages.png') });
    });

    await step(`frame time with 10,000 shoots at 10,000x (${perfSeconds} s)`, async () => {
      const name = bundled.find((n) => /fleet|large|10k/i.test(n)) || bundled[0];
      const text = await page.evaluate((n) => window.kebSim.scenarioText(n), name);
      const loaded = await page.evaluate(([t, n]) => window.kebSim.loadScenario(t, 7, 10000, n), [text, name]);
      assert.equal(loaded.fleetSize, 10000, JSON.stringify(loaded));
      const { stats, st, t0 } = await measurePlaying(page, perfSeconds);
      numbers.frame10k = stats;
      numbers.simulatedSecondsPerRealSecond = (Date.parse(st.now) - Date.parse(t0)) / 1000 / perfSeconds;
      assert.ok(stats.frames > 10, `only ${stats.frames} frames in ${perfSeconds} s`);
      assert.ok(st.operationsStarted > 0 || st.finished, `nothing happened during playback: ${JSON.stringify(st)}`);
      // Timing is reported, not asserted (a loaded CI machine must not fail the test): see the numbers.
      numbers.frameTarget = `work p50 ${stats.workMs.p50.toFixed(1)} ms, p95 ${stats.workMs.p95.toFixed(1)} ms: ` +
        (stats.workMs.p95 < 16 ? 'meets' : 'MISSES') + ' the 16 ms target';
    });

    await step('screenshot shows the fleet map (not a blank canvas)', async () => {
      await page.waitForTimeout(200);
      const file = path.join(artifacts, 'web-fleet-map.png');
      await page.screenshot({ path: file });
      const png = PNG.sync.read(fs.readFileSync(file));
      const r = await page.evaluate(() => window.kebSim.widgetRect('fleet.map'));
      assert.ok(r && r.w > 50 && r.h > 50, `fleet map region: ${JSON.stringify(r)}`);
      const palette = await page.evaluate(() => window.kebSim.palette());
      const bg = palette.background;
      const colors = new Map();
      let nonBg = 0, total = 0;
      for (let y = Math.floor(r.y); y < Math.min(png.height, r.y + r.h); y++) {
        for (let x = Math.floor(r.x); x < Math.min(png.width, r.x + r.w); x++) {
          const i = (y * png.width + x) * 4;
          const c = (png.data[i] << 16) | (png.data[i + 1] << 8) | png.data[i + 2];
          colors.set(c, (colors.get(c) || 0) + 1);
          total++;
          if (Math.abs(png.data[i] - bg[0]) + Math.abs(png.data[i + 1] - bg[1]) + Math.abs(png.data[i + 2] - bg[2]) > 12) nonBg++;
        }
      }
      // Cells per state colour (exact match: the map is drawn without blending).
      const perState = {};
      for (const [state, rgb] of Object.entries(palette)) {
        if (state === 'background') continue;
        const n = colors.get((rgb[0] << 16) | (rgb[1] << 8) | rgb[2]) || 0;
        if (n) perState[state] = n;
      }
      const st = await page.evaluate(() => window.kebSim.state());
      numbers.fleetMapPixels = { total, nonBackground: nonBg, distinctColors: colors.size, perState, fleetSize: st.fleetSize };
      assert.ok(nonBg > total * 0.3, `fleet map mostly background: ${nonBg}/${total}`);
      const states = Object.keys(perState);
      assert.ok(states.length >= 2, `fleet map shows ${states.length} cell state colour(s): ${JSON.stringify(perState)}`);
      assert.ok(states.some((s) => s !== 'no operation'), `no operation state visible on the map: ${JSON.stringify(perState)}`);
    });

    await step(`frame time with a selected 3-stage rollout of 10,000 shoots at 10,000x (${perfSeconds} s)`, async () => {
      const scenario = JSON.stringify({ name: 'staged 10k', maxDuration: '7d', fleet: { size: 10000 },
        faults: { duration: { distribution: 'uniform', min: '5m', max: '20m' }, failureProbability: 0.002 } });
      await page.evaluate((t) => window.kebSim.loadScenario(t, 7, null, 'staged-10k.json'), scenario);
      const r = await page.evaluate(() => window.kebSim.api('POST', '/upgrade/kyma', {
        targets: { include: [{ target: 'all' }] },
        strategy: { type: 'parallel', schedule: 'immediate', parallel: { workers: 200 }, maxFailures: '2%',
          stages: [{ name: 'canary', targets: { include: [{ region: '^eu-central-1$' }] }, soak: '2h', maxFailures: '1%' },
            { name: 'wave', targets: { include: [{ region: '^(eu|us)' }] }, soak: '1h' }, { name: 'rest' }] },
        kyma: { version: '2.20.0' } }));
      assert.equal(r.status, 202, JSON.stringify(r.body));
      await waitFrames(page, 2);
      await clickWidget(page, 'orchestrations.row0', 20);  // the stage table is drawn (and its GET asked) while playing
      assert.equal((await page.evaluate(() => window.kebSim.state())).selectedOrchestration, r.body.orchestrationID);
      const { stats, st } = await measurePlaying(page, perfSeconds);
      await page.evaluate(() => window.kebSim.pause());
      assert.equal(st.shown.stages.length, 3, JSON.stringify(st.shown));
      assert.ok(st.shown.stages[0].done > 0, `no canary progress shown: ${JSON.stringify(st.shown)}`);
      numbers.frameStaged10k = { ...stats, shown: st.shown.stages, timeline: st.timeline };
    });

    await step('the scenario picker shows what kebSim.loadScenario loaded', async () => {
      const names = await page.evaluate(() => window.kebSim.scenarios());
      const other = names[names.length - 1];
      await page.evaluate((n) => window.kebSim.loadScenario(window.kebSim.scenarioText(n), null, null, 'scenarios/' + n), other);
      await waitFrames(page, 2);
      assert.equal((await page.evaluate(() => window.kebSim.state())).picker, other);
      await page.evaluate((n) => window.kebSim.loadScenario(window.kebSim.scenarioText(n), null, null, 'my-own.json'), names[0]);
      await waitFrames(page, 2);
      assert.equal((await page.evaluate(() => window.kebSim.state())).picker, 'my-own.json (loaded)');
    });

    await step('at 1440x900 the legend and the scenario\'s time span are inside their panels', async () => {
      await page.setViewportSize({ width: 1440, height: 900 });
      try {
        // A fleet with deprovisioning/suspended shoots and a long name: the legend's widest
        // entry and the span line are the ones that used to be cut off.
        const sc = JSON.stringify({ name: 'wide', maxDuration: '7d', fleet: { size: 3000, deletingShare: 0.02, suspendedShare: 0.02 } });
        await page.evaluate((t) => window.kebSim.loadScenario(t, 7, null, 'scenarios/a-rather-long-scenario-file-name-for-the-panel.json'), sc);
        await page.evaluate(() => window.kebSim.api('POST', '/upgrade/kyma', { targets: { include: [{ target: 'all' }] },
          strategy: { type: 'parallel', schedule: 'immediate', parallel: { workers: 50 } }, kyma: { version: '2.20.0' } }));
        await page.evaluate(() => window.kebSim.jumpTo(new Date(Date.parse(window.kebSim.state().start) + 6 * 3600e3).toISOString().replace('.000Z', 'Z')));
        await waitFrames(page, 4);
        const st = await page.evaluate(() => window.kebSim.state());
        const w = await page.evaluate(() => window.kebSim.widgets());
        const legend = Object.keys(w).filter((k) => k.startsWith('fleet.legend.'));
        assert.ok(legend.includes('fleet.legend.deprovisioning/suspended'), `legend: ${legend.join(', ')} ${JSON.stringify(st).slice(0, 300)}`);
        const map = w['fleet.map'];
        // The UI was laid out for 1440x900 (a canvas as large as the screen used to stay at its old size).
        assert.ok(map.x + map.w <= 1440 && map.y + map.h <= 900, `fleet map outside 1440x900: ${JSON.stringify(map)}`);
        for (const k of legend) {
          const r = w[k];
          assert.ok(r.x >= map.x - 1 && r.x + r.w <= map.x + map.w + 1 && r.y + r.h <= 900, `${k} cut off: ${JSON.stringify(r)} map ${JSON.stringify(map)}`);
        }
        const span = w['scenario.span'];
        const left = Math.max(360, 1440 * 0.24);
        assert.ok(span && span.x + span.w <= left && span.y + span.h <= 250, `time span cut off: ${JSON.stringify(span)}`);
        await page.screenshot({ path: path.join(artifacts, 'web-1440x900.png') });
      } finally {
        await page.setViewportSize({ width: 1600, height: 1000 });
        await waitFrames(page, 2);
      }
    });

    await step('loading 100,000 shoots from the Scenario panel shows progress', async () => {
      await page.evaluate(() => window.kebSim.setPanelFleetSize(100000));  // the panel's "fleet size" field
      const r = await page.evaluate(() => window.kebSim.widgetRect('scenario.load'));
      await page.mouse.move(r.x + r.w / 2, r.y + r.h / 2);
      await waitFrames(page, 2);
      await page.mouse.down();
      await waitFrames(page, 1);
      await page.mouse.up();
      // The load runs one step per frame; the overlay is drawn before each step.
      let shot = false;
      const t0 = Date.now();
      for (;;) {
        const st = await page.evaluate(() => window.kebSim.state());
        if (!st.loading && st.fleetSize === 100000) break;
        if (st.loading && !shot) {
          await page.screenshot({ path: path.join(artifacts, 'web-loading-100k.png') });
          shot = true;
        }
        assert.ok(Date.now() - t0 < 60000, 'load did not finish in 60 s');
        await page.waitForTimeout(20);
      }
      const st = await page.evaluate(() => window.kebSim.state());
      assert.equal(st.fleetSize, 100000);
      assert.equal(st.lastLoadPhasesShown, 2, 'the progress overlay was on screen before both load steps');
      assert.ok(await page.evaluate(() => window.kebSim.widgetRect('load.progress')), 'no progress bar was drawn');
      numbers.load100k = { ms: st.lastLoadMs, screenshotWhileLoading: shot };
      await page.evaluate(() => window.kebSim.setPanelFleetSize(0));
    });

    await step(`frame time with 100,000 runtimes on the fleet map at 10,000x (${perfSeconds} s)`, async () => {
      const r = await page.evaluate(() => window.kebSim.api('POST', '/upgrade/kyma', { targets: { include: [{ target: 'all' }] },
        strategy: { type: 'parallel', schedule: 'immediate', parallel: { workers: 500 } }, kyma: { version: '2.20.0' } }));
      assert.equal(r.status, 202);
      const { stats, st } = await measurePlaying(page, perfSeconds);
      await page.evaluate(() => window.kebSim.pause());
      assert.equal(st.fleetSize, 100000);
      assert.ok(st.operationsStarted > 0);
      numbers.frame100k = { ...stats, operationsStarted: st.operationsStarted, lagging: st.lagging };
      await page.screenshot({ path: path.join(artifacts, 'web-fleet-100k.png') });
    });

    await step('no console errors', async () => {
      assert.deepEqual(consoleErrors, []);
    });
  } finally {
    await browser.close();
    if (server) server.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
  console.log('numbers: ' + JSON.stringify(numbers, null, 2));
  fs.writeFileSync(path.join(artifacts, 'web-numbers.json'), JSON.stringify(numbers, null, 2));
  const failed = results.filter((r) => !r.ok);
  console.log(`${results.length - failed.length}/${results.length} checks passed`);
  process.exit(failed.length ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(2); });
