// What web.test.mjs, live.test.mjs and live100k.mjs share: named steps that record PASS/FAIL and
// go on, driving the ImGui canvas through the page's kebSim API (frames, widget clicks, typing,
// waiting for a state), and starting keb-server with a demo fleet for live mode.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// results: [{name, ok, error}]; step(name, fn) runs fn and records it. skip(name): true leaves a step out.
export function stepRunner(skip = () => false) {
  const results = [];
  async function step(name, fn) {
    if (skip(name)) return;
    const t0 = Date.now();
    try {
      await fn();
      results.push({ name, ok: true });
      console.log(`PASS ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      results.push({ name, ok: false, error: e });
      console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
    }
  }
  return { results, step };
}

// How long waitFrames waits for the frames (ms). A page that draws 100,000 runtimes draws few
// frames a second on a slow machine: live100k.mjs raises it.
let frameTimeoutMs = 10000;
export function setFrameTimeout(ms) { frameTimeoutMs = ms; }

// Waits until the page has drawn n more frames (slow machines draw few frames a second).
export async function waitFrames(page, n) {
  const start = await page.evaluate(() => window.kebSim.frameStats().frames);
  await page.waitForFunction((target) => window.kebSim.frameStats().frames >= target, start + n, { timeout: frameTimeoutMs });
}

// Waits until ImGui has taken every queued input event (it hands fast input to the UI a few events
// per frame, up to three frames per typed character), then for n frames more so the UI has acted
// on the last one. A typed token of a few hundred characters takes seconds on a slow machine.
export async function waitInputTaken(page, n = 2) {
  await page.waitForFunction(() => window.kebSim.pendingInput() === 0, null, { timeout: Math.max(frameTimeoutMs, 60000) });
  await waitFrames(page, n);
}

// Clicks a widget recorded by the page (kebSim.widgetRect); dx: offset from the left edge
// instead of the centre (table rows: the centre may sit on a column's resize border).
export async function clickWidget(page, label, dx) {
  const r = await page.evaluate((l) => window.kebSim.widgetRect(l), label);
  assert.ok(r, `widget '${label}' is not on screen (known: ${Object.keys(await page.evaluate(() => window.kebSim.widgets())).join(', ')})`);
  await page.mouse.move(dx === undefined ? r.x + r.w / 2 : r.x + dx, r.y + r.h / 2);
  await waitFrames(page, 2);  // ImGui sees the hover before the press
  await page.mouse.down();
  await waitFrames(page, 1);
  await page.mouse.up();
  await waitInputTaken(page);  // ImGui acts on the click
  return r;
}

// Replaces the text of an input widget: click it, select all, delete, type (then Enter when
// { enter: true }, for fields that take their value on Enter).
export async function typeInto(page, label, text, { enter = false } = {}) {
  await clickWidget(page, label);
  await page.keyboard.press('Control+a');
  await waitInputTaken(page, 1);  // Ctrl must be up before the characters (ImGui drops characters typed with Ctrl)
  await page.keyboard.press('Delete');
  await waitInputTaken(page, 1);
  await page.keyboard.type(text);
  if (enter) await page.keyboard.press('Enter');
  await waitInputTaken(page);
}

export const pageState = (page) => page.evaluate(() => window.kebSim.state());

// Polls kebSim.state() until pred holds; the error shows the last state (its live part if any).
export async function waitState(page, pred, what, timeout = 20000, everyMs = 150) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 < timeout) {
    last = await pageState(page);
    if (pred(last)) return last;
    await page.waitForTimeout(everyMs);
  }
  throw new Error(`timed out waiting for ${what}; last state: ${JSON.stringify(last && (last.live || last)).slice(0, 1500)}`);
}

// Starts keb-server with an in-memory store, a demo fleet of fleetSize runtimes, HS256 auth with
// `secret` and the page from webRoot, on a free loopback port (read from --port-file). Waits up to
// startTimeoutMs for the port (a 100,000-runtime fleet takes seconds to generate).
// Returns {proc, port, base, dir, stderr()}; the caller stops proc.
export async function startDemoServer({ serverBin, webRoot, secret, fleetSize, upgradeDuration = '5s',
  startTimeoutMs = 20000, tmpPrefix = 'keb-live-' }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
  const portFile = path.join(dir, 'port');
  const proc = spawn(serverBin, ['--store', 'memory', '--demo-fleet', String(fleetSize), '--demo-seed', '5',
    '--demo-upgrade-duration', upgradeDuration, '--listen', '127.0.0.1:0', '--port-file', portFile,
    '--auth', `hs256:${secret}`, '--web-root', webRoot, '--engine-log', 'off', '--access-log', 'off'],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const portWritten = () => fs.existsSync(portFile) && fs.readFileSync(portFile, 'utf8').trim();
  for (const t0 = Date.now(); Date.now() - t0 < startTimeoutMs && !portWritten();) {
    if (proc.exitCode !== null) throw new Error(`keb-server exited ${proc.exitCode}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const port = Number(portWritten() || 0);
  if (!(port > 0)) {
    proc.kill('SIGTERM');
    throw new Error(`no port from keb-server within ${startTimeoutMs} ms: ${stderr}`);
  }
  return { proc, port, base: `http://127.0.0.1:${port}`, dir, stderr: () => stderr };
}
