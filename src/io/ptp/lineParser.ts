// The PTP log line parser: the data plane. A plain loop over a batch of lines with cheap token splits; metric updates
// are applied directly to the generation's metrics, and only clock verdict *changes* (edges) are returned, for the
// clock-state statecharts. Never throws: anything unrecognised produces no metric and no edge and is counted.
import { inRange, defaultThresholds, type Thresholds } from './thresholds.js';
import type { PtpMetrics, RoleName, StatusValueKey } from './metrics.js';
import type { ClockEdge, ClockVerdict, OsClockOwnerSignal, OsClockSignal } from '../../machines/ptp/events.js';

export type { ClockEdge, ClockVerdict } from '../../machines/ptp/events.js';

/** A config as the parser sees it (an INI file joined with its ConfigMap profile). */
export interface ParserConfig {
  name: string;
  process: string;
  profile: string | undefined;
  interfaces: string[];
  /** Roles at load (masterOnly/serverOnly), parallel to `interfaces`; ptp4l configs only. */
  roles: RoleName[];
  thresholds: Thresholds;
  /** T-BC / T-GM rules apply to this config's clocks (from its ConfigMap profile); default OC. */
  clockType?: 'OC' | 'T-BC' | 'T-GM';
  /** The profile is an HA profile (`ptpSettings.haProfiles`): its phc2sys config has no interfaces, lines count. */
  ha?: boolean;
}

export interface ParserStats {
  parsed: number;
  ignored: number;
  /** Recognised lines dropped because they name a process or interface the configuration does not have. */
  unknownClock: number;
}

/** The processes that may own a clock (status-line processes included); any other name in a line is dropped. */
export const clockProcesses: ReadonlySet<string> = new Set([
  'ptp4l',
  'phc2sys',
  'ts2phc',
  'chronyd',
  'synce4l',
  'GM',
  'T-BC',
  'dpll',
  'gnss',
]);

/** The offset CEP reports for a clock that is down (ts2phc process status 0). */
export const freeRunOffset = -9999999999999999;

/** At most this many config names without a file get a process_status series. */
const maxOrphanConfigs = 64;

const configName = /^(ptp4l|ts2phc|phc2sys|synce4l|chronyd)\.[0-9]*\.config$/;
const whitespace = /\s/;

const isSpace = (c: number): boolean =>
  c === 32 || (c >= 9 && c <= 13) || (c >= 128 && whitespace.test(String.fromCharCode(c)));

/**
 * line.slice(from).trim().split(/[\s:]+/), without the regex engine on the line path (the split was a tenth of the
 * ingest time, docs/performance.md P1): trim bounds first, then a scan for runs of whitespace and ':'.
 */
export function tokens(line: string, from: number): string[] {
  let s = from;
  let e = line.length;
  while (s < e && isSpace(line.charCodeAt(s))) s++;
  while (e > s && isSpace(line.charCodeAt(e - 1))) e--;
  if (s === e) return [''];
  const out: string[] = [];
  let start = -1;
  for (let i = s; i < e; i++) {
    const c = line.charCodeAt(i);
    if (c === 58 || isSpace(c)) {
      if (start >= 0) out.push(line.slice(start, i));
      else if (i === s) out.push(''); // split gives an empty first field when the text starts with ':'
      start = -1;
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) out.push(line.slice(start, e));
  else out.push(''); // the text ended with ':'
  return out;
}
const clockRealtime = 'CLOCK_REALTIME';

interface ConfigState {
  cfg: ParserConfig;
  roles: RoleName[];
  slaveIface: string | undefined;
}

const chronydConfig = (name: string): ConfigState => ({
  cfg: { name, process: 'chronyd', profile: undefined, interfaces: [], roles: [], thresholds: defaultThresholds },
  roles: [],
  slaveIface: undefined,
});

/** s-state of an offset line: s0/s1 FREERUN, s2/s3 LOCKED (range checked), others none. */
function offsetVerdict(s: string | undefined, offset: number, t: Thresholds): ClockVerdict | undefined {
  switch (s) {
    case 's0':
    case 's1':
      return 'freerun';
    case 's2':
    case 's3':
      return inRange(t, offset) ? 'locked' : 'outOfRange';
    default:
      return undefined;
  }
}

/**
 * s-state of a GM / T-BC / dpll / gnss status line: s0 FREERUN, s1 HOLDOVER, s2 LOCKED, others FREERUN. These are
 * the daemon's verdict: reported as given (no range check, no sidecar holdover timer).
 */
function statusVerdict(s: string | undefined): ClockVerdict {
  return s === 's2' ? 'daemonLocked' : s === 's1' ? 'daemonHoldover' : 'freerun';
}

/** phc2sys's automatic source selection lines (osClockDiscipline), or undefined for any other line. */
function selectionSignal(t: string[], line: string): OsClockSignal | undefined {
  const t0 = t[0];
  if (t0 === 'reconfiguring' && t[1] === 'after') return 'reconfiguring';
  if (t0 === 'selecting') {
    if (t[2] === 'for') return t[1] === 'CLOCK_REALTIME' ? 'realtimeSelected' : 'sourceSelected';
    if (t[2] === 'as' && t[t.length - 2] === 'source') return 'sourceMarker';
    return undefined;
  }
  if (t0 === 'skipping' && line.endsWith('is already selected')) return 'alreadySelected';
  if (line.endsWith('source clock not ready, waiting') || line.endsWith('no PHC ready, waiting')) return 'aborted';
  if (line.endsWith('multiple source clocks available, postponing sync')) return 'aborted';
  return undefined;
}

/**
 * The port-transition rules of the reference, in order. Returns the new role and whether a SLAVE port losing its
 * role puts the clock in HOLDOVER; undefined = ignored.
 */
export function portTransition(
  from: string,
  to: string,
  event: string,
): { role: RoleName; holdover: boolean } | undefined {
  const uncalOrListening = from === 'UNCALIBRATED' || from === 'LISTENING';
  if (uncalOrListening && to === 'SLAVE') return { role: 'SLAVE', holdover: false };
  if (to === 'PASSIVE') return { role: 'PASSIVE', holdover: false };
  if (uncalOrListening && to === 'MASTER') return { role: 'MASTER', holdover: false };
  if (
    event === 'FAULT_DETECTED' ||
    event === 'SYNCHRONIZATION_FAULT' ||
    (from === 'SLAVE' && to === 'UNCALIBRATED') ||
    ((from === 'MASTER' || from === 'LISTENING') && to === 'UNCALIBRATED' && event === 'RS_SLAVE')
  ) {
    return { role: 'FAULTY', holdover: true };
  }
  if (from === 'SLAVE' && (to === 'MASTER' || to === 'GRAND_MASTER')) return { role: 'MASTER', holdover: true };
  if (from === 'SLAVE' && to === 'LISTENING') return { role: 'LISTENING', holdover: true };
  if ((from === 'FAULTY' || from === 'UNCALIBRATED' || from === 'INITIALIZING') && to === 'LISTENING') {
    return { role: 'LISTENING', holdover: false };
  }
  return undefined;
}

export class PtpLineParser {
  readonly stats: ParserStats = { parsed: 0, ignored: 0, unknownClock: 0 };
  /** The last `<process>/<iface>` dropped as unknown (for the rate-limited warning), at most 200 characters. */
  lastUnknownClock = '';
  private readonly configs = new Map<string, ConfigState>();
  /** Every interface of every config (and CLOCK_REALTIME): the only names a clock or a metric series may carry. */
  private readonly ifaces = new Set<string>([clockRealtime]);
  private readonly clockClass = new Map<string, number>();
  /** Profile names of the configs (an HA status line must name one). */
  private readonly profiles = new Set<string>();
  private readonly lastVerdict = new Map<string, Map<string, ClockVerdict>>();
  private edges: ClockEdge[] = [];

  constructor(
    private readonly metrics: PtpMetrics,
    configs: readonly ParserConfig[],
  ) {
    for (const cfg of configs) {
      const roles = [...cfg.roles];
      const slaveIdx = roles.indexOf('SLAVE');
      this.configs.set(cfg.name, { cfg, roles, slaveIface: slaveIdx >= 0 ? cfg.interfaces[slaveIdx] : undefined });
      for (const i of cfg.interfaces) this.ifaces.add(i);
      if (cfg.profile !== undefined) this.profiles.add(cfg.profile);
    }
  }

  /** Adds names (e.g. interface aliases) that clocks and series may carry. */
  allowInterfaces(names: Iterable<string>): void {
    for (const n of names) this.ifaces.add(n);
  }

  /** Profiles with NTP failover (`chronydOpts`), and the last CLOCK_REALTIME owner signal sent for each. */
  private readonly failover = new Map<string, OsClockOwnerSignal>();

  /** The profiles that run chronyd: their chronyd and phc2sys CLOCK_REALTIME lines show who owns it. */
  ntpFailover(profiles: Iterable<string>): void {
    for (const p of profiles) this.failover.set(p, 'phc2sysSample');
  }

  /**
   * One owner signal for the profile's osClockOwner chart, only when it differs from the last one (the phc2sys
   * samples of a phc2sys-owned profile send nothing). After the line's verdict edge: the clock's new state is
   * counted before the OS clock is derived from the new owner.
   */
  private ownerSignal(st: ConfigState, signal: OsClockOwnerSignal): void {
    const profile = st.cfg.profile ?? '';
    const last = this.failover.get(profile);
    if (last === undefined || last === signal) return;
    this.failover.set(profile, signal);
    this.edges.push({
      key: `os-clock-owner/${profile}`,
      process: signal === 'chronydSource' ? 'chronyd' : 'phc2sys',
      iface: clockRealtime,
      profile,
      holdoverTimeoutMs: 0,
      verdict: signal,
    });
  }

  /** A clock (and its series) may exist only for a known process and a configured interface; else counted. */
  private known(process: string, iface: string): boolean {
    if (clockProcesses.has(process) && this.ifaces.has(iface)) return true;
    this.stats.unknownClock++;
    this.lastUnknownClock = `${process}/${iface}`.slice(0, 200);
    return false;
  }

  /** Parses a batch; returns the clock verdict edges it produced, in line order. */
  ingest(lines: readonly string[]): ClockEdge[] {
    this.edges = [];
    for (let i = 0; i < lines.length; i++) {
      let ok = false;
      try {
        ok = this.line(lines[i] ?? '');
      } catch {
        ok = false; // defensive: a parser bug must never take the sidecar down
      }
      if (ok) this.stats.parsed++;
      else this.stats.ignored++;
    }
    return this.edges;
  }

  private verdict(
    st: ConfigState,
    process: string,
    iface: string,
    verdict: ClockVerdict,
    always = false,
    offset?: number,
    synceDevice?: string,
  ): void {
    // Nested maps: the hot path (same verdict again) builds no key string.
    let byIface = this.lastVerdict.get(process);
    if (byIface === undefined) this.lastVerdict.set(process, (byIface = new Map()));
    if (!always && byIface.get(iface) === verdict) return;
    byIface.set(iface, verdict);
    const key = `${process}/${iface}`;
    const edge: ClockEdge = {
      key,
      process,
      iface,
      profile: st.cfg.profile ?? '',
      holdoverTimeoutMs: st.cfg.thresholds.holdOverTimeout * 1000,
      verdict,
    };
    if (offset !== undefined) edge.offset = offset;
    if (synceDevice !== undefined) edge.synce = { device: synceDevice, level: 'port' };
    const cc = this.clockClass.get(st.cfg.name);
    if (cc !== undefined) edge.clockClass = cc;
    this.edges.push(edge);
  }

  /** Profiles whose phc2sys selection window may be open: their next CLOCK_REALTIME sample is a signal too. */
  private readonly selecting = new Set<string>();

  /** One phc2sys selection line (or the sample that closes a window) for the profile's osClockDiscipline chart. */
  private selectionEdge(st: ConfigState, signal: OsClockSignal): void {
    const profile = st.cfg.profile ?? '';
    if (signal === 'realtimeSelected' || signal === 'realtimeSample') this.selecting.delete(profile);
    else this.selecting.add(profile);
    this.edges.push({
      key: `phc2sys-discipline/${profile}`,
      process: 'phc2sys',
      iface: clockRealtime,
      profile,
      holdoverTimeoutMs: 0,
      verdict: signal,
    });
  }

  /** Distinct config names without a file whose process status was recorded (bounded). */
  private readonly orphanConfigs = new Set<string>();
  private chronydConfigs = 0;
  /** The last DPLL offset per (configured) interface: the GM's offset. */
  private readonly dpllOffset = new Map<string, number>();
  /** Interfaces that have ts2phc offset series, per config (set to the FreeRun value when ts2phc goes down). */
  private readonly ts2phcIfaces = new Map<string, Set<string>>();

  /** PTP_PROCESS_STATUS: parsed before any config check (a config may have no file), with its down effects. */
  private processStatus(process: string, tag: string, st: ConfigState | undefined, v: string | undefined): boolean {
    if (v !== '0' && v !== '1') return false;
    if (!clockProcesses.has(process)) return this.known(process, tag) && false;
    if (st === undefined && !this.orphanConfigs.has(tag)) {
      if (this.orphanConfigs.size >= maxOrphanConfigs) return this.known('', tag) && false;
      this.orphanConfigs.add(tag);
    }
    this.metrics.setProcessStatus(process, tag, v === '1');
    if (v === '1' || st === undefined) return true;
    // Process down: phc2sys → the OS clock runs free (unless chronyd takes it over: the clock's guard
    // chronydTakesOver); ts2phc → FreeRun offsets and FREERUN; ptp4l → its clock loses its reference (T-BC: FREERUN
    // at once; otherwise HOLDOVER with the sidecar's timer).
    if (process === 'phc2sys') {
      // With NTP failover there is a state to keep only when phc2sys reported CLOCK_REALTIME before (as the
      // reference: its CLOCK_REALTIME stats exist); otherwise chronyd's first source line starts the OS clock.
      const seen = this.lastVerdict.get(process)?.has(clockRealtime) ?? false;
      if (seen || !this.failover.has(st.cfg.profile ?? '')) this.verdict(st, process, clockRealtime, 'processDown');
    } else if (process === 'ts2phc') {
      for (const iface of this.ts2phcIfaces.get(tag) ?? []) {
        this.metrics.offsets('master', process, iface, freeRunOffset, freeRunOffset, undefined, undefined);
        this.verdict(st, process, iface, 'freerun');
      }
    } else if (process === 'ptp4l') {
      const iface = st.slaveIface ?? st.cfg.interfaces[0];
      if (iface !== undefined) this.verdict(st, process, iface, st.cfg.clockType === 'T-BC' ? 'freerun' : 'holdover');
    }
    return true;
  }

  /** One line; true when it was recognised and applied. */
  private line(line: string): boolean {
    const lb = line.indexOf('[');
    if (lb <= 0) return false;
    const process = line.slice(0, lb);
    const rb = line.indexOf(']', lb);
    if (rb < 0) return false;
    const tb = line.indexOf('[', rb);
    if (tb < 0) return false;
    const te = line.indexOf(']', tb);
    if (te < 0) return false;
    let tag = line.slice(tb + 1, te);
    const colon = tag.indexOf(':');
    if (colon >= 0) tag = tag.slice(0, colon);
    if (!configName.test(tag)) return false;
    const lookup = tag.startsWith('ts2phc.') ? `ptp4l.${tag.slice(7)}` : tag;
    let st = this.configs.get(lookup) ?? this.configs.get(tag);
    const t = tokens(line, te + 1);
    // linuxptp-daemon writes `chronyd[PID][chronyd.0.config]: Selected source …`: the text starts with ':'.
    if (t[0] === '' && t.length > 1) t.shift();
    const t0 = t[0] ?? '';
    const t1 = t[1];
    if (t0 === 'PTP_PROCESS_STATUS') return this.processStatus(process, tag, st, t1);
    if (st === undefined) {
      if (process !== 'chronyd') return false;
      // chronyd needs no file; its config names are bounded like those of process status lines.
      if (this.chronydConfigs >= maxOrphanConfigs) return this.known('', tag) && false;
      this.chronydConfigs++;
      st = chronydConfig(tag);
      this.configs.set(tag, st);
    } else if (t0 === 'ptp_ha_profile' && t[2] === 'state') {
      // HA: `ptp_ha_profile <profile> state <n>`; the phc2sys config of an HA profile has no interfaces.
      const profile = t1 ?? '';
      const v = Number(t[3]);
      if (!this.profiles.has(profile) || !Number.isFinite(v)) return false;
      this.metrics.setHaProfileStatus(process, profile, v);
      return true;
    } else if (
      process !== 'chronyd' &&
      (st.cfg.profile === undefined || (st.cfg.interfaces.length === 0 && !(st.cfg.ha && process === 'phc2sys')))
    ) {
      return false;
    }
    const th = st.cfg.thresholds;
    const m = this.metrics;

    if (process === 'ptp4l' && t0 === 'master' && t1 === 'offset') {
      // master offset <ns> s<N> freq <ppb> path delay <ns>
      const offset = Number(t[2]);
      const iface = st.slaveIface ?? st.cfg.interfaces[0];
      if (Number.isNaN(offset) || iface === undefined) return false;
      m.offsets('master', process, iface, offset, offset, num(t[5]), num(t[8]));
      const v = offsetVerdict(t[3], offset, th);
      if (v) this.verdict(st, process, iface, v, false, offset);
      return true;
    }
    if (process === 'ptp4l' && t0 === 'rms' && t[2] === 'max') {
      // rms <ns> max <ns> freq <ppb> +/- <n> delay <ns> +/- <n>: the summary of the SLAVE port
      const rms = Number(t1);
      const max = Number(t[3]);
      const iface = st.slaveIface ?? st.cfg.interfaces[0];
      if (Number.isNaN(rms) || Number.isNaN(max) || iface === undefined) return false;
      m.offsets('master', process, iface, rms, max, num(t[5]), t[8] === 'delay' ? num(t[9]) : undefined);
      return true;
    }
    if (t0 === clockRealtime) {
      if ((t1 === 'phc' || t1 === 'sys') && t[2] === 'offset') {
        // CLOCK_REALTIME phc|sys offset <ns> s<N> freq <ppb> delay <ns>
        const offset = Number(t[3]);
        if (Number.isNaN(offset) || !this.known(process, clockRealtime)) return false;
        m.offsets(t1, process, clockRealtime, offset, offset, num(t[6]), num(t[8]));
        const v = offsetVerdict(t[4], offset, th);
        if (v) this.verdict(st, process, clockRealtime, v, false, offset);
        // A sample proves phc2sys disciplines CLOCK_REALTIME: it closes an open selection window.
        if (this.selecting.size > 0 && process === 'phc2sys' && this.selecting.has(st.cfg.profile ?? '')) {
          this.selectionEdge(st, 'realtimeSample');
        }
        // NTP failover: a phc2sys sample shows phc2sys disciplines CLOCK_REALTIME (again).
        if (this.failover.size > 0 && process === 'phc2sys') this.ownerSignal(st, 'phc2sysSample');
        return true;
      }
      if (t1 === 'rms' && t[3] === 'max') {
        // CLOCK_REALTIME rms <ns> max <ns> freq <ppb> +/- <n> delay <ns> +/- <n>
        const rms = Number(t[2]);
        const max = Number(t[4]);
        if (Number.isNaN(rms) || Number.isNaN(max) || !this.known(process, clockRealtime)) return false;
        m.offsets('phc', process, clockRealtime, rms, max, num(t[6]), t[9] === 'delay' ? num(t[10]) : undefined);
        return true;
      }
      return false;
    }
    if (process === 'phc2sys') {
      const signal = selectionSignal(t, line);
      if (signal !== undefined) {
        this.selectionEdge(st, signal);
        return true;
      }
    }
    // <iface> master offset <ns> s<N> freq <ppb> [holdover] (ts2phc), or, newer linuxptp, <iface> offset <ns> s<N> …
    const masterForm = t1 === 'master' && t[2] === 'offset';
    const plainForm = process === 'ts2phc' && t1 === 'offset' && t[3] !== 'T-BC-STATUS';
    if (masterForm || plainForm) {
      const at = masterForm ? 3 : 2;
      const offset = Number(t[at]);
      if (Number.isNaN(offset) || !this.known(process, t0)) return false;
      const isTs2phc = process === 'ts2phc';
      m.offsets('master', process, t0, offset, offset, num(t[at + 3]), isTs2phc ? 0 : undefined);
      if (isTs2phc) {
        let set = this.ts2phcIfaces.get(tag);
        if (set === undefined) this.ts2phcIfaces.set(tag, (set = new Set()));
        set.add(t0);
      }
      // A trailing `holdover` is ts2phc's own verdict (no sidecar timer).
      const v = t[t.length - 1] === 'holdover' ? 'daemonHoldover' : offsetVerdict(t[at + 1], offset, th);
      if (v) this.verdict(st, process, t0, v, false, offset);
      return true;
    }
    if (t1 === 'nmea_status') {
      const v = Number(t[2]);
      if ((v !== 0 && v !== 1) || !this.known(process, t0)) return false;
      m.setNmeaStatus(process, t0, v);
      return true;
    }
    if (t1 === 'T-GM-STATUS') {
      if (!this.known(process, t0)) return false;
      // The GM line carries no offset: the GM's offset is the DPLL's last offset on that interface.
      const o = this.dpllOffset.get(t0);
      if (o !== undefined) m.offsets(process, process, t0, o, o, undefined, undefined);
      this.verdict(st, process, t0, statusVerdict(t[2]), false, o);
      return true;
    }
    if (t[3] === 'T-BC-STATUS' && t1 === 'offset') {
      // <iface> offset <ns> T-BC-STATUS s<N>
      const offset = Number(t[2]);
      if (!this.known(process, t0)) return false;
      const o = Number.isNaN(offset) ? undefined : offset;
      if (o !== undefined) m.offsets(process, process, t0, o, o, undefined, undefined);
      const v = statusVerdict(t[4]);
      this.verdict(st, process, t0, v, false, o);
      // The T-BC state is imposed on ts2phc's clock of the interface (a T-BC's ts2phc follows its upstream).
      if (st.cfg.clockType === 'T-BC' && this.ts2phcKnown(t0)) this.verdict(st, 'ts2phc', t0, v, false, o);
      return true;
    }
    if (t1 === 'frequency_status' || (process === 'dpll' && t[t.length - 1]?.startsWith('s'))) {
      // dpll: <iface> frequency_status <n> offset <ns> phase_status <n> pps_status <n> s<N>, the pairs in any order
      const kv = new Map<string, string>();
      for (let i = 1; i + 1 < t.length; i += 2) kv.set(t[i] ?? '', t[i + 1] ?? '');
      if (!kv.has('frequency_status') || !kv.has('pps_status') || !this.known(process, t0)) return false;
      const offset = Number(kv.get('offset'));
      const o = kv.has('offset') && !Number.isNaN(offset) ? offset : undefined;
      if (o !== undefined) {
        m.offsets(process, process, t0, o, o, undefined, undefined);
        this.dpllOffset.set(t0, o);
      }
      this.statusValue(process, t0, 'frequency_status', kv.get('frequency_status'));
      this.statusValue(process, t0, 'phase_status', kv.get('phase_status'));
      this.statusValue(process, t0, 'pps_status', kv.get('pps_status'));
      this.verdict(st, process, t0, statusVerdict(t[t.length - 1]), false, o);
      return true;
    }
    if (t1 === 'gnss_status' && t[3] === 'offset') {
      // gnss: <iface> gnss_status <n> offset <ns> s<N>
      const offset = Number(t[4]);
      if (!this.known(process, t0)) return false;
      if (!Number.isNaN(offset)) m.offsets(process, process, t0, offset, offset, undefined, undefined);
      this.statusValue(process, t0, 'gnss_status', t[2]);
      this.verdict(st, process, t0, statusVerdict(t[5]), false, Number.isNaN(offset) ? undefined : offset);
      return true;
    }
    if (process === 'synce4l') return this.synce(st, tag, t);
    if (t0 === 'CLOCK_CLASS_CHANGE') {
      const v = Number(t1);
      if (t1 === undefined || t1 === '' || Number.isNaN(v) || !clockProcesses.has(process)) return false;
      m.setClockClass(process, tag, v);
      this.clockClass.set(tag, v);
      return true;
    }
    if (t0 === 'port' && process === 'ptp4l') return this.port(st, t);
    if (process === 'chronyd') {
      // Matched anywhere in the line, as the reference does.
      // In a profile with NTP failover, either line also shows chronyd owns CLOCK_REALTIME.
      if (line.includes('Selected source')) {
        this.verdict(st, process, clockRealtime, 'locked');
        this.ownerSignal(st, 'chronydSource');
        return true;
      }
      if (line.includes('no selectable sources')) {
        this.verdict(st, process, clockRealtime, 'freerun');
        this.ownerSignal(st, 'chronydSource');
        return true;
      }
    }
    return false;
  }

  private ts2phcKnown(iface: string): boolean {
    for (const set of this.ts2phcIfaces.values()) if (set.has(iface)) return true;
    return false;
  }

  private statusValue(process: string, iface: string, key: StatusValueKey, v: string | undefined): void {
    const n = Number(v);
    if (v !== undefined && v !== '' && Number.isFinite(n)) this.metrics.setStatusValue(key, process, iface, n);
  }

  /**
   * synce4l, per port of a device:
   * `<iface> device <dev> eec_state <STATE> network_option <n> s<N>` → the port's clock (s0 FREERUN, s1 HOLDOVER,
   * s2 LOCKED: the daemon's verdict);
   * `<iface> clock_quality <QL> device <dev> [ext_ql <x>] network_option <n> ql <x> s<N>` → synce_ssm_ql (SSM,
   * Extended SSM = ext_ql or 0xFF) and synce_clock_quality (their sum).
   */
  private synce(st: ConfigState, tag: string, t: string[]): boolean {
    const iface = t[0] ?? '';
    const kv = new Map<string, string>();
    for (let i = 1; i + 1 < t.length; i += 2) kv.set(t[i] ?? '', t[i + 1] ?? '');
    const device = kv.get('device');
    if (device === undefined || (!this.ifaces.has(device) && !this.ifaces.has(`<${device}>`))) {
      return this.known('synce4l', `${iface}@${device ?? ''}`) && false;
    }
    if (!this.known('synce4l', iface)) return false;
    const networkOption = kv.get('network_option') ?? '';
    if (kv.has('eec_state')) {
      this.verdict(st, 'synce4l', iface, statusVerdict(t[t.length - 1]), false, undefined, device);
      return true;
    }
    if (t[1] === 'clock_quality') {
      const ql = Number(kv.get('ql'));
      const ext = kv.has('ext_ql') ? Number(kv.get('ext_ql')) : undefined;
      if (!Number.isInteger(ql) || (ext !== undefined && !Number.isInteger(ext))) return false;
      this.metrics.setSynceQuality('synce4l', tag, networkOption, iface, device, ql, ext);
      return true;
    }
    return false;
  }

  /** port <n> (<iface>)?: <FROM> to <TO> on <EVENT> */
  private port(st: ConfigState, t: string[]): boolean {
    const n = Number(t[1]);
    if (!Number.isInteger(n) || n < 1) return false;
    const iface = st.cfg.interfaces[n - 1];
    if (iface === undefined) return false;
    const to = t.indexOf('to', 3);
    if (to < 0) return false;
    const from = t[to - 1] ?? '';
    const rule = portTransition(from, t[to + 1] ?? '', t[to + 2] === 'on' ? (t[to + 3] ?? '') : '');
    if (rule === undefined) return false;
    const before = st.roles[n - 1];
    st.roles[n - 1] = rule.role;
    this.metrics.setRole('ptp4l', iface, rule.role);
    if (rule.role === 'SLAVE') st.slaveIface = iface;
    // Port events are rare edges themselves: always sent, not deduplicated.
    if (rule.holdover && (before === 'SLAVE' || from === 'SLAVE')) this.verdict(st, 'ptp4l', iface, 'holdover', true);
    return true;
  }
}

function num(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const v = Number(s);
  return Number.isNaN(v) ? undefined : v;
}
