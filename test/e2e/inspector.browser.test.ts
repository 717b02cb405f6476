// The local inspector in a real headless Chromium: the actor tree appears, a CMD RESTART written to the real PTP
// Unix socket makes the ptp sidecar's highlighted state change (serving → loading → serving), and the event
// stream shows the command. Runs the real daemon (`syncvisor run --services ptp --inspect`).
// Needs Debian's `chromium` (apt-get install -y chromium); skipped with a printed reason when it is missing.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { spawnSyncvisor } from '../support/spawnDaemon.js';

const repo = resolve(import.meta.dirname, '..', '..');
const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
// The docs' screenshots are written only when asked (UPDATE_SCREENSHOTS=1, or scripts/screenshots.sh); a test run
// writes to a temporary directory.
const screenshotDir =
  process.env.UPDATE_SCREENSHOTS === '1' ? join(repo, 'docs') : mkdtempSync(join(tmpdir(), 'syncvisor-shot-'));
const screenshot = join(screenshotDir, 'inspector.png');

if (!chromiumPath) {
  console.warn('inspector.browser.test: skipped: no Chromium at /usr/bin/chromium (apt-get install -y chromium)');
}

/** Write `CMD RESTART` to the sidecar socket over a short connection, as `syncvisor ctl restart` does. */
function sendRestart(socketPath: string): Promise<void> {
  return new Promise((resolveWrite, reject) => {
    const c = createConnection(socketPath, () => c.end('CMD RESTART\n'));
    c.on('close', () => resolveWrite());
    c.on('error', reject);
  });
}

async function waitFor<T>(what: string, f: () => T | undefined, tries = 300): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Target {
  url: string;
  socketPath: string;
  stop(): Promise<void>;
}

/** The real daemon with only the ptp service; the inspector URL is read from its stderr. */
async function startDaemon(dir: string): Promise<Target> {
  const socketPath = join(dir, 'events.sock');
  const profiles = join(dir, 'profiles');
  mkdirSync(profiles);
  writeFileSync(join(profiles, 'node1'), JSON.stringify([{ name: 'ptp4l.0.config', interface: 'lo' }]));
  const daemon = spawnSyncvisor(
    [
      'run',
      '--services',
      'ptp',
      '--inspect',
      '--inspect-port',
      '0',
      '--http',
      '127.0.0.1:0',
      '--log-level',
      'warn',
      '--set',
      `ptp.socketPath=${socketPath}`,
      '--set',
      `ptp.configDir=${dir}`,
      '--set',
      `ptp.profilePath=${profiles}`,
      '--set',
      'ptp.nodeName=node1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const child: ChildProcess = daemon.process;
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const url = await waitFor('the inspector URL on stdout', () => {
    if (child.exitCode !== null) throw new Error(`daemon exited ${child.exitCode}: ${daemon.stderr()}`);
    return /inspector at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1];
  });
  await waitFor('the ptp socket', () => (existsSync(socketPath) ? true : undefined));
  return {
    url,
    socketPath,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

describe.skipIf(!chromiumPath)('inspector in headless Chromium', () => {
  let dir: string;
  let target: Target | undefined;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'syncvisor-inspector-'));
    target = await startDaemon(dir);
    browser = await chromium.launch({
      executablePath: chromiumPath!,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    // The page must not need the internet: fail any request that leaves the daemon.
    await page.route('**/*', (route) =>
      route.request().url().startsWith(target!.url) ? route.continue() : route.abort(),
    );
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await target?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('shows the actor tree, and the ptp sidecar highlighted state changes on CMD RESTART', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(target!.url);
    await page.locator('[data-testid=connection]', { hasText: 'live' }).waitFor();

    // the tree: the root supervisor with its ptp child and the socket source
    const supervisor = page.locator('.actor[data-systemid="supervisor"]');
    await supervisor.waitFor();
    const ptp = page.locator('.actor[data-systemid="ptp"]');
    await ptp.waitFor();
    await expect(page.locator('.actor[data-systemid="socketServer"]').count()).resolves.toBe(1);
    expect(await page.locator('.actor[data-systemid="ptp"] .mid').textContent()).toBe('ptpSidecar');

    // the sidecar's chart: nested boxes, labelled edges, `serving` highlighted once loaded
    await ptp.click();
    await page.locator('svg[data-machine="ptpSidecar"]').waitFor();
    await page.locator('.state.active[data-path="serving"]').waitFor();
    expect(await page.locator('.edge-label[data-event="socket.command"] text').count()).toBeGreaterThan(0);
    await expect(page.locator('.state[data-path="loading"]').getAttribute('class')).resolves.not.toContain('active');
    const before = await page.evaluate(
      () =>
        (globalThis as never as { __syncvisorInspector: { history: unknown[] } }).__syncvisorInspector.history.length,
    );

    await sendRestart(target!.socketPath);

    // loading was highlighted after the command, then serving again
    await page.waitForFunction(
      (n) => {
        const h = (
          globalThis as never as { __syncvisorInspector: { history: { actor: string; value: string }[] } }
        ).__syncvisorInspector.history.slice(n as number);
        const i = h.findIndex((x) => x.actor === 'ptp' && x.value.includes('loading'));
        return i >= 0 && h.slice(i + 1).some((x) => x.actor === 'ptp' && x.value.includes('serving'));
      },
      before,
      { timeout: 20_000 },
    );
    await page.locator('.state.active[data-path="serving"]').waitFor();
    // the event stream shows the command delivered to ptp
    await page.locator('#events tr', { hasText: 'socket.command' }).first().waitFor();
    // filtering by actor keeps only rows of that actor
    await page.locator('#follow-selected').check();
    const shown = await page
      .locator('#events tr:not([hidden])')
      .evaluateAll((rows) => rows.map((r) => (r as unknown as { innerText: string }).innerText));
    expect(shown.length).toBeGreaterThan(0);
    await page.locator('#follow-selected').uncheck();

    // time travel, live: the command's row shows the sidecar as it was right after it (loading), `live` returns
    const ptpId = await page.evaluate(
      () =>
        (
          globalThis as never as { __syncvisorInspector: { actor: (s: string) => { id: string } } }
        ).__syncvisorInspector.actor('ptp').id,
    );
    await page
      .locator(`#events tr[data-type="socket.command"][data-to="${ptpId}"]`, { hasText: 'RESTART' })
      .first()
      .click();
    await page.locator('.state.active[data-path="loading"]').waitFor();
    await expect(page.locator('#context').textContent()).resolves.toContain('pendingRestart');
    await expect(page.locator('#event-detail').textContent()).resolves.toContain('socket.command');
    await page.locator('#go-live').click();
    await page.locator('.state.active[data-path="serving"]').waitFor();
    await expect(page.locator('#history-size').textContent()).resolves.toMatch(/^history \d+ \/ 10000 records$/);

    try {
      await page.screenshot({ path: screenshot, fullPage: true });
      expect(existsSync(screenshot)).toBe(true);
    } finally {
      if (process.env.UPDATE_SCREENSHOTS !== '1') rmSync(screenshotDir, { recursive: true, force: true });
    }
    expect(errors).toEqual([]);
  }, 60_000);
});
