// The openshift_ptp_* metrics of one sidecar generation, on their own prom-client Registry (dropped on restart).
// Label children are cached per series so the line path does not re-hash label sets on every line.
import { Counter, Gauge, Registry } from 'prom-client';
import { PortAliases } from './aliases.js';

export const clockStateValue = { FREERUN: 0, LOCKED: 1, HOLDOVER: 2 } as const;
export type ClockStateName = keyof typeof clockStateValue;

export const roleValue = { PASSIVE: 0, SLAVE: 1, MASTER: 2, FAULTY: 3, UNKNOWN: 4, LISTENING: 5 } as const;
export type RoleName = keyof typeof roleValue;

/** The dpll / gnss value keys that get a gauge each. */
export const statusValueKeys = ['frequency_status', 'phase_status', 'pps_status', 'gnss_status'] as const;
export type StatusValueKey = (typeof statusValueKeys)[number];

type CounterChild = ReturnType<Counter['labels']>;

/**
 * One gauge series. The line path only stores the number here; prom-client sees it when the registry is collected
 * (a scrape). prom-client's own label child re-hashes the label set on every set(), which cost more than the parse
 * itself (docs/performance.md, P1).
 */
class Series {
  value = 0;
  dirty = false;
  constructor(readonly labels: Record<string, string>) {}
  set(v: number): void {
    this.value = v;
    this.dirty = true;
  }
}

/** Series of one gauge by label values, looked up through nested maps (no key string built per line). */
class GaugeFamily {
  private readonly root = new Map<string, Map<string, Map<string, Series | Map<string, Series>>>>();
  private readonly all: Series[] = [];
  /** Label sets of series removed since the last scrape (prom-client drops them at the next collect). */
  private readonly removed: Record<string, string>[] = [];

  constructor(
    name: string,
    help: string,
    private readonly labelNames: string[],
    registers: Registry[],
  ) {
    const flush = (gauge: Gauge): void => this.flush(gauge);
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        flush(this);
      },
    });
  }

  get(a: string, b: string, c: string, d?: string): Series {
    let m1 = this.root.get(a);
    if (m1 === undefined) this.root.set(a, (m1 = new Map()));
    let m2 = m1.get(b);
    if (m2 === undefined) m1.set(b, (m2 = new Map()));
    let leaf = m2.get(c);
    if (d === undefined) {
      if (leaf === undefined) m2.set(c, (leaf = this.make([a, b, c])));
      return leaf as Series;
    }
    if (leaf === undefined) m2.set(c, (leaf = new Map<string, Series>()));
    const m3 = leaf as Map<string, Series>;
    let series = m3.get(d);
    if (series === undefined) m3.set(d, (series = this.make([a, b, c, d])));
    return series;
  }

  /** Any number of labels (rare series: one key string per call). */
  getN(values: string[]): Series {
    const key = values.join('\0');
    let series = this.byKey.get(key);
    if (series === undefined) this.byKey.set(key, (series = this.make(values)));
    return series;
  }

  private readonly byKey = new Map<string, Series>();

  /** Drops a series of three labels: it is gone from the next scrape (a later get() makes it anew). */
  remove(a: string, b: string, c: string): void {
    const m2 = this.root.get(a)?.get(b);
    const series = m2?.get(c);
    if (!(series instanceof Series)) return;
    m2!.delete(c);
    this.all.splice(this.all.indexOf(series), 1);
    this.removed.push(series.labels);
  }

  private make(values: string[]): Series {
    const labels: Record<string, string> = {};
    this.labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
    const series = new Series(labels);
    this.all.push(series);
    return series;
  }

  private flush(gauge: Gauge): void {
    for (const labels of this.removed.splice(0)) gauge.remove(labels);
    for (const s of this.all) {
      if (!s.dirty) continue;
      s.dirty = false;
      gauge.set(s.labels, s.value);
    }
  }
}

/**
 * The four offset gauges of one clock (from, process, iface), resolved once: the line path sets numbers on them
 * without a map lookup per gauge.
 */
export class OffsetSeries {
  constructor(
    private readonly offset: Series,
    private readonly maxOffset: Series,
    private readonly freq: Series,
    private readonly delay: Series,
  ) {}

  /** offset, max offset, frequency adjustment, delay; `undefined` values are left alone. */
  set(offset: number, maxOffset: number, freq: number | undefined, delay: number | undefined): void {
    this.offset.set(offset);
    this.maxOffset.set(maxOffset);
    if (freq !== undefined) this.freq.set(freq);
    if (delay !== undefined) this.delay.set(delay);
  }
}

class Family<C> {
  private readonly cache = new Map<string, C>();
  constructor(private readonly make: (values: string[]) => C) {}
  get(a: string, b: string, c: string, d?: string): C {
    const key = d === undefined ? `${a}\0${b}\0${c}` : `${a}\0${b}\0${c}\0${d}`;
    let child = this.cache.get(key);
    if (child === undefined) {
      child = this.make(d === undefined ? [a, b, c] : [a, b, c, d]);
      this.cache.set(key, child);
    }
    return child;
  }
}

export class PtpMetrics {
  readonly registry = new Registry();
  private readonly offset: GaugeFamily;
  private readonly maxOffset: GaugeFamily;
  private readonly freq: GaugeFamily;
  private readonly delay: GaugeFamily;
  private readonly clockState: GaugeFamily;
  private readonly role: GaugeFamily;
  private readonly threshold: GaugeFamily;
  private readonly nmea: GaugeFamily;
  private readonly clockClass: GaugeFamily;
  private readonly processStatus: GaugeFamily;
  private readonly haProfileStatus: GaugeFamily;
  private readonly statusValues: Record<StatusValueKey, GaugeFamily>;
  private readonly synceQl: GaugeFamily;
  private readonly synceClockQuality: GaugeFamily;
  private readonly restarts: Family<CounterChild>;
  /** OffsetSeries by from → process → iface (the label before aliasing). */
  private readonly offsetSets = new Map<string, Map<string, Map<string, OffsetSeries>>>();

  /**
   * `aliases`: the interface label of offsets, clock state, nmea status and the dpll / gnss value gauges (roles,
   * synce4l and CLOCK_REALTIME keep the real name).
   */
  constructor(
    readonly node: string,
    readonly aliases: PortAliases = PortAliases.none,
  ) {
    const registers = [this.registry];
    const gauge = (name: string, help: string, labelNames: string[]): GaugeFamily =>
      new GaugeFamily(`openshift_ptp_${name}`, help, labelNames, registers);
    const offsetLabels = ['from', 'process', 'node', 'iface'];
    this.offset = gauge('offset_ns', 'Offset from the master (ns).', offsetLabels);
    this.maxOffset = gauge('max_offset_ns', 'Maximum offset from the master (ns).', offsetLabels);
    this.freq = gauge('frequency_adjustment_ns', 'Frequency adjustment (ppb).', offsetLabels);
    this.delay = gauge('delay_ns', 'Path delay (ns).', offsetLabels);
    this.clockState = gauge('clock_state', 'Clock state: 0 FREERUN, 1 LOCKED, 2 HOLDOVER.', [
      'process',
      'node',
      'iface',
    ]);
    this.role = gauge('interface_role', 'Port role: 0 PASSIVE, 1 SLAVE, 2 MASTER, 3 FAULTY, 4 UNKNOWN, 5 LISTENING.', [
      'process',
      'node',
      'iface',
    ]);
    this.threshold = gauge('threshold', 'Clock thresholds of a profile.', ['threshold', 'node', 'profile']);
    this.nmea = gauge('nmea_status', 'NMEA status: 0 unavailable, 1 available.', ['process', 'node', 'iface']);
    this.clockClass = gauge('clock_class', 'PTP clock class.', ['process', 'config', 'node']);
    this.processStatus = gauge('process_status', 'PTP process status: 0 DOWN, 1 UP.', ['process', 'node', 'config']);
    this.haProfileStatus = gauge(
      'ha_profile_status',
      'HA profile state as phc2sys reports it (1 active, 0 inactive).',
      ['process', 'node', 'profile'],
    );
    const valueLabels = ['from', 'process', 'node', 'iface'];
    this.statusValues = {
      frequency_status: gauge('frequency_status', 'DPLL frequency status as the daemon reports it.', valueLabels),
      phase_status: gauge('phase_status', 'DPLL phase status as the daemon reports it.', valueLabels),
      pps_status: gauge('pps_status', 'DPLL 1PPS status as the daemon reports it.', valueLabels),
      gnss_status: gauge(
        'gnss_status',
        'GNSS fix status as the daemon reports it (0 no fix … 5 time only).',
        valueLabels,
      ),
    };
    // profile = the config name, as the reference labels it.
    const synceLabels = ['process', 'node', 'profile', 'network_option', 'iface', 'device'];
    this.synceQl = gauge(
      'synce_ssm_ql',
      'SyncE quality level byte (ql_type SSM or Extended SSM; 0xFF when not extended).',
      [...synceLabels.slice(0, 5), 'device', 'ql_type'],
    );
    this.synceClockQuality = gauge(
      'synce_clock_quality',
      'SyncE clock quality: SSM + extended SSM (e.g. option 1 PRTC = 34, PRC = 257; option 2 PRTC = 33).',
      synceLabels,
    );
    const rc = new Counter({
      name: 'openshift_ptp_process_restart_count',
      help: 'Times a PTP process reported UP.',
      labelNames: ['process', 'node', 'config'],
      registers,
    });
    this.restarts = new Family((v) => rc.labels(...v));
  }

  /** offset, max offset, frequency adjustment, delay; `undefined` values are left alone. */
  offsets(
    from: string,
    process: string,
    iface: string,
    offset: number,
    maxOffset: number,
    freq: number | undefined,
    delay: number | undefined,
  ): void {
    this.offsetSeries(from, process, iface).set(offset, maxOffset, freq, delay);
  }

  /**
   * The offset gauges of one clock, for a caller that keeps them (the line parser keeps them on its config). The
   * series are created here but exported only once a value is set.
   */
  offsetSeries(from: string, process: string, iface: string): OffsetSeries {
    let byProcess = this.offsetSets.get(from);
    if (byProcess === undefined) this.offsetSets.set(from, (byProcess = new Map()));
    let byIface = byProcess.get(process);
    if (byIface === undefined) byProcess.set(process, (byIface = new Map()));
    let set = byIface.get(iface);
    if (set === undefined) {
      const n = this.node;
      const label = this.aliases.of(iface);
      set = new OffsetSeries(
        this.offset.get(from, process, n, label),
        this.maxOffset.get(from, process, n, label),
        this.freq.get(from, process, n, label),
        this.delay.get(from, process, n, label),
      );
      byIface.set(iface, set);
    }
    return set;
  }

  /** synce4l clocks (ports and devices) keep their own name, as the reference labels them; others the alias. */
  setClockState(process: string, iface: string, state: ClockStateName): void {
    const label = process === 'synce4l' ? iface : this.aliases.of(iface);
    this.clockState.get(process, this.node, label).set(clockStateValue[state]);
  }

  /** Drops a clock_state series (CLOCK_REALTIME of the owner that handed it over). */
  removeClockState(process: string, iface: string): void {
    this.clockState.remove(process, this.node, process === 'synce4l' ? iface : this.aliases.of(iface));
  }

  setRole(process: string, iface: string, role: RoleName): void {
    this.role.get(process, this.node, iface).set(roleValue[role]);
  }

  setThreshold(
    profile: string,
    name: 'MinOffsetThreshold' | 'MaxOffsetThreshold' | 'HoldOverTimeout',
    v: number,
  ): void {
    this.threshold.get(name, this.node, profile).set(v);
  }

  setNmeaStatus(process: string, iface: string, v: number): void {
    this.nmea.get(process, this.node, this.aliases.of(iface)).set(v);
  }

  setClockClass(process: string, config: string, v: number): void {
    this.clockClass.get(process, config, this.node).set(v);
  }

  setProcessStatus(process: string, config: string, up: boolean): void {
    this.processStatus.get(process, this.node, config).set(up ? 1 : 0);
    if (up) this.restarts.get(process, this.node, config).inc();
  }

  /** One of the dpll / gnss value gauges (from = process = the line's process; iface = the interface's alias). */
  setStatusValue(key: StatusValueKey, process: string, iface: string, v: number): void {
    this.statusValues[key].get(process, process, this.node, this.aliases.of(iface)).set(v);
  }

  /** synce4l clock quality: the SSM and extended SSM bytes, and their sum. */
  setSynceQuality(
    process: string,
    config: string,
    networkOption: string,
    iface: string,
    device: string,
    ql: number,
    extQl: number | undefined,
  ): void {
    const ext = extQl ?? 0xff;
    this.synceQl.getN([process, this.node, config, networkOption, iface, device, 'SSM']).set(ql);
    this.synceQl.getN([process, this.node, config, networkOption, iface, device, 'Extended SSM']).set(ext);
    this.synceClockQuality.getN([process, this.node, config, networkOption, iface, device]).set(ql + ext);
  }

  setHaProfileStatus(process: string, profile: string, v: number): void {
    this.haProfileStatus.get(process, this.node, profile).set(v);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Drops every series: nothing of this generation survives a restart. */
  clear(): void {
    this.registry.clear();
  }
}
