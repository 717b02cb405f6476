// The events API end to end: the real binary (`syncvisor run --services ptp`), lines over the real Unix socket,
// real HTTP consumers on loopback. Subscriptions, initial notifications, pushed events with exact bodies, CurrentState,
// CMD RESTART and a daemon restart keeping subscriptions, a dead consumer removed without delaying a live one.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventConsumer } from '../support/eventConsumer.js';

const repo = join(import.meta.dirname, '../..');
const bin = join(repo, 'bin/syncvisor.js');
const fixtures = join(repo, 'test/fixtures/ptp');
const dir = mkdtempSync(join(tmpdir(), 'syncvisor-events-'));
const sock = join(dir, 'events.sock');
const node = '/cluster/node/node1';
const api = () => `${eventsBase}/api/ocloudNotifications/v2`;
let daemon: ChildProcess;
let stderr = '';
let httpBase = '';
let eventsBase = '';
let stream: Socket;

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const rfc3339Nano = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

async function until<T>(what: string, get: () => T | Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${stderr.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function startDaemon(): Promise<void> {
  stderr = '';
  const args = ['run', '--services', 'ptp', '--http', '127.0.0.1:0'];
  for (const kv of [
    `ptp.socketPath=${sock}`,
    `ptp.configDir=${dir}/cfg`,
    `ptp.profilePath=${dir}/profiles`,
    'events.listen=127.0.0.1:0',
    `events.storePath=${dir}/store`,
    'events.backoff.initialMs=5',
    'events.backoff.maxMs=20',
  ])
    args.push('--set', kv);
  daemon = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, NODE_NAME: 'node1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  daemon.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const address = await until('http', () => /"address":"([^"]+)","msg":"http listening"/.exec(stderr)?.[1], Boolean);
  httpBase = `http://${address}`;
  const ev = await until(
    'events API',
    () => /"address":"([^"]+)","msg":"events API listening"/.exec(stderr)?.[1],
    Boolean,
  );
  eventsBase = `http://${ev}`;
  await until(
    'readiness',
    async () => (await fetch(`${httpBase}/readyz`)).status,
    (s) => s === 200,
  );
  stream = await new Promise<Socket>((resolve, reject) => {
    const c = connect(sock, () => resolve(c));
    c.on('error', reject);
  });
}

async function stopDaemon(): Promise<number | null> {
  stream?.destroy();
  if (daemon.exitCode !== null) return daemon.exitCode;
  return new Promise((resolve) => {
    daemon.once('exit', resolve);
    daemon.kill('SIGTERM');
  });
}

const metrics = async () => (await fetch(`${httpBase}/metrics`)).text();
const line = (l: string) => stream.write(`${l}\n`);

async function subscribe(resource: string, endpoint: string): Promise<Response> {
  return fetch(`${api()}/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      ResourceAddress: resource.startsWith('/cluster') ? resource : `${node}${resource}`,
      EndpointUri: endpoint,
    }),
  });
}

/** A body with id and time replaced, after checking their format. */
function normalized(body: unknown): unknown {
  const b = body as { id: string; time: string };
  expect(b.id).toMatch(uuid);
  expect(b.time).toMatch(rfc3339Nano);
  return { ...b, id: '<id>', time: '<time>' };
}

const ev = (source: string, type: string, values: Array<[string, 'notification' | 'metric', string]>) => ({
  specversion: '1.0',
  id: '<id>',
  source,
  type,
  time: '<time>',
  data: {
    version: '1.0',
    values: values.map(([a, d, v]) => ({
      ResourceAddress: a.startsWith('/') ? a : `${node}/${a}`,
      data_type: d,
      value_type: d === 'notification' ? 'enumeration' : 'decimal64.3',
      value: v,
    })),
  },
});
/**
 * Writes each line in turn and checks that consumer `a` received exactly the events listed beside it (in order,
 * after its first `start` deliveries); a line with none waits 300 ms first, so that an event sent anyway is seen.
 * Returns every expected event so far.
 */
async function playSteps(steps: Array<[string, unknown[]]>, start: number): Promise<unknown[]> {
  let expected: unknown[] = [];
  for (const [l, out] of steps) {
    line(l);
    expected = expected.concat(out);
    if (out.length === 0) await new Promise((r) => setTimeout(r, 300)); // nothing may arrive
    await until(
      `events after ${l}`,
      () => a.received.length - start,
      (n) => n >= expected.length,
    );
    expect(a.bodies().slice(start).map(normalized)).toEqual(expected);
  }
  return expected;
}

const LS = ['/sync/ptp-status/lock-state', 'event.sync.ptp-status.ptp-state-change'] as const;
const SS = ['/sync/sync-status/sync-state', 'event.sync.sync-status.synchronization-state-change'] as const;
const OS = ['/sync/sync-status/os-clock-sync-state', 'event.sync.sync-status.os-clock-sync-state-change'] as const;
const CC = ['/sync/ptp-status/clock-class', 'event.sync.ptp-status.ptp-clock-class-change'] as const;
const lock = (state: string, offset: string) =>
  ev(...LS, [
    ['ens5f1/master', 'notification', state],
    ['ens5f1/master', 'metric', offset],
  ]);
const sync = (state: string) => ev(...SS, [[`${node}/sync/sync-status/sync-state`, 'notification', state]]);

const allResources = [
  '/sync/ptp-status/lock-state',
  '/sync/sync-status/os-clock-sync-state',
  '/sync/ptp-status/clock-class',
  '/sync/sync-status/sync-state',
  '/sync/gnss-status/gnss-sync-status',
  '/sync/synce-status/lock-state',
  '/sync/synce-status/clock-quality',
];

const a = new EventConsumer();
const b = new EventConsumer();

beforeAll(async () => {
  mkdirSync(join(dir, 'profiles'));
  mkdirSync(join(dir, 'cfg'));
  const cm = JSON.parse(readFileSync(join(fixtures, 'examples/node1.json'), 'utf8')) as Array<{
    name: string;
    ptpClockThreshold: Record<string, number>;
  }>;
  const profile0 = cm.filter((p) => p.name === 'profile0');
  profile0[0]!.ptpClockThreshold.holdOverTimeout = 2;
  writeFileSync(join(dir, 'profiles/node1'), JSON.stringify(profile0));
  copyFileSync(join(fixtures, 'examples/ptp4l.0.config'), join(dir, 'cfg/ptp4l.0.config'));
  // synce4l as linuxptp-daemon writes its config: a [<device>] section, then the device's ports.
  writeFileSync(
    join(dir, 'cfg/synce4l.0.config'),
    '#profile: profile0\n[global]\nlogging_level 7\n[<synce1>]\nnetwork_option 2\n[ens7f0]\ntx_heartbeat_msec 1000\n[ens7f1]\n',
  );
  await a.start();
  await b.start();
  await startDaemon();
});

afterAll(async () => {
  await stopDaemon();
  await a.close();
  await b.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('events API (O-RAN v2 as cloud-event-proxy serves it)', () => {
  it('health, publishers, empty subscriptions (null), unknown paths and methods', async () => {
    const h = await fetch(`${api()}/health`);
    expect(h.status).toBe(200);
    expect(h.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await h.text()).toBe('OK');
    const s = await fetch(`${api()}/subscriptions`);
    expect(s.status).toBe(200);
    expect(await s.text()).toBe('null');
    const p = (await (await fetch(`${api()}/publishers`)).json()) as Array<{
      ResourceAddress: string;
      EndpointUri: string;
    }>;
    expect(p.map((x) => x.ResourceAddress)).toEqual(expect.arrayContaining(allResources.map((r) => `${node}${r}`)));
    expect(p).toHaveLength(7);
    expect(p[0]!.EndpointUri).toMatch(/\/api\/ocloudNotifications\/v2\/dummy$/);
    const nf = await fetch(`${api()}/nothing`);
    expect(nf.status).toBe(404);
    expect(await nf.text()).toBe('404 page not found\n');
    expect((await fetch(`${api()}/health`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${api()}/subscriptions`, { method: 'PUT' })).status).toBe(405);
  });

  it('subscribes to each resource: initial notification before the 201, 409 on a duplicate, 400/404 on bad input', async () => {
    for (const r of allResources) {
      const before = a.received.length;
      const res = await subscribe(r, a.url());
      expect(res.status).toBe(201);
      const body = (await res.json()) as Record<string, string>;
      expect(Object.keys(body)).toEqual(['ResourceAddress', 'EndpointUri', 'SubscriptionId', 'UriLocation']);
      expect(body.ResourceAddress).toBe(`${node}${r}`);
      expect(body.EndpointUri).toBe(a.url());
      expect(body.SubscriptionId).toMatch(uuid);
      expect(body.UriLocation).toMatch(
        new RegExp(`^http://localhost:\\d+/api/ocloudNotifications/v2/subscriptions/${body.SubscriptionId}$`),
      );
      // The initial notification arrived before the 201.
      expect(a.received.length).toBe(before + 1);
      const h = a.received[before]!.headers;
      expect(h['content-type']).toBe('application/json');
      expect(Object.keys(h).filter((k) => k.startsWith('ce-'))).toEqual([]);
    }
    const initial = a.bodies().map(normalized);
    const notSet = `${node}/ptp-not-set`;
    const type = (r: string) =>
      ({
        '/sync/ptp-status/lock-state': LS[1],
        '/sync/sync-status/os-clock-sync-state': OS[1],
        '/sync/ptp-status/clock-class': CC[1],
        '/sync/sync-status/sync-state': SS[1],
        '/sync/gnss-status/gnss-sync-status': 'event.sync.gnss-status.gnss-state-change',
        '/sync/synce-status/lock-state': 'event.sync.synce-status.synce-state-change',
        '/sync/synce-status/clock-quality': 'event.sync.synce-status.synce-clock-quality-change',
      })[r]!;
    const pair: Array<[string, 'notification' | 'metric', string]> = [
      [notSet, 'notification', 'FREERUN'],
      [notSet, 'metric', '0'],
    ];
    expect(initial).toEqual([
      ev(allResources[0]!, type(allResources[0]!), pair),
      ev(allResources[1]!, type(allResources[1]!), pair),
      ev(allResources[2]!, type(allResources[2]!), [[notSet, 'metric', '0']]),
      ev(allResources[3]!, type(allResources[3]!), [[notSet, 'notification', 'FREERUN']]),
      ev(allResources[4]!, type(allResources[4]!), pair),
      ev(allResources[5]!, type(allResources[5]!), [[notSet, 'notification', 'FREERUN']]),
      ev(allResources[6]!, type(allResources[6]!), [[notSet, 'metric', '0']]),
    ]);
    // Each initial notification has its own id.
    expect(new Set(a.bodies().map((x) => (x as { id: string }).id)).size).toBe(7);

    const dup = await subscribe(allResources[0]!, a.url());
    expect(dup.status).toBe(409);
    expect(await dup.text()).toBe(''); // error replies carry no body
    expect((await subscribe('/cluster/node/node1/sync/nothing', a.url())).status).toBe(404);
    const bad = await fetch(`${api()}/subscriptions`, { method: 'POST', body: '{not json' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toBe('');
    const post = (body: string) => fetch(`${api()}/subscriptions`, { method: 'POST', body });
    expect((await post('null')).status).toBe(400);
    expect((await post(JSON.stringify({ EndpointUri: b.url() }))).status).toBe(400);
    expect((await post(JSON.stringify({ ResourceAddress: '', EndpointUri: b.url() }))).status).toBe(400);
    expect((await post(JSON.stringify({ ResourceAddress: `${node}${allResources[0]}` }))).status).toBe(400);
    expect((await subscribe(allResources[0]!, '')).status).toBe(400);
    expect((await subscribe(allResources[0]!, 'file:///etc/passwd')).status).toBe(400);
    // The initial notification must be answered 204: a 500, even a 200, or a refused connection fails the
    // subscribe (400), and nothing is stored.
    b.mode = { kind: 'status', status: 500 };
    expect((await subscribe(allResources[0]!, b.url())).status).toBe(400);
    b.mode = { kind: 'status', status: 200 };
    expect((await subscribe(allResources[0]!, b.url())).status).toBe(400);
    // One that accepts and never answers: 400 after the 2 s timeout, nothing hangs.
    b.mode = { kind: 'never' };
    expect((await subscribe(allResources[0]!, b.url())).status).toBe(400);
    b.mode = { kind: '204' };
    expect((await subscribe(allResources[0]!, 'http://127.0.0.1:1/gone')).status).toBe(400);
    // Other keys are ignored; a SubscriptionId / UriLocation in the body is overwritten.
    const extra = await post(
      JSON.stringify({
        ResourceAddress: `${node}${allResources[0]}`,
        EndpointUri: b.url('/extra'),
        SubscriptionId: 'mine',
        UriLocation: 'http://elsewhere/',
        Other: 1,
      }),
    );
    expect(extra.status).toBe(201);
    expect(extra.headers.get('content-type')).toBe('application/json');
    const extraText = await extra.text();
    const extraBody = JSON.parse(extraText) as Record<string, string>;
    expect(Object.keys(extraBody)).toEqual(['ResourceAddress', 'EndpointUri', 'SubscriptionId', 'UriLocation']);
    expect(extraBody.SubscriptionId).toMatch(uuid);
    expect(extraBody.UriLocation).toMatch(
      new RegExp(`^http://localhost:\\d+/api/ocloudNotifications/v2/subscriptions/${extraBody.SubscriptionId}$`),
    );
    // GET subscriptions/{id}: the same compact object as the 201.
    const byId = await fetch(`${api()}/subscriptions/${extraBody.SubscriptionId}`);
    expect(byId.status).toBe(200);
    expect(await byId.text()).toBe(extraText);
    // A wrong method on a known path is 405; DELETE of the id 204 with no body, then 404.
    expect((await fetch(`${api()}/subscriptions/${extraBody.SubscriptionId}`, { method: 'PUT' })).status).toBe(405);
    const del = await fetch(`${api()}/subscriptions/${extraBody.SubscriptionId}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect(await del.text()).toBe('');
    expect((await fetch(`${api()}/subscriptions/${extraBody.SubscriptionId}`)).status).toBe(404);
    expect((await fetch(`${api()}/subscriptions/${extraBody.SubscriptionId}`, { method: 'DELETE' })).status).toBe(404);
    expect(stderr).toMatch(/"msg":"subscription created"/);
    expect(stderr).toMatch(/"msg":"subscription deleted"/);
    expect(stderr).toMatch(/"msg":"subscription refused: initial notification not answered 204"/);
    // A second consumer on lock-state only.
    expect((await subscribe(allResources[0]!, b.url())).status).toBe(201);
    const big = await fetch(`${api()}/subscriptions`, { method: 'POST', body: 'x'.repeat(70_000) });
    expect(big.status).toBe(413);

    const listRes = await fetch(`${api()}/subscriptions`);
    expect(listRes.headers.get('content-type')).toBe('application/json');
    const listText = await listRes.text();
    // Go's json.MarshalIndent(…, "", " "): one space per level.
    expect(listText.startsWith('[\n {\n  "ResourceAddress": "/cluster/node/node1/')).toBe(true);
    const list = JSON.parse(listText) as Array<{ SubscriptionId: string }>;
    expect(list).toHaveLength(8);
    const one = await fetch(`${api()}/subscriptions/${list[0]!.SubscriptionId}`);
    expect(one.status).toBe(200);
    expect((await fetch(`${api()}/subscriptions/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
    expect(await metrics()).toContain('syncvisor_events_subscriptions 8');
  });

  it('CurrentState: 404 before data, not subscribed, short or trailing-slash addresses', async () => {
    expect((await fetch(`${api()}${node}/sync/ptp-status/lock-state/CurrentState`)).status).toBe(404);
    expect((await fetch(`${api()}/sync/ptp-status/lock-state/CurrentState`)).status).toBe(404);
    expect((await fetch(`${api()}${node}/sync/ptp-status/lock-state//CurrentState`)).status).toBe(404);
    expect((await fetch(`${api()}/cluster/node/other/sync/ptp-status/lock-state/CurrentState`)).status).toBe(404);
    const unknown = await fetch(`${api()}${node}/sync/nothing/CurrentState`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe('');
    expect((await fetch(`${api()}${node}/sync/ptp-status/lock-state/CurrentState`, { method: 'POST' })).status).toBe(
      405,
    );
  });

  it('clock changes through the socket become events, in order, with exact bodies; same id for every recipient', async () => {
    const start = a.received.length;
    const startB = b.received.length;
    // Another node's address is accepted (201, an initial notification with this node's data) but gets no events.
    const other = await new EventConsumer().start();
    const otherAddress = '/cluster/node/other/sync/ptp-status/lock-state';
    const otherSub = await subscribe(otherAddress, other.url());
    expect(otherSub.status).toBe(201);
    expect(other.bodies().map(normalized)).toEqual([
      ev(...LS, [
        [`${node}/ptp-not-set`, 'notification', 'FREERUN'],
        [`${node}/ptp-not-set`, 'metric', '0'],
      ]),
    ]);
    const steps: Array<[string, unknown[]]> = [
      [
        'ptp4l[2.0]: [ptp4l.0.config] master offset -5 s2 freq -1 path delay 89',
        [lock('LOCKED', '-5'), sync('LOCKED')],
      ],
      [
        'phc2sys[3.0]: [ptp4l.0.config] CLOCK_REALTIME phc offset 8 s2 freq -6990 delay 502',
        [
          ev(...OS, [
            ['CLOCK_REALTIME', 'notification', 'LOCKED'],
            ['CLOCK_REALTIME', 'metric', '8'],
          ]),
        ],
      ],
      ['ptp4l[4.0]: [ptp4l.0.config] CLOCK_CLASS_CHANGE 248.000000', [ev(...CC, [['ens5f1/master', 'metric', '248']])]],
      ['ptp4l[4.5]: [ptp4l.0.config] CLOCK_CLASS_CHANGE 248.000000', []],
      [
        'ptp4l[5.0]: [ptp4l.0.config] master offset 500 s2 freq -1 path delay 89',
        [lock('FREERUN', '500'), sync('FREERUN')],
      ],
      ['ptp4l[6.0]: [ptp4l.0.config] master offset 600 s2 freq -1 path delay 89', []],
      ['ptp4l[7.0]: [ptp4l.0.config] master offset 1 s2 freq -1 path delay 89', [lock('LOCKED', '1'), sync('LOCKED')]],
      [
        'ptp4l[8.0]: [ptp4l.0.config] port 1 (ens5f1): SLAVE to FAULTY on FAULT_DETECTED (FT_UNSPECIFIED)',
        [lock('HOLDOVER', '1'), sync('HOLDOVER')],
      ],
      // HOLDOVER once: the same port loss again sends nothing.
      ['ptp4l[8.5]: [ptp4l.0.config] port 1 (ens5f1): SLAVE to FAULTY on FAULT_DETECTED (FT_UNSPECIFIED)', []],
    ];
    let expected = await playSteps(steps, start);
    // The holdover timer (2 s) ends in FREERUN with the last offset.
    expected = expected.concat([lock('FREERUN', '1'), sync('FREERUN')]);
    await until(
      'holdover timeout',
      () => a.received.length - start,
      (n) => n >= expected.length,
      10_000,
    );
    const got = a.bodies().slice(start);
    expect(got.map(normalized)).toEqual(expected);
    // b subscribed to lock-state only: the same events, with the same ids.
    const lockIds = got.filter((x) => (x as { source: string }).source === LS[0]).map((x) => (x as { id: string }).id);
    await until(
      'b',
      () => b.received.length - startB,
      (n) => n >= lockIds.length,
    );
    expect(
      b
        .bodies()
        .slice(startB)
        .map((x) => (x as { id: string }).id),
    ).toEqual(lockIds);
    // Ids are fresh per event.
    expect(new Set(got.map((x) => (x as { id: string }).id)).size).toBe(got.length);
    // Byte for byte: CEP's key order, compact JSON.
    a.received.slice(start).forEach((r, i) => {
      const { id, time } = JSON.parse(r.body) as { id: string; time: string };
      expect(r.body).toBe(JSON.stringify({ ...(expected[i] as object), id, time }));
    });
    // The other node's subscriber got its initial notification only; its CurrentState is this node's data (CEP).
    expect(other.received).toHaveLength(1);
    const otherCs = await fetch(`${api()}${otherAddress}/CurrentState`);
    expect(otherCs.status).toBe(200);
    expect(normalized(await otherCs.json())).toEqual(lock('FREERUN', '1'));
    const otherId = ((await otherSub.json()) as { SubscriptionId: string }).SubscriptionId;
    expect((await fetch(`${api()}/subscriptions/${otherId}`, { method: 'DELETE' })).status).toBe(204);
    await other.close();
    process.stdout.write(
      `events received by a consumer (raw):\n${a.received
        .slice(start)
        .map((r) => r.body)
        .join('\n')}\n`,
    );

    const text = await metrics();
    expect(text).toContain('syncvisor_events_published_total{type="event.sync.ptp-status.ptp-state-change"} 5');
    expect(text).toContain('syncvisor_events_published_total{type="event.sync.ptp-status.ptp-clock-class-change"} 1');
    expect(text).toMatch(
      new RegExp(`syncvisor_events_deliveries_total\\{consumer="${a.url()}",result="delivered"\\} ${expected.length}`),
    );
    expect(text).toContain(`syncvisor_events_queue_depth{consumer="${a.url()}"} 0`);
  });

  it('with data: the initial notification is what CurrentState says, event-not-found for a resource without data', async () => {
    // lock-state has data: the initial notification carries it, as CurrentState does.
    const nf = b.url('/initial');
    const before = b.received.length;
    const subs: string[] = [];
    for (const r of [allResources[0]!, '/sync/synce-status/lock-state', '/sync/synce-status/clock-quality']) {
      const res = await subscribe(r, nf);
      expect(res.status).toBe(201);
      subs.push(((await res.json()) as { SubscriptionId: string }).SubscriptionId);
    }
    const notFound = `${node}/event-not-found`;
    expect(b.bodies('/initial').map(normalized)).toEqual([
      lock('FREERUN', '1'),
      ev('/sync/synce-status/lock-state', 'event.sync.synce-status.synce-state-change', [
        [notFound, 'notification', 'FREERUN'],
      ]),
      ev('/sync/synce-status/clock-quality', 'event.sync.synce-status.synce-clock-quality-change', [
        [notFound, 'metric', '0'],
      ]),
    ]);
    expect(b.received.length - before).toBe(3);
    const cs = await fetch(`${api()}${node}/sync/ptp-status/lock-state/CurrentState`);
    expect(normalized(await cs.json())).toEqual(lock('FREERUN', '1'));
    // Subscribed, data exists, none for this resource: 404 with no body.
    const synce = await fetch(`${api()}${node}/sync/synce-status/lock-state/CurrentState`);
    expect(synce.status).toBe(404);
    expect(await synce.text()).toBe('');
    for (const id of subs) expect((await fetch(`${api()}/subscriptions/${id}`, { method: 'DELETE' })).status).toBe(204);
  });

  it('a gnss receiver state from the socket becomes a gnss-sync-status event', async () => {
    const start = a.received.length;
    line('gnss[20.0]: [ts2phc.0.config] ens5f1 gnss_status 3 offset 5 s2');
    await until(
      'gnss event',
      () => a.received.length - start,
      (n) => n >= 1,
    );
    await new Promise((r) => setTimeout(r, 200));
    // CEP's state, shape and values: s2 is SYNCHRONIZED, the offset and the fix (gnss_status) are the line's.
    expect(a.bodies().slice(start).map(normalized)).toEqual([
      ev('/sync/gnss-status/gnss-sync-status', 'event.sync.gnss-status.gnss-state-change', [
        ['ens5f1/master', 'notification', 'SYNCHRONIZED'],
        ['ens5f1/master', 'metric', '5'],
        ['ens5f1/master/gpsFix', 'metric', '3'],
      ]),
    ]);
  });

  it('synce4l EEC states and quality levels from the socket become synce lock-state / clock-quality events', async () => {
    const start = a.received.length;
    const SL = ['/sync/synce-status/lock-state', 'event.sync.synce-status.synce-state-change'] as const;
    const SQ = ['/sync/synce-status/clock-quality', 'event.sync.synce-status.synce-clock-quality-change'] as const;
    // CEP's shapes: the EEC state at …/<device>/<port>, a string tagged metric/decimal64.3; the quality levels at
    // …/Ql and …/extQl (255 without ext_ql), hex bytes of the line as decimal strings.
    const eec = (port: string, state: string) => ev(...SL, [[`synce1/${port}`, 'metric', state]]);
    const ql = (port: string, q: string, ext: string) =>
      ev(...SQ, [
        [`synce1/${port}/Ql`, 'metric', q],
        [`synce1/${port}/extQl`, 'metric', ext],
      ]);
    const steps: Array<[string, unknown[]]> = [
      [
        'synce4l[1722456110]: [synce4l.0.config] ens7f0 device synce1 eec_state EEC_HOLDOVER network_option 2 s1',
        [eec('ens7f0', 'HOLDOVER')],
      ],
      ['synce4l[1722456111]: [synce4l.0.config] ens7f0 device synce1 eec_state EEC_HOLDOVER network_option 2 s1', []],
      [
        'synce4l[1722456112]: [synce4l.0.config] ens7f0 device synce1 eec_state EEC_LOCKED network_option 2 s2',
        [eec('ens7f0', 'LOCKED')],
      ],
      [
        'synce4l[1722458091]: [synce4l.0.config] ens7f0 clock_quality PRTC device synce1 ext_ql 0x20 network_option 2 ql 0x1 s2',
        [ql('ens7f0', '1', '32')],
      ],
      [
        'synce4l[1722458092]: [synce4l.0.config] ens7f0 clock_quality PRTC device synce1 ext_ql 0x20 network_option 2 ql 0x1 s2',
        [],
      ],
      [
        'synce4l[1722458093]: [synce4l.0.config] ens7f1 clock_quality PRC device synce1 network_option 2 ql 0x2 s2',
        [ql('ens7f1', '2', '255')],
      ],
      // A port's first EEC state FREERUN is announced (unknown → FREERUN).
      [
        'synce4l[1722458094]: [synce4l.0.config] ens7f1 device synce1 eec_state EEC_FREERUN network_option 2 s0',
        [eec('ens7f1', 'FREERUN')],
      ],
      // A device this configuration does not have: dropped, no event.
      ['synce4l[1722458095]: [synce4l.0.config] ens7f0 device other eec_state EEC_FREERUN network_option 2 s0', []],
    ];
    await playSteps(steps, start);
    // SyncE states are not part of the overall sync-state (CEP: main clocks and CLOCK_REALTIME only).
    expect(
      a
        .bodies()
        .slice(start)
        .filter((x) => (x as { source: string }).source === SS[0]),
    ).toEqual([]);
    const cs = async (r: string) => {
      const res = await fetch(`${api()}${node}${r}/CurrentState`);
      return { status: res.status, body: res.status === 200 ? normalized(await res.json()) : undefined };
    };
    // CurrentState: the EEC state per port tagged notification/enumeration, quality as Ql / ExtQL (CEP's spelling).
    expect(await cs(SL[0])).toEqual({
      status: 200,
      body: ev(...SL, [
        ['synce1/ens7f0', 'notification', 'LOCKED'],
        ['synce1/ens7f1', 'notification', 'FREERUN'],
      ]),
    });
    expect(await cs(SQ[0])).toEqual({
      status: 200,
      body: ev(...SQ, [
        ['synce1/ens7f0/Ql', 'metric', '1'],
        ['synce1/ens7f0/ExtQL', 'metric', '32'],
        ['synce1/ens7f1/Ql', 'metric', '2'],
        ['synce1/ens7f1/ExtQL', 'metric', '255'],
      ]),
    });
    const text = await metrics();
    expect(text).toContain('syncvisor_events_published_total{type="event.sync.synce-status.synce-state-change"} 3');
    expect(text).toContain(
      'syncvisor_events_published_total{type="event.sync.synce-status.synce-clock-quality-change"} 2',
    );
  });

  it('CurrentState after the changes, from the live statecharts', async () => {
    const cs = async (r: string) => {
      const res = await fetch(`${api()}${node}${r}/CurrentState`);
      return { status: res.status, body: res.status === 200 ? normalized(await res.json()) : undefined };
    };
    expect(await cs('/sync/ptp-status/lock-state')).toEqual({ status: 200, body: lock('FREERUN', '1') });
    expect(await cs('/sync/ptp-status/clock-class')).toEqual({
      status: 200,
      body: ev(...CC, [['ens5f1/master/CLOCK_CLASS', 'metric', '248']]),
    });
    expect(await cs('/sync/sync-status/sync-state')).toEqual({ status: 200, body: sync('FREERUN') });
    expect(await cs('/sync/sync-status/os-clock-sync-state')).toEqual({
      status: 200,
      body: ev(...OS, [
        ['CLOCK_REALTIME', 'notification', 'LOCKED'],
        ['CLOCK_REALTIME', 'metric', '8'],
      ]),
    });
    expect((await cs('/sync/gnss-status/gnss-sync-status')).status).toBe(200);
    // With the address's leading slash after the base path too (CEP accepts both).
    const res = await fetch(`${api()}//cluster/node/node1/sync/ptp-status/lock-state/CurrentState`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    // A fresh id and time on every CurrentState.
    const one = (await res.json()) as { id: string; time: string };
    const two = (await (await fetch(`${api()}${node}/sync/ptp-status/lock-state/CurrentState`)).json()) as {
      id: string;
      time: string;
    };
    expect(two.id).not.toBe(one.id);
    expect(two.time > one.time).toBe(true);
  });

  it('syncvisor ctl subscriptions lists them', () => {
    const host = eventsBase.replace('http://', '');
    const r = spawnSync(process.execPath, [bin, 'ctl', 'subscriptions', '--api', host], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows).toHaveLength(8);
    expect(rows).toContainEqual(
      expect.stringMatching(new RegExp(`^[0-9a-f-]{36}  ${node}/sync/ptp-status/lock-state  ${b.url()}$`)),
    );
    const j = spawnSync(process.execPath, [bin, 'ctl', 'subscriptions', '--api', host, '--json'], { encoding: 'utf8' });
    expect(JSON.parse(j.stdout)).toHaveLength(8);
    const gone = spawnSync(process.execPath, [bin, 'ctl', 'subscriptions', '--api', '127.0.0.1:1'], {
      encoding: 'utf8',
    });
    expect(gone.status).toBe(1);
    expect(gone.stderr).toMatch(/^syncvisor ctl subscriptions: http:\/\/127\.0\.0\.1:1\//);
  });

  it('CMD RESTART keeps every subscription; events continue', async () => {
    const subsBefore = await (await fetch(`${api()}/subscriptions`)).json();
    const start = a.received.length;
    // CMD RESTART on the sidecar socket, as linuxptp-daemon sends it (syncvisor ctl restart is tested in test/cli).
    const loads = () => (stderr.match(/"msg":"ptp configuration loaded"/g) ?? []).length;
    const before = loads();
    line('CMD RESTART');
    await until('restart', loads, (n) => n > before);
    expect(await (await fetch(`${api()}/subscriptions`)).json()).toEqual(subsBefore);
    await new Promise((r) => setTimeout(r, 200));
    line('ptp4l[9.0]: [ptp4l.0.config] master offset -3 s2 freq -1 path delay 89');
    await until(
      'after restart',
      () => a.received.length - start,
      (n) => n >= 2,
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(a.bodies().slice(start).map(normalized)).toEqual([lock('LOCKED', '-3'), sync('LOCKED')]);
  });

  it('a dead consumer is removed after 10 connection failures and never delays a live one; 500 and slow consumers', async () => {
    const dead = new EventConsumer();
    const hung = new EventConsumer();
    const rejecting = new EventConsumer();
    const slow = new EventConsumer();
    for (const c of [dead, hung, rejecting, slow]) {
      await c.start();
      expect((await subscribe(allResources[0]!, c.url())).status).toBe(201);
    }
    await dead.close(); // going away: connections refused from now on
    hung.mode = { kind: 'never' };
    rejecting.mode = { kind: 'status', status: 500 };
    slow.mode = { kind: 'slow', ms: 300 };
    const start = a.received.length;
    for (let i = 0; i < 12; i++) {
      line(`ptp4l[${10 + i}.0]: [ptp4l.0.config] master offset ${i % 2 === 0 ? 500 : -2} s2 freq -1 path delay 89`);
      await until(
        `live consumer, change ${i}`,
        () => a.received.length - start,
        (n) => n >= 2 * (i + 1),
      );
    }
    // The hung consumer has at most a few requests out (2 s timeout each); the live one got all 24 events meanwhile.
    expect(hung.received.length).toBeLessThan(1 + 12);
    // The refusing consumer's subscriptions are gone after 10 consecutive failures, with a log line.
    await until(
      'dead consumer removed',
      async () => {
        const subs = (await (await fetch(`${api()}/subscriptions`)).json()) as Array<{ EndpointUri: string }> | null;
        return (subs ?? []).some((s) => s.EndpointUri === dead.url());
      },
      (present) => !present,
    );
    await until('removal log line', () => stderr.includes('consumer removed: its subscriptions were deleted'), Boolean);
    expect(stderr).toContain(dead.url());
    // The rejecting consumer keeps its subscription (no retry, failures reset), the slow one got everything.
    const subs = (await (await fetch(`${api()}/subscriptions`)).json()) as Array<{ EndpointUri: string }>;
    expect(subs.some((s) => s.EndpointUri === rejecting.url())).toBe(true);
    expect(rejecting.received.length).toBe(1 + 12);
    await until(
      'slow consumer',
      () => slow.received.length,
      (n) => n >= 1 + 12,
    );
    await new Promise((r) => setTimeout(r, 400)); // the last slow answer
    const text = await metrics();
    process.stdout.write(
      text
        .split('\n')
        .filter((l) => l.startsWith('syncvisor_events'))
        .join('\n') + '\n',
    );
    expect(text).toContain(`syncvisor_events_deliveries_total{consumer="${rejecting.url()}",result="rejected"} 12`);
    expect(text).toContain(`syncvisor_events_deliveries_total{consumer="${slow.url()}",result="delivered"} 12`);
    expect(text).not.toContain(`consumer="${dead.url()}"`);
    // Remove the hung consumer explicitly so it does not linger.
    for (const s of subs.filter((x) => x.EndpointUri === hung.url()))
      expect(
        (
          await fetch(`${api()}/subscriptions/${(s as unknown as { SubscriptionId: string }).SubscriptionId}`, {
            method: 'DELETE',
          })
        ).status,
      ).toBe(204);
    for (const c of [hung, rejecting, slow]) await c.close();
    for (const s of subs.filter((x) => x.EndpointUri === rejecting.url() || x.EndpointUri === slow.url()))
      await fetch(`${api()}/subscriptions/${(s as unknown as { SubscriptionId: string }).SubscriptionId}`, {
        method: 'DELETE',
      });
  });

  it('a daemon restart keeps subscriptions (no initial notification again) and the last sync-state', async () => {
    const subsBefore = await (await fetch(`${api()}/subscriptions`)).json();
    const publishersText = async () => (await fetch(`${api()}/publishers`)).text();
    const pubsBefore = await publishersText();
    // Indented as Go's MarshalIndent; UriLocation http://localhost:<port>/…/publishers/<id>.
    expect(pubsBefore.startsWith('[\n {\n  "ResourceAddress": ')).toBe(true);
    for (const p of JSON.parse(pubsBefore) as Array<{ SubscriptionId: string; UriLocation: string }>)
      expect(p.UriLocation).toMatch(
        new RegExp(`^http://localhost:\\d+/api/ocloudNotifications/v2/publishers/${p.SubscriptionId}$`),
      );
    // Leave the clock LOCKED: the last overall sync-state sent is LOCKED.
    line('ptp4l[30.0]: [ptp4l.0.config] master offset -2 s2 freq -1 path delay 89');
    await new Promise((r) => setTimeout(r, 300));
    expect(await stopDaemon()).toBe(0);
    const store = JSON.parse(readFileSync(join(dir, 'store/subscriptions.json'), 'utf8')) as { lastSyncState: string };
    expect(store.lastSyncState).toBe('LOCKED');
    const start = a.received.length;
    await startDaemon();
    expect(await (await fetch(`${api()}/subscriptions`)).json()).toEqual(subsBefore);
    // Publisher ids are stable across restarts (the port in UriLocation is the new listener's).
    const ids = (t: string) => (JSON.parse(t) as Array<{ SubscriptionId: string }>).map((p) => p.SubscriptionId);
    expect(ids(await publishersText())).toEqual(ids(pubsBefore));
    await new Promise((r) => setTimeout(r, 300));
    expect(a.received.length).toBe(start);
    line('ptp4l[31.0]: [ptp4l.0.config] master offset -4 s2 freq -1 path delay 89');
    await until(
      'after daemon restart',
      () => a.received.length - start,
      (n) => n >= 1,
    );
    await new Promise((r) => setTimeout(r, 300));
    // LOCKED again after the restart, but the overall state LOCKED was already sent: no sync-state event.
    expect(a.bodies().slice(start).map(normalized)).toEqual([lock('LOCKED', '-4')]);
  });

  it('100 consumers × 7 resources: 700 subscriptions, every consumer gets each event once', async () => {
    const many = await new EventConsumer().start();
    const paths = Array.from({ length: 100 }, (_, i) => `/c${i}`);
    for (let i = 0; i < paths.length; i += 10) {
      const batch = paths.slice(i, i + 10).flatMap((p) => allResources.map((r) => subscribe(r, many.url(p))));
      expect((await Promise.all(batch)).map((r) => r.status)).toEqual(batch.map(() => 201));
    }
    expect(many.received.length).toBe(700); // 700 initial notifications
    expect(await metrics()).toMatch(/syncvisor_events_consumers 10[0-9]/);
    const start = many.received.length;
    line('ptp4l[40.0]: [ptp4l.0.config] master offset 900 s2 freq -1 path delay 89');
    await until(
      '100 consumers',
      () => many.received.length - start,
      (n) => n >= 200,
    );
    await new Promise((r) => setTimeout(r, 300));
    const got = many.received.slice(start);
    expect(got).toHaveLength(200);
    for (const p of paths) {
      const mine = got.filter((r) => r.path === p).map((r) => normalized(JSON.parse(r.body)));
      expect(mine).toEqual([lock('FREERUN', '900'), sync('FREERUN')]);
    }
    // One id per event, shared by all 100 recipients.
    expect(new Set(got.map((r) => (JSON.parse(r.body) as { id: string }).id)).size).toBe(2);
    await many.close();
  });

  it('DELETE subscriptions removes everything', async () => {
    const res = await fetch(`${api()}/subscriptions`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(await (await fetch(`${api()}/subscriptions`)).text()).toBe('null');
    // The store follows: no subscription left on disk; CurrentState needs a subscription again.
    await until(
      'store written',
      () =>
        (JSON.parse(readFileSync(join(dir, 'store/subscriptions.json'), 'utf8')) as { subscriptions: unknown[] })
          .subscriptions.length,
      (n) => n === 0,
    );
    expect((await fetch(`${api()}${node}/sync/ptp-status/lock-state/CurrentState`)).status).toBe(404);
    expect(await metrics()).toContain('syncvisor_events_subscriptions 0');
    expect((await fetch(`${api()}/subscriptions/x`, { method: 'DELETE' })).status).toBe(404);
  });
});
