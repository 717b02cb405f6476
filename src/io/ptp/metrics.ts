// The openshift_ptp_* metrics of one sidecar generation, on their own prom-client Registry (dropped on restart).
// Label children are cached per series so the line path does not re-hash label sets on every line.
import { Counter, Gauge, Registry } from 'prom-client';

export const clockStateValue = { FREERUN: 0, LOCKED: 1, HOLDOVER: 2 } as const;
export type ClockStateName = keyof typeof clockStateValue;

export const roleValue = { PASSIVE: 0, SLAVE: 1, MASTER: 2, FAULTY: 3, UNKNOWN: 4, LISTENING: 5 } as const;
export type RoleName = keyof typeof roleValue;

type GaugeChild = ReturnType<Gauge['labels']>;
type CounterChild = ReturnType<Counter['labels']>;

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
  private readonly offset: Family<GaugeChild>;
  private readonly maxOffset: Family<GaugeChild>;
  private readonly freq: Family<GaugeChild>;
  private readonly delay: Family<GaugeChild>;
  private readonly clockState: Family<GaugeChild>;
  private readonly role: Family<GaugeChild>;
  private readonly threshold: Family<GaugeChild>;
  private readonly nmea: Family<GaugeChild>;
  private readonly clockClass: Family<GaugeChild>;
  private readonly processStatus: Family<GaugeChild>;
  private readonly restarts: Family<CounterChild>;

  constructor(readonly node: string) {
    const registers = [this.registry];
    const gauge = (name: string, help: string, labelNames: string[]): Family<GaugeChild> => {
      const g = new Gauge({ name: `openshift_ptp_${name}`, help, labelNames, registers });
      return new Family((v) => g.labels(...v));
    };
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
    const n = this.node;
    this.offset.get(from, process, n, iface).set(offset);
    this.maxOffset.get(from, process, n, iface).set(maxOffset);
    if (freq !== undefined) this.freq.get(from, process, n, iface).set(freq);
    if (delay !== undefined) this.delay.get(from, process, n, iface).set(delay);
  }

  setClockState(process: string, iface: string, state: ClockStateName): void {
    this.clockState.get(process, this.node, iface).set(clockStateValue[state]);
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
    this.nmea.get(process, this.node, iface).set(v);
  }

  setClockClass(process: string, config: string, v: number): void {
    this.clockClass.get(process, config, this.node).set(v);
  }

  setProcessStatus(process: string, config: string, up: boolean): void {
    this.processStatus.get(process, this.node, config).set(up ? 1 : 0);
    if (up) this.restarts.get(process, this.node, config).inc();
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Drops every series: nothing of this generation survives a restart. */
  clear(): void {
    this.registry.clear();
  }
}
