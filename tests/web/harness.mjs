// What web.test.mjs and live.test.mjs share: named steps that record PASS/FAIL and go on, and
// driving the ImGui canvas through the page's kebSim API (frames, widget clicks).
import assert from 'node:assert/strict';

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

// Waits until the page has drawn n more frames (slow machines draw few frames a second).
export async function waitFrames(page, n) {
  const start = await page.evaluate(() => window.kebSim.frameStats().frames);
  await page.waitForFunction((target) => window.kebSim.frameStats().frames >= target, start + n, { timeout: 10000 });
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
  await waitFrames(page, 2);  // ImGui acts on the click
  return r;
}
