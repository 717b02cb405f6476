// The inspector as a debugger, in a real headless Chromium, over recorded traces (`syncvisor replay FILE --inspect`,
// the built CLI): the charts' layout (no two edge labels overlap each other or a state box, every transition drawn,
// parallel regions side by side), time travel (click an event: the tree, the active states and the context as right
// after it; step forward and back), replay stepping (play, pause, seek, the simulated clock), the context pane, full
// payloads and the sequence view; the clock bank's synceDevice and osClockDiscipline charts of a synce4l trace.
// Needs Debian's `chromium`; skipped with a printed reason when it is missing.
// Screenshots go to a temporary directory, or to docs/ with UPDATE_SCREENSHOTS=1 (scripts/screenshots.sh).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { AnyActorRef } from 'xstate';
import { chartOf, type ChartNode } from '../../src/actors/observe/machineChart.js';
import { replayTrace } from '../../src/actors/observe/replay.js';
import { parseTrace } from '../../src/io/observe/traceFormat.js';
import { portsyncMachine } from '../../src/machines/portsync/portsync.js';

const repo = resolve(import.meta.dirname, '..', '..');
const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const update = process.env.UPDATE_SCREENSHOTS === '1';
const shots = update ? join(repo, 'docs') : mkdtempSync(join(tmpdir(), 'syncvisor-shots-'));

if (!chromiumPath) {
  console.warn(
    'inspector.replay.browser.test: skipped: no Chromium at /usr/bin/chromium (apt-get install -y chromium)',
  );
}

interface Replay {
  url: string;
  stop(): Promise<void>;
}

async function startReplay(trace: string): Promise<Replay> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(repo, 'bin', 'syncvisor.js'),
      'replay',
      join(repo, 'test', 'traces', trace),
      '--inspect',
      '--inspect-port',
      '0',
    ],
    { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; i < 300; i++) {
    const url = /inspector at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr)?.[1];
    if (url)
      return {
        url,
        stop: async () => {
          if (child.exitCode !== null) return;
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        },
      };
    if (child.exitCode !== null) throw new Error(`replay exited ${child.exitCode}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`no inspector URL from the replay: ${stderr}`);
}

/** The little of the DOM the page-side checks use (tsconfig has no DOM lib). */
interface DomEl {
  getBoundingClientRect(): { x: number; y: number; width: number; height: number };
  parentElement: DomEl | null;
  textContent: string | null;
  getAttribute(name: string): string | null;
  classList: { contains(c: string): boolean };
  querySelector(selector: string): DomEl | null;
}
interface Dom {
  querySelectorAll(selector: string): Iterable<DomEl> & { length: number };
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
  what: string;
}

/** The rendered boxes of the chart: edge labels and leaf states (states without nested states). */
async function chartBoxes(page: Page): Promise<{ labels: Box[]; leaves: Box[]; regions: Box[] }> {
  return page.evaluate(() => {
    const document = (globalThis as unknown as { document: Dom }).document;
    const box = (e: DomEl, what: string) => {
      const r = e.getBoundingClientRect();
      return { x: r.x, y: r.y, w: r.width, h: r.height, what };
    };
    const labels = [...document.querySelectorAll('.statechart .edge-label rect')].map((e) =>
      box(e, e.parentElement!.textContent ?? ''),
    );
    const states = [...document.querySelectorAll('.statechart .state')];
    const leaves = states
      .filter(
        (s) => !states.some((o) => o !== s && o.getAttribute('data-id')!.startsWith(s.getAttribute('data-id')! + '.')),
      )
      .map((s) => box(s.querySelector('rect')!, s.getAttribute('data-id')!));
    const regions = states
      .filter((s) => s.classList.contains('region'))
      .map((s) => box(s.querySelector('rect')!, s.getAttribute('data-id')!));
    return { labels, leaves, regions };
  });
}

const overlap = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

function overlaps(list: Box[], others: Box[] = []): string[] {
  const out: string[] = [];
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++)
      if (overlap(list[i]!, list[j]!)) out.push(`${list[i]!.what} × ${list[j]!.what}`);
    for (const o of others) if (overlap(list[i]!, o)) out.push(`${list[i]!.what} × state ${o.what}`);
  }
  return out;
}

interface ChartJson {
  id: string;
  states: ChartJson[];
  transitions: { targets: string[]; event: string }[];
}

/** The regions of every parallel state of a chart, grouped by their parallel state's id. */
function parallelRegions(chart: ChartNode): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (n: ChartNode) => {
    if (n.type === 'parallel')
      out.set(
        n.id,
        n.states.map((c) => c.id),
      );
    n.states.forEach(walk);
  };
  walk(chart);
  return out;
}

/** Transitions with a target other than their own state (edges), and the rest (lines in the state's box). */
function countTransitions(chart: ChartJson): { edges: number; lines: number } {
  let edges = 0;
  let lines = 0;
  const walk = (n: ChartJson) => {
    for (const t of n.transitions) {
      const targets = t.targets.filter((x) => x !== n.id);
      if (targets.length > 0) edges += targets.length;
      else lines += 1;
    }
    n.states.forEach(walk);
  };
  walk(chart);
  return { edges, lines };
}

async function selectChart(page: Page, systemId: string, machine: string) {
  await page.locator(`.actor[data-systemid="${systemId}"]`).first().click();
  await page.locator(`svg[data-machine="${machine}"] .state`).first().waitFor();
}

async function checkLayout(page: Page, url: string, systemId: string, machine: string) {
  await selectChart(page, systemId, machine);
  await page.locator('#zoom-fit').click();
  const { labels, leaves, regions } = await chartBoxes(page);
  expect(labels.length, `${machine}: edge labels`).toBeGreaterThan(2);
  expect(overlaps(labels, leaves), `${machine}: overlapping labels`).toEqual([]);
  // Every transition is drawn: an edge per target, a line in the state's box for the targetless and self ones.
  const state = (await (await fetch(`${url}api/actors`)).json()) as { charts: Record<string, ChartJson> };
  const want = countTransitions(state.charts[machine]!);
  const drawn = await page.evaluate(() => {
    const document = (globalThis as unknown as { document: Dom }).document;
    return {
      edges: document.querySelectorAll('.statechart .edge:not(.init)').length,
      lines: document.querySelectorAll('.statechart text.tline.transition').length,
    };
  });
  expect(drawn, `${machine}: transitions drawn`).toEqual(want);
  // The fitted chart lies within the pane.
  const pane = await page.locator('#chart').boundingBox();
  const chart = await page.locator('.statechart .scene').boundingBox();
  expect(chart!.x).toBeGreaterThanOrEqual(pane!.x - 1);
  expect(chart!.x + chart!.width).toBeLessThanOrEqual(pane!.x + pane!.width + 1);
  expect(chart!.y + chart!.height).toBeLessThanOrEqual(pane!.y + pane!.height + 1);
  return { regions };
}

describe.skipIf(!chromiumPath)('inspector over recorded traces, in headless Chromium', () => {
  let browser: Browser | undefined;
  const replays: Replay[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: chromiumPath!,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const r of replays) await r.stop();
    if (!update) rmSync(shots, { recursive: true, force: true });
  }, 30_000);

  async function open(trace: string): Promise<{ page: Page; url: string; errors: string[] }> {
    const r = await startReplay(trace);
    replays.push(r);
    const page = await browser!.newPage({ viewport: { width: 1600, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.route('**/*', (route) => (route.request().url().startsWith(r.url) ? route.continue() : route.abort()));
    await page.goto(r.url);
    await page.locator('[data-testid=connection]', { hasText: 'live' }).waitFor();
    await page.locator('.actor[data-systemid="portsync"], .actor[data-systemid="ptp"]').first().waitFor();
    return { page, url: r.url, errors };
  }

  it('lays out the supervisor, portsync and sidecar charts with no overlapping labels', async () => {
    const ps = await open('portsync-warm-eoiu.jsonl');
    // a moment when every portsync child runs
    await ps.page.locator('#seek').fill('40');
    await ps.page.locator('#seek').press('Enter');
    await ps.page.locator('.actor[data-systemid="appDbGate"]').waitFor();
    const { regions } = await checkLayout(ps.page, ps.url, 'portsync', 'portsync');
    // portsync's parallel regions (as the machine defines them) are drawn, and those of one parallel state lie side
    // by side: disjoint horizontally, sharing vertical space, each within the pane.
    const parallel = parallelRegions(chartOf(portsyncMachine));
    expect([...parallel.keys()].sort()).toEqual(['portsync.draining', 'portsync.running']);
    expect(regions.map((r) => r.what).sort()).toEqual([...parallel.values()].flat().sort());
    const pane = (await ps.page.locator('#chart').boundingBox())!;
    for (const [parent, ids] of parallel) {
      const row = regions.filter((r) => ids.includes(r.what)).sort((x, y) => x.x - y.x);
      expect(row.length, parent).toBe(ids.length);
      for (let i = 1; i < row.length; i++) {
        const [a, b] = [row[i - 1]!, row[i]!];
        expect(a.x + a.w, `${a.what} left of ${b.what}`).toBeLessThanOrEqual(b.x);
        expect(a.y < b.y + b.h && b.y < a.y + a.h, `${a.what} beside ${b.what}`).toBe(true);
      }
      for (const r of row) {
        expect(r.x, r.what).toBeGreaterThanOrEqual(pane.x - 1);
        expect(r.x + r.w, r.what).toBeLessThanOrEqual(pane.x + pane.width + 1);
      }
    }
    await checkLayout(ps.page, ps.url, 'supervisor', 'supervisor');
    await checkLayout(ps.page, ps.url, 'appDbGate', 'appDbGate');
    const ptp = await open('ptp-restart-under-load.jsonl');
    await checkLayout(ptp.page, ptp.url, 'ptp', 'ptpSidecar');
    // zoom and pan change the view; fit brings the whole chart back
    const before = await ptp.page.locator('.statechart').getAttribute('viewBox');
    await ptp.page.locator('#zoom-in').click();
    expect(await ptp.page.locator('.statechart').getAttribute('viewBox')).not.toBe(before);
    await ptp.page.locator('#zoom-fit').click();
    expect(await ptp.page.locator('.statechart').getAttribute('viewBox')).toBe(before);
    expect([...ps.errors, ...ptp.errors]).toEqual([]);
  }, 120_000);

  it('the clock bank charts of a synce4l / phc2sys trace: listed with their machine ids, stepped through their states', async () => {
    // When the states were entered, on the trace's own clock (the same replay the page runs).
    const { header, records } = parseTrace(
      readFileSync(join(repo, 'test', 'traces', 'ptp-synce-discipline.jsonl'), 'utf8'),
    );
    const { steps } = replayTrace(header, records);
    const at = (actor: string, text: string) => steps.find((s) => s.actor === actor && s.text === text)!.t;
    const device = 'ptp.clock.synce4l-device/synce1';
    const discipline = 'ptp.clock.phc2sys-discipline/bc-os';
    const { page, url, errors } = await open('ptp-synce-discipline.jsonl');
    const seek = async (t: number) => {
      await page.locator('#seek').fill(t.toFixed(3));
      await page.locator('#seek').press('Enter');
    };
    await seek(at(device, '"HOLDOVER"') + 0.001);
    // The tree rows name the machine of each chart.
    await expect(page.locator(`.actor[data-systemid="${device}"] .mid`).first().textContent()).resolves.toBe(
      'synceDevice',
    );
    await selectChart(page, device, 'synceDevice');
    await page.locator('.state.active[data-path="HOLDOVER"]').waitFor();
    expect(await page.locator('.state.active[data-path="LOCKED"]').count()).toBe(0);
    // The FREERUN after the holdover (the last one before the clocks retire).
    const freerun = steps.filter((s) => s.actor === device && s.text === '"FREERUN"').at(-1)!.t;
    expect(freerun).toBeGreaterThan(at(device, '"HOLDOVER"'));
    await seek(freerun + 0.001);
    await page.locator('.state.active[data-path="FREERUN"]').waitFor();
    await checkLayout(page, url, device, 'synceDevice');
    // phc2sys: undisciplined from the settle timer until the CLOCK_REALTIME sample.
    await seek(at(discipline, '"Undisciplined"') + 0.001);
    await expect(page.locator(`.actor[data-systemid="${discipline}"] .mid`).first().textContent()).resolves.toBe(
      'osClockDiscipline',
    );
    await selectChart(page, discipline, 'osClockDiscipline');
    await page.locator('.state.active[data-path="Undisciplined"]').waitFor();
    await checkLayout(page, url, discipline, 'osClockDiscipline');
    expect(errors).toEqual([]);
  }, 120_000);

  it('time travel: the EOIU event shows portsync and the gate as they were right after it', async () => {
    // The truth, from the machines themselves: portsync's committed state when warmRestart gets the EOIU.
    const trace = parseTrace(readFileSync(join(repo, 'test', 'traces', 'portsync-warm-eoiu.jsonl'), 'utf8'));
    let atEoiu: Record<string, unknown> | undefined;
    replayTrace(trace.header, trace.records, {
      inspect: (ev) => {
        if (atEoiu || ev.type !== '@xstate.event' || (ev.event as { type: string }).type !== 'eoiu.detected') return;
        const { system } = ev.actorRef as unknown as { system: { get(id: string): AnyActorRef } };
        const portsync = system.get('portsync') as { getSnapshot(): { value: { running: object } } };
        atEoiu = { ...portsync.getSnapshot().value.running };
      },
    });
    expect(atEoiu).toMatchObject({ dump: 'synced', startMode: 'warm', initialSync: 'inProgress' });
    const { page, errors } = await open('portsync-warm-eoiu.jsonl');
    // replay mode starts at the first event, with the simulated clock shown
    await expect(page.locator('#clock').textContent()).resolves.toMatch(/^simulated t = 0\.\d{3} ms$/);
    await page.locator('#event-text').fill('eoiu.detected');
    // the oldest of the rows (newest first): the detector's announcement to warmRestart, its parent
    const row = page.locator('#events tr[data-type="eoiu.detected"]').last();
    await row.waitFor();
    await expect(row.locator('td').nth(1).textContent()).resolves.toBe('eoiuDetector');
    await expect(row.locator('td').nth(2).textContent()).resolves.toBe('warmRestart');
    await row.click();
    const t = Number(await row.locator('td').first().textContent());
    await expect(page.locator('#clock').textContent()).resolves.toBe(`simulated t = ${t.toFixed(3)} ms`);
    // the full payload of the clicked event
    await expect(page.locator('#event-detail').textContent()).resolves.toContain('messagesSeen');
    // portsync at EOIU: the dump is requested only after the start-up reads, so the warm start was decided before
    // (startMode.warm), and EOIU comes out of portsync's own handling of the dump's end: portsync had committed
    // dump: synced before it told warmRestart (XState runs a machine's sends after its new state is set), though its
    // snapshot record comes after the EOIU's. The page shows it: the dump region synced, the edge of
    // netlink.dumpDone marked as just taken (not the earlier warmRestart.decided), the initial sync not over yet.
    await selectChart(page, 'portsync', 'portsync');
    await page.locator('.state.active[data-path="running.dump.synced"]').waitFor();
    await page.locator('.state.active[data-path="running.startMode.warm"]').waitFor();
    await page.locator('.state.active[data-path="running.initialSync.inProgress"]').waitFor();
    await page.locator('.state.active[data-path="running.dumpRequest.requested"]').waitFor();
    await page.locator('.edge.live[data-event="netlink.dumpDone"]').first().waitFor({ state: 'attached' });
    await page.locator('.edge-label.live[data-event="netlink.dumpDone"]').first().waitFor();
    expect(await page.locator('.edge.live[data-event="warmRestart.decided"]').count()).toBe(0);
    await expect(page.locator('#context').textContent()).resolves.toContain('warmRestart');
    // large collections are summarised with their count and open on click
    const buckets = page
      .locator('#context details.jnode')
      .filter({ has: page.locator(':scope > summary', { hasText: /^buckets: / }) })
      .first();
    await expect(buckets.locator('summary').first().textContent()).resolves.toMatch(/buckets: Array\(\d+\)/);
    expect(await buckets.evaluate((d) => (d as unknown as { open: boolean }).open)).toBe(false);
    await buckets.locator('summary').first().click();
    const rows = Number(await buckets.getAttribute('data-count'));
    await expect.poll(() => buckets.locator(':scope > .jbody > *').count()).toBe(Math.min(rows, 100));
    await page.locator('#zoom-fit').click();
    await page.screenshot({ path: join(shots, 'inspector-eoiu-portsync.png') });
    // the gate at that moment: not open yet (portsync's writes would be held), its context expandable
    await selectChart(page, 'appDbGate', 'appDbGate');
    await page.locator('.state.active[data-path="closed"], .state.active[data-path="reconciling"]').first().waitFor();
    expect(await page.locator('.state.active[data-path="open"]').count()).toBe(0);
    const ctx = page.locator('#context');
    await expect(ctx.textContent()).resolves.toMatch(/heldCount: 0/);
    const held = ctx
      .locator('details.jnode')
      .filter({ has: page.locator(':scope > summary', { hasText: /^held: / }) })
      .first();
    expect(Number(await held.getAttribute('data-count'))).toBe(0);
    await page.screenshot({ path: join(shots, 'inspector-eoiu-gate.png') });
    // later, the gate opens: step forward until it does, then back again
    const at = await page.evaluate(
      () => (globalThis as never as { __syncvisorInspector: { cursor: number } }).__syncvisorInspector.cursor,
    );
    await page.locator('#event-text').fill('');
    for (let i = 0; i < 200; i++) {
      if ((await page.locator('.state.active[data-path="open"]').count()) > 0) break;
      await page.locator('#step-forward').click();
    }
    await page.locator('.state.active[data-path="open"]').waitFor();
    const later = await page.evaluate(
      () => (globalThis as never as { __syncvisorInspector: { cursor: number } }).__syncvisorInspector.cursor,
    );
    expect(later).toBeGreaterThan(at);
    await page.locator('#step-back').click();
    const back = await page.evaluate(
      () => (globalThis as never as { __syncvisorInspector: { cursor: number } }).__syncvisorInspector.cursor,
    );
    expect(back).toBeLessThan(later);
    expect(errors).toEqual([]);
  }, 120_000);

  it('replay stepping: play, pause and seek on the simulated clock; the history size is shown', async () => {
    const { page, errors } = await open('portsync-warm-timeout.jsonl');
    await expect(page.locator('#history-size').textContent()).resolves.toMatch(/^history \d+ \/ \d+ records$/);
    const clock = async () => Number(/t = ([\d.]+) ms/.exec((await page.locator('#clock').textContent()) ?? '')![1]);
    // seek to 1 s: the warm restart's initial sync is in progress (no EOIU comes; its timeout fires 2 s after the
    // sync began)
    const inProgress = '.state.active[data-path="running.decision.initialSyncInProgress"]';
    await page.locator('#seek').fill('1000');
    await page.locator('#seek').press('Enter');
    await expect.poll(clock).toBe(1000);
    await selectChart(page, 'warmRestart', 'warmRestart');
    await page.locator(inProgress).waitFor();
    await page.locator('.state.active[data-path="running.eoiu.waiting"]').waitFor();
    // just before the timeout fires (the sync began at about 30 ms, the timeout is 2 s), play at 0.1×: the clock
    // runs, the timeout fires and the initial sync is over; pause stops the clock
    await page.locator('#seek').fill('1950');
    await page.locator('#seek').press('Enter');
    await expect.poll(clock).toBe(1950);
    await page.locator(inProgress).waitFor();
    await page.locator('#speed').selectOption('0.1');
    await page.locator('#play').click();
    await expect.poll(async () => page.locator(inProgress).count(), { timeout: 20_000 }).toBe(0);
    await page.locator('#play').click();
    await expect(page.locator('#play').textContent()).resolves.toBe('play');
    await page
      .locator(
        '.state.active[data-path="running.decision.initialSyncComplete"], .state.active[data-path="running.decision.complete"]',
      )
      .first()
      .waitFor();
    await page.locator('.state.active[data-path="running.eoiu.waiting"]').waitFor();
    const paused = await clock();
    expect(paused).toBeGreaterThan(2030);
    await page.waitForTimeout(300);
    expect(await clock()).toBe(paused);
    // the sequence view draws the messages between actors up to the cursor: at a fixed time (where the pause fell
    // varies with the browser's speed), just after the guard let warmRestart tell portsync the sync is over
    await page.locator('#seek').fill('2500');
    await page.locator('#seek').press('Enter');
    await expect.poll(clock).toBe(2500);
    await page.locator('#tab-sequence').click();
    await page.locator('#sequence .msg').first().waitFor();
    const lanes = await page.locator('#sequence .lane').allTextContents();
    expect(lanes).toEqual(expect.arrayContaining(['portsync', 'warmRestart']));
    await page.screenshot({ path: join(shots, 'inspector-sequence.png') });
    expect(errors).toEqual([]);
  }, 120_000);
});
