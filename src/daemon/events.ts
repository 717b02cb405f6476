// Composition of the PTP events service (the O-RAN O-Cloud Notification API v2): the subscription store, the event
// model and the publisher live here, outside the ptp sidecar's generation, so CMD RESTART keeps them; the events
// service machine (REST server, feed, one delivery machine per consumer) is a supervisor child beside the sidecar.
//
// The adapter between the ptp service and the events engine is `clockChangeToInput` (with `synceTopology`, synce4l's
// port → device layout) plus `generationLoaded`: the only code that knows how the ptp machines name their clocks.
// Changing the ptp machines means changing these.
import { fromPromise } from 'xstate';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { MetricsHub } from '../io/http/metricsHub.js';
import { parseListen } from '../io/http/server.js';
import type { Logger } from '../io/log.js';
import type { PtpGeneration } from '../io/ptp/generation.js';
import { encodeCloudEvent, newEventId, rfc3339Nano } from '../io/events/cloudEvent.js';
import { endpointPolicy } from '../io/events/endpoint.js';
import { postJson } from '../io/events/httpPost.js';
import { createEventsApi } from '../actors/events/api.js';
import { createPostActor } from '../actors/events/delivery.js';
import { createFeedLogic, createRestServerLogic, type NotificationFeed } from '../actors/events/restServer.js';
import { SubscriptionStore } from '../actors/events/subscriptionStore.js';
import { deliveryMachine } from '../machines/events/delivery.js';
import {
  eventsServiceMachine,
  type EventsServiceEvent,
  type EventsServiceInput,
} from '../machines/events/eventsService.js';
import {
  PtpEventModel,
  type ClockStateName,
  type EventsInput,
  type Publication,
} from '../machines/events/ptpEventModel.js';
import { resourceAddress, resources, type EventValue } from '../machines/events/resources.js';
import type { ChildSpec } from '../machines/supervisor/spec.js';

/**
 * A clock entered a state: the sidecar's `clock.stateChanged` as src/daemon/ptp.ts's logClockState passes it (its
 * offset / clockClass fields, the facts of the edge's line, are not read here: the gauges hold the latest ones).
 */
export interface ClockChange {
  key: string;
  process: string;
  iface: string;
  profile: string;
  from: string | null;
  to: string;
}

/** The hook lines of src/daemon/ptp.ts call these. */
export interface PtpEventsHook {
  clockChanged(change: ClockChange): void;
  generationLoaded(generation: PtpGeneration): void;
}

const mainClockProcesses = new Set(['ptp4l', 'ts2phc', 'GM', 'T-BC']);
const gnssState: Record<string, string> = { LOCKED: 'SYNCHRONIZED', HOLDOVER: 'HOLDOVER', FREERUN: 'ACQUIRING-SYNC' };

/**
 * The adapter: one clock change of today's ptp machines → the events engine's input (undefined = not an event
 * source). `offset` is the clock's last offset, `gpsFix` its last gnss_status (gnss clocks only). `announce` false =
 * the initial FREERUN a clock reports when the clock bank creates it (from null), which no line said.
 */
export function clockChangeToInput(
  change: ClockChange,
  offset: number,
  announce: boolean,
  gpsFix = 0,
  synce: SynceTopology = noSynce,
): EventsInput | undefined {
  const to = change.to as ClockStateName;
  if (to !== 'LOCKED' && to !== 'FREERUN' && to !== 'HOLDOVER') return undefined;
  if (change.process === 'synce4l') {
    // The EEC state of a port (the daemon's s0/s1/s2 verdict: FREERUN / HOLDOVER / LOCKED): a synce lock-state
    // event. The device's overall state (synceDevice chart) is a metric only: CEP publishes per port.
    if (!announce) return undefined;
    const device = synce.portDevice.get(change.iface);
    return device === undefined ? undefined : { type: 'synce', device, iface: change.iface, state: to };
  }
  if (change.iface === 'CLOCK_REALTIME')
    return { type: 'clock', key: change.key, role: 'osClock', iface: change.iface, state: to, offset, announce };
  if (change.process === 'gnss') {
    if (!announce) return undefined;
    return { type: 'gnss', key: change.key, iface: change.iface, state: gnssState[to]!, offset, gpsFix };
  }
  if (mainClockProcesses.has(change.process))
    return { type: 'clock', key: change.key, role: 'main', iface: change.iface, state: to, offset, announce };
  return undefined;
}

/** synce4l's layout from its config files: each port's device, and the device names. */
export interface SynceTopology {
  portDevice: ReadonlyMap<string, string>;
  devices: ReadonlySet<string>;
}

const noSynce: SynceTopology = { portDevice: new Map(), devices: new Set() };
/** `[<synce1>]` (the section as written) or `synce1` → `synce1`. */
const deviceName = (s: string): string => (s.startsWith('<') && s.endsWith('>') ? s.slice(1, -1) : s);

/**
 * The synce4l config files name a device in a `[<device>]` section; the port sections after it, up to the next
 * device, are its ports (synce4l's own config layout).
 */
export function synceTopology(
  files: ReadonlyArray<{ process: string; interfaces: ReadonlyArray<{ name: string }> }>,
): SynceTopology {
  const portDevice = new Map<string, string>();
  const devices = new Set<string>();
  for (const f of files) {
    if (f.process !== 'synce4l') continue;
    let device: string | undefined;
    for (const { name } of f.interfaces) {
      if (name.startsWith('<') && name.endsWith('>')) devices.add((device = deviceName(name)));
      else if (device !== undefined && !portDevice.has(name)) portDevice.set(name, device);
    }
  }
  return { portDevice, devices };
}

/** A verdict edge as the generation returns it (only what the adapter reads). */
interface EdgeLike {
  key: string;
  process: string;
  iface: string;
  profile: string;
  verdict: string;
}

interface MetricValues {
  values: Array<{ labels: Record<string, string | number>; value: number }>;
}

async function readGauge(registry: Registry, name: string): Promise<MetricValues['values']> {
  const m = registry.getSingleMetric(name) as unknown as { get(): Promise<MetricValues> } | undefined;
  return m ? (await m.get()).values : [];
}

export interface EventsDeps {
  config: Config;
  logger: Logger;
  metrics: MetricsHub;
}

export interface EventsService {
  hook: PtpEventsHook;
  childSpec: ChildSpec;
  store: SubscriptionStore;
  model: PtpEventModel;
}

export function createEventsService(deps: EventsDeps): EventsService {
  const { config, logger, metrics } = deps;
  const ev = config.events;
  const nodeName = config.ptp.nodeName;
  const registers = [metrics.global];
  const published = new Counter({
    name: 'syncvisor_events_published_total',
    help: 'PTP notifications published, by event type (each goes to every subscriber of its resource).',
    labelNames: ['type'],
    registers,
  });
  for (const r of Object.values(resources)) published.labels(r.type).inc(0);
  const deliveries = new Counter({
    name: 'syncvisor_events_deliveries_total',
    help: 'Deliveries per consumer endpoint: delivered (204), rejected (other status), failed (connection/timeout), dropped (queue full).',
    labelNames: ['consumer', 'result'],
    registers,
  });
  const queueDepth = new Gauge({
    name: 'syncvisor_events_queue_depth',
    help: 'Notifications waiting for one consumer endpoint.',
    labelNames: ['consumer'],
    registers,
  });
  const subscriptionsGauge = new Gauge({
    name: 'syncvisor_events_subscriptions',
    help: 'Subscriptions held.',
    registers,
  });
  const consumersGauge = new Gauge({
    name: 'syncvisor_events_consumers',
    help: 'Consumer endpoints (distinct EndpointUri) with at least one subscription.',
    registers,
  });
  const apiUp = new Gauge({
    name: 'syncvisor_events_api_up',
    help: '1 while the events REST API listens, 0 while it cannot (it retries every second).',
    registers,
  });
  const store = new SubscriptionStore(ev.storePath, () => {
    subscriptionsGauge.set(store.size);
    consumersGauge.set(store.consumers().length);
  });
  const model = new PtpEventModel(nodeName);
  const policy = endpointPolicy(ev.allowHosts);
  const { host, port } = parseListen(ev.listen);
  let boundPort = port;
  const uriBase = (): string => (ev.uriBase !== '' ? ev.uriBase.replace(/\/+$/, '') : `http://localhost:${boundPort}`);

  const encode = (source: string, type: string, values: readonly EventValue[], id = newEventId()): string =>
    encodeCloudEvent({ id, source, type, time: rfc3339Nano(), values });

  // The feed: publications reach the service while it serves; none is queued while it does not.
  const listeners = new Set<(e: EventsServiceEvent) => void>();
  const feed: NotificationFeed = {
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  const publish = (p: Publication): void => {
    const spec = resources[p.resource];
    published.labels(spec.type).inc();
    const clientIds = store.clientsFor(resourceAddress(nodeName, p.resource));
    if (clientIds.length === 0) return;
    const body = encode(spec.suffix, spec.type, p.values);
    const e: EventsServiceEvent = { type: 'events.publish', clientIds, event: { type: spec.type, body } };
    for (const l of listeners) l(e);
  };
  const apply = (input: EventsInput): void => {
    for (const p of model.apply(input)) publish(p);
    // Persisted while anyone is subscribed (or a file exists): without subscribers nobody was told anything.
    if (
      model.lastSyncState !== null &&
      model.lastSyncState !== store.lastSyncState &&
      (store.size > 0 || store.hasFile)
    ) {
      store
        .setLastSyncState(model.lastSyncState)
        .catch((err: unknown) => logger.error({ err: String(err) }, 'last sync-state not stored'));
    }
  };

  // Inputs are applied in arrival order; reading an offset or a clock class is async (prom-client's get), so every
  // input goes through one promise chain. The reads resolve within the same turn, before the next socket batch.
  let chain: Promise<void> = Promise.resolve();
  const enqueue = (fn: () => Promise<void> | void): void => {
    chain = chain.then(fn).catch((err: unknown) => logger.error({ err: String(err) }, 'ptp event input failed'));
  };
  let generation: PtpGeneration | undefined;
  const lastClockClass = new Map<string, number>();

  async function offsetOf(g: PtpGeneration | undefined, change: ClockChange): Promise<number> {
    if (!g) return 0;
    const from = change.iface === 'CLOCK_REALTIME' ? ['phc', 'sys'] : ['master', change.process];
    const values = await readGauge(g.registry, 'openshift_ptp_offset_ns');
    for (const f of from) {
      const v = values.find(
        (x) => x.labels.from === f && x.labels.process === change.process && x.labels.iface === change.iface,
      );
      if (v) return v.value;
    }
    return 0;
  }

  /** A gnss clock's fix (openshift_ptp_gnss_status, 0 no fix … 5), 0 before any gnss line. */
  async function gpsFixOf(g: PtpGeneration | undefined, change: ClockChange): Promise<number> {
    if (!g || change.process !== 'gnss') return 0;
    const values = await readGauge(g.registry, 'openshift_ptp_gnss_status');
    return values.find((x) => x.labels.process === change.process && x.labels.iface === change.iface)?.value ?? 0;
  }

  /** The main clock of a ptp4l config: its slave port (seed), else its first interface. */
  function mainIfaceOf(g: PtpGeneration, config: string): string | undefined {
    const file = g.files.find((f) => f.name === config);
    if (!file) return undefined;
    const names = file.interfaces.map((i) => i.name);
    return g.seeds.find((s) => names.includes(s.iface))?.iface ?? names[0];
  }

  /**
   * SyncE quality levels have no statechart: after each batch of a generation with a synce4l config, its
   * openshift_ptp_synce_ssm_ql series (SSM and Extended SSM, 0xFF when the line had no ext_ql, as CEP's event) are
   * given to the model, which publishes a port's clock-quality only when its pair changed. Per batch, not per line.
   */
  async function checkSynceQuality(g: PtpGeneration, topology: SynceTopology): Promise<void> {
    const ports = new Map<string, { device: string; iface: string; ql?: number; extQl?: number }>();
    for (const v of await readGauge(g.registry, 'openshift_ptp_synce_ssm_ql')) {
      const iface = String(v.labels.iface);
      const device = String(v.labels.device);
      // The port's own device (a line may name another known device; the config's layout decides).
      if ((topology.portDevice.get(iface) ?? device) !== device) continue;
      const k = `${device}/${iface}`;
      const p = ports.get(k) ?? { device, iface };
      if (v.labels.ql_type === 'SSM') p.ql = v.value;
      else p.extQl = v.value;
      ports.set(k, p);
    }
    for (const p of ports.values()) if (p.ql !== undefined) apply({ type: 'synce', ...p });
  }

  async function checkClockClass(g: PtpGeneration): Promise<void> {
    for (const v of await readGauge(g.registry, 'openshift_ptp_clock_class')) {
      if (v.labels.process !== 'ptp4l') continue;
      const config = String(v.labels.config);
      if (lastClockClass.get(config) === v.value) continue;
      lastClockClass.set(config, v.value);
      const iface = mainIfaceOf(g, config);
      if (iface !== undefined) apply({ type: 'clockClass', key: config, iface, value: v.value });
    }
  }

  // Clocks known (they reported at least their initial FREERUN) and clocks whose state was announced, in this
  // generation; clocks whose first verdict was FREERUN-like before the clock bank created them.
  let known = new Set<string>();
  let announced = new Set<string>();
  let firstFreerun = new Set<string>();

  let synce: SynceTopology = noSynce;

  /**
   * NTP failover (a profile with `chronydOpts`): phc2sys's and chronyd's CLOCK_REALTIME are one OS clock for the
   * events, whoever owns it (key `CLOCK_REALTIME/<profile>`), so a hand-over that keeps the state publishes nothing;
   * the initial FREERUN of the second owner's clock (no line said it) is not recorded over the first one's state.
   */
  const failoverKey = (g: PtpGeneration | undefined, change: ClockChange): string | undefined =>
    change.iface === 'CLOCK_REALTIME' &&
    (change.process === 'phc2sys' || change.process === 'chronyd') &&
    g?.chronydProfiles.includes(change.profile)
      ? `CLOCK_REALTIME/${change.profile}`
      : undefined;
  let osClocksSeen = new Set<string>();

  const announceChange = (g: PtpGeneration | undefined, change: ClockChange, announce: boolean): void => {
    if (announce) announced.add(change.key);
    const shared = failoverKey(g, change);
    if (shared !== undefined) {
      if (!announce && osClocksSeen.has(shared)) return;
      osClocksSeen.add(shared);
      change = { ...change, key: shared };
    }
    const topology = synce;
    enqueue(async () => {
      const input = clockChangeToInput(
        change,
        await offsetOf(g, change),
        announce,
        await gpsFixOf(g, change),
        topology,
      );
      if (input) apply(input);
    });
  };

  /**
   * A clock starts in FREERUN (a load seed at load, any other clock when the clock bank gets its first edge), so a
   * first verdict of FREERUN (s0/s1 of an offset line, s0 of a status line, an offset out of range) changes no state
   * and is reported by no clock; CEP announces it (unknown → FREERUN). This runs on the edges as ingest returns them,
   * before the bank sees them. Edges are rare (changes only).
   */
  function firstVerdicts(g: PtpGeneration, edges: readonly EdgeLike[]): void {
    for (const e of edges) {
      if (announced.has(e.key)) continue;
      // phc2sys down is FREERUN for its CLOCK_REALTIME, unless chronyd takes it over (NTP failover).
      const down = e.verdict === 'processDown' && !g.chronydProfiles.includes(e.profile);
      if (e.verdict !== 'freerun' && e.verdict !== 'outOfRange' && !down) {
        firstFreerun.delete(e.key);
        continue;
      }
      const change: ClockChange = {
        key: e.key,
        process: e.process,
        iface: e.iface,
        profile: e.profile,
        from: null,
        to: 'FREERUN',
      };
      if (known.has(e.key)) announceChange(g, change, true);
      else firstFreerun.add(e.key); // the bank creates it from this batch: announce its initial report
    }
  }

  const hook: PtpEventsHook = {
    clockChanged(change) {
      known.add(change.key);
      // A first report (from null) of FREERUN is the clock's initial state, which no line said (unless firstVerdicts
      // saw a FREERUN-like first edge); a first report of any other state is a real change from "unknown".
      const announce = change.from !== null || change.to !== 'FREERUN' || firstFreerun.delete(change.key);
      announceChange(generation, change, announce);
    },
    generationLoaded(g) {
      generation = g;
      synce = synceTopology(g.files);
      const topology = synce;
      known = new Set();
      announced = new Set();
      osClocksSeen = new Set();
      firstFreerun = new Set();
      enqueue(() => {
        lastClockClass.clear();
        apply({ type: 'reset' });
      });
      // Clock class has no statechart yet: after each batch the generation parsed, its clock-class gauge (a few
      // series) is compared with the last value seen. This is per batch, not per line.
      const ingest = g.ingest.bind(g);
      g.ingest = (lines) => {
        const edges = ingest(lines);
        if (edges.length > 0) firstVerdicts(g, edges);
        enqueue(() => checkClockClass(g));
        if (topology.devices.size > 0) enqueue(() => checkSynceQuality(g, topology));
        return edges;
      };
    },
  };

  const apiLogger = logger.child({ component: 'events' });
  const delivery = deliveryMachine.provide({
    actors: { post: createPostActor(ev.timeoutMs) },
    actions: {
      countDelivered: ({ context }) => deliveries.labels(context.endpoint, 'delivered').inc(),
      countRejected: ({ context }, params) => {
        deliveries.labels(context.endpoint, 'rejected').inc();
        apiLogger.warn({ endpoint: context.endpoint, status: params.status }, 'consumer returned invalid status');
      },
      countFailed: ({ context }, params) => {
        deliveries.labels(context.endpoint, 'failed').inc();
        apiLogger.warn(
          {
            endpoint: context.endpoint,
            err: params.error,
            failures: context.failures + 1,
            failAfter: context.failAfter,
          },
          'delivery failed',
        );
      },
      countDropped: ({ context }) => {
        deliveries.labels(context.endpoint, 'dropped').inc();
        apiLogger.warn(
          { endpoint: context.endpoint, queueMax: context.queueMax },
          'consumer queue full: oldest dropped',
        );
      },
      reportQueueDepth: ({ context }) => queueDepth.labels(context.endpoint).set(context.queue.length),
    },
  });

  const logic = eventsServiceMachine.provide({
    actors: {
      delivery,
      loadSubscriptions: fromStore(store, model),
      restServer: createRestServerLogic({
        host,
        port,
        maxBodyBytes: ev.maxBodyBytes,
        maxConnections: ev.maxConnections,
        logger: apiLogger,
        onListening: (_address, p) => {
          boundPort = p;
          apiUp.set(1);
        },
        handler: (sendBack) =>
          createEventsApi({
            store,
            nodeName,
            uriBase,
            policy,
            maxSubscriptions: ev.maxSubscriptions,
            maxConsumers: ev.maxConsumers,
            current: (r) => model.current(r),
            encode: (source, type, values) => encode(source, type, values),
            post: (endpoint, body) => postJson(endpoint, body, ev.timeoutMs),
            onConsumerAdded: (consumer) => sendBack({ type: 'consumer.add', consumer }),
            onConsumerRemoved: (clientId) => {
              sendBack({ type: 'consumer.remove', clientId });
            },
            logger: apiLogger,
          }),
      }),
      feed: createFeedLogic(feed),
    },
    actions: {
      consumerRemoved: (_, params) => {
        store.deleteClient(params.clientId).then(
          (gone) => {
            const endpoint = gone[0]?.EndpointUri;
            apiLogger.warn(
              { clientId: params.clientId, endpoint, failures: params.failures, subscriptions: gone.length },
              'consumer removed: its subscriptions were deleted after consecutive connection failures',
            );
            if (endpoint !== undefined) {
              queueDepth.remove(endpoint);
              for (const result of ['delivered', 'rejected', 'failed', 'dropped'])
                deliveries.remove({ consumer: endpoint, result });
            }
          },
          (err: unknown) => apiLogger.error({ err: String(err) }, 'consumer removal not stored'),
        );
      },
      logLoadFailed: ({ event }) =>
        apiLogger.error(
          { err: String((event as { error?: unknown }).error), file: store.file },
          'subscriptions not loaded',
        ),
      logLoaded: (_, params) =>
        apiLogger.info(
          { consumers: params.consumers, subscriptions: store.size, file: store.file },
          'subscriptions loaded',
        ),
      logServerFailed: ({ event }) => {
        apiUp.set(0);
        apiLogger.warn({ err: (event as { error?: string }).error }, 'events API restarting after a listen failure');
      },
    },
  });

  const input: EventsServiceInput = {
    queueMax: ev.queueMax,
    failAfter: ev.removeAfterFailures,
    backoffInitialMs: ev.backoff.initialMs,
    backoffMaxMs: ev.backoff.maxMs,
  };
  return {
    hook,
    store,
    model,
    childSpec: { id: 'events', systemId: 'events', logic, input, restart: 'permanent', shutdownOrder: 1 },
  };
}

function fromStore(store: SubscriptionStore, model: PtpEventModel) {
  return fromPromise(async () => {
    await store.load();
    if (model.lastSyncState === null && store.lastSyncState !== null)
      model.lastSyncState = store.lastSyncState as ClockStateName;
    return store.consumers();
  });
}
