// The PTP log line parser: the data plane. A plain loop over a batch of lines with cheap token splits; metric updates
// are applied directly to the generation's metrics, and only clock verdict *changes* (edges) are returned, for the
// clock-state statecharts. Never throws: anything unrecognised produces no metric and no edge and is counted.
import { inRange, defaultThresholds, type Thresholds } from './thresholds.js';
import type { OffsetSeries, PtpMetrics, RoleName, StatusValueKey } from './metrics.js';
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

const isAsciiSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
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
  /** The ptp4l offset gauges of `ptp4lIface` (the SLAVE port, or the first): kept here, not looked up per line. */
  ptp4lSeries: OffsetSeries | undefined;
  ptp4lIface: string | undefined;
  /** Lines of every process apply (a profile and interfaces); otherwise the rule of `PtpLineParser.applies`. */
  appliesAll: boolean;
  /** The interfaces packed as words (packWord), parallel to cfg.interfaces: a token is matched without a loop. */
  ifaceCodes: number[];
  /**
   * Offset gauges kept for the fast path: CLOCK_REALTIME's by [process index × 2 + (sys ? 1 : 0)], an interface's
   * by [process index × interfaces + interface index]; filled on first use (the series metrics.offsetSeries gives).
   */
  realtimeSeries: (OffsetSeries | undefined)[];
  ifaceSeries: (OffsetSeries | undefined)[];
}

const configState = (cfg: ParserConfig, roles: RoleName[]): ConfigState => {
  const slaveIdx = roles.indexOf('SLAVE');
  return {
    cfg,
    roles,
    slaveIface: slaveIdx >= 0 ? cfg.interfaces[slaveIdx] : undefined,
    ptp4lSeries: undefined,
    ptp4lIface: undefined,
    appliesAll: cfg.profile !== undefined && cfg.interfaces.length > 0,
    ifaceCodes: cfg.interfaces.map((i) => packWord(i)),
    realtimeSeries: [],
    ifaceSeries: [],
  };
};

const chronydConfig = (name: string): ConfigState =>
  configState(
    { name, process: 'chronyd', profile: undefined, interfaces: [], roles: [], thresholds: defaultThresholds },
    [],
  );

/** A config tag the fast path knows: its name (the tag's text) and the config it resolves to. */
interface TagEntry {
  name: string;
  st: ConfigState;
  /** ts2phc's interfaces of this tag (the set in the parser's ts2phcIfaces), once it has one. */
  ts2phcIfaces: Set<string> | undefined;
}

/**
 * A word as one number: c0·128^(n−1) + … + c(n−1), the way the fast path packs a word while it scans it. For ASCII
 * words of up to 7 characters it is exact (128^7 = 2^49 < 2^53): equal numbers and lengths = equal words. A longer
 * word's number is the same rounded sum (equal for equal words), so a match of one is checked against the text.
 */
export function packWord(w: string, from = 0, to = w.length): number {
  let h = 0;
  for (let i = from; i < to; i++) h = h * 128 + w.charCodeAt(i);
  return h;
}

/** A word the fast path compares tokens with: its length, its packed number (packWord) and its text. */
interface Word {
  len: number;
  code: number;
  text: string;
}
const word = (text: string): Word => ({ len: text.length, code: packWord(text), text });
const w = {
  PTP_PROCESS_STATUS: word('PTP_PROCESS_STATUS'),
  ptp_ha_profile: word('ptp_ha_profile'),
  master: word('master'),
  offset: word('offset'),
  rms: word('rms'),
  max: word('max'),
  delay: word('delay'),
  CLOCK_REALTIME: word(clockRealtime),
  phc: word('phc'),
  sys: word('sys'),
  holdover: word('holdover'),
  CLOCK_CLASS_CHANGE: word('CLOCK_CLASS_CHANGE'),
  Selected: word('Selected'),
  source: word('source'),
} as const;

/** The clock process names, and each packed (packWord): a name is recognised from its number, no slice. */
const processNames: readonly string[] = [...clockProcesses];
const processCodes: readonly number[] = processNames.map((p) => packWord(p));
const processLengths: readonly number[] = processNames.map((p) => p.length);
const pPtp4l = processNames.indexOf('ptp4l');
const pTs2phc = processNames.indexOf('ts2phc');
const pPhc2sys = processNames.indexOf('phc2sys');
const pChronyd = processNames.indexOf('chronyd');
const pDpll = processNames.indexOf('dpll');
const pSynce4l = processNames.indexOf('synce4l');
/** The processes a config file name may start with (configName). */
const configProcess: readonly boolean[] = processNames.map((p) => /^(ptp4l|ts2phc|phc2sys|synce4l|chronyd)$/.test(p));

/** The index in processNames of the ASCII word packed as `code` with `len` characters, or -1. */
function processIndex(code: number, len: number): number {
  if (len > 7) return -1;
  for (let k = 0; k < processCodes.length; k++) if (processCodes[k] === code && processLengths[k] === len) return k;
  return -1;
}

const s0Code = packWord('s0');
const s1Code = packWord('s1');
const s2Code = packWord('s2');
const s3Code = packWord('s3');

/** The tag index key of `<process>.<digits>.config`: process index, number of digits (≤ 9) and their value. */
const tagKey = (p: number, digits: number, value: number): number => (value * 16 + digits) * 16 + p;

/** The bytes u[at, at + lit.length) are the ASCII text `lit`. */
function same(u: Buffer, at: number, lit: string): boolean {
  for (let k = 0; k < lit.length; k++) if (u[at + k] !== lit.charCodeAt(k)) return false;
  return true;
}

/** The bytes u[at, at + 7) are `.config`. */
const dotConfigAt = (u: Buffer, at: number): boolean =>
  u[at] === 46 &&
  u[at + 1] === 99 &&
  u[at + 2] === 111 &&
  u[at + 3] === 110 &&
  u[at + 4] === 102 &&
  u[at + 5] === 105 &&
  u[at + 6] === 103;

/** A character that is not ASCII (such a line takes the simple path). */
const nonAscii = /[^\x00-\x7f]/;
const nonAsciiAt = /[^\x00-\x7f]/g;

/** The fast path's byte copy of a text is kept between batches up to this size. */
const maxKeptBytes = 1 << 20;

/** At most this many tokens are tracked by offsets; a longer line takes the token-array path. */
const maxFastTokens = 24;

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
      this.configs.set(cfg.name, configState(cfg, [...cfg.roles]));
      for (const i of cfg.interfaces) this.ifaces.add(i);
      if (cfg.profile !== undefined) this.profiles.add(cfg.profile);
    }
    // The tag index: every config name a line may carry, resolved as the simple path resolves it (a ts2phc tag to
    // the ptp4l config of the same number when there is one), so the line path needs no regex and no map of slices.
    for (const name of this.configs.keys()) this.indexTag(name);
    for (const name of this.configs.keys()) if (name.startsWith('ptp4l.')) this.indexTag(`ts2phc.${name.slice(6)}`);
  }

  /** Tag → config, by tagKey of the tag's process, digits and number (exact: no check against the text needed). */
  private readonly tagIndex = new Map<number, TagEntry>();

  /** Adds `tag` to the index when it is a config name and resolves to a config (as the simple path resolves it). */
  private indexTag(tag: string): void {
    const m = /^([a-z0-9]+)\.([0-9]*)\.config$/.exec(tag);
    if (m === null || !configName.test(tag) || m[2]!.length > 9) return; // more digits: the general front path
    const lookup = tag.startsWith('ts2phc.') ? `ptp4l.${tag.slice(7)}` : tag;
    const st = this.configs.get(lookup) ?? this.configs.get(tag);
    if (st === undefined) return;
    const key = tagKey(processNames.indexOf(m[1]!), m[2]!.length, m[2] === '' ? 0 : Number(m[2]));
    this.tagIndex.set(key, { name: tag, st, ts2phcIfaces: this.ts2phcIfaces.get(tag) });
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

  /**
   * Parses a batch, in line order: `text` holds lines each ending with `\n` (as the socket hands them over; a last
   * line without one is a line too), or an array of lines. Returns the clock verdict edges it produced.
   */
  ingest(lines: string | readonly string[]): ClockEdge[] {
    this.edges = [];
    if (typeof lines === 'string') this.run(lines, false);
    else for (let i = 0; i < lines.length; i++) this.run(lines[i] ?? '', true);
    return this.edges;
  }

  /**
   * The fast path reads a copy of the text's characters as bytes (one native write per text: a byte load is about
   * half the cost of a charCodeAt here), which is exact for ASCII. So it takes only ASCII lines: when the text has
   * other characters, the lines that hold one (found by a native regex search) take the simple path.
   */
  private run(s: string, oneLine: boolean): void {
    const n = s.length;
    let u = this.bytes;
    if (this.fast) {
      if (u.length < n) {
        u = Buffer.allocUnsafe(Math.max(n, 2 * u.length));
        // A large batch (the backlog after a load) gets a buffer of its own, not kept.
        if (u.length <= maxKeptBytes) this.bytes = u;
      }
      u.write(s, 0, n, 'latin1');
    }
    let wide = this.fast && Buffer.byteLength(s, 'utf8') !== n ? -1 : n;
    if (oneLine) {
      if (wide < 0) wide = nonAscii.test(s) ? 0 : n;
      this.one(s, u, 0, n, wide >= n);
      return;
    }
    for (let a = 0; a < n;) {
      let nl = s.indexOf('\n', a);
      if (nl < 0) nl = n;
      if (wide < a) {
        nonAsciiAt.lastIndex = a;
        const m = nonAsciiAt.exec(s);
        wide = m === null ? n : m.index;
      }
      this.one(s, u, a, nl, wide >= nl);
      a = nl + 1;
    }
  }

  /** Bytes of the text being parsed (fast path), reused from batch to batch. */
  private bytes: Buffer = Buffer.allocUnsafe(0);

  private one(s: string, u: Buffer, a: number, b: number, ascii: boolean): void {
    let ok = false;
    try {
      ok = ascii && this.fast ? this.line(s, u, a, b) : this.simpleLine(a === 0 && b === s.length ? s : s.slice(a, b));
    } catch {
      ok = false; // defensive: a parser bug must never take the sidecar down
    }
    if (ok) this.stats.parsed++;
    else this.stats.ignored++;
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

  /**
   * A phc2sys CLOCK_REALTIME offset sample proves phc2sys disciplines CLOCK_REALTIME: it closes the profile's open
   * selection window and, in an NTP-failover profile, hands CLOCK_REALTIME back to phc2sys.
   */
  private realtimeSample(st: ConfigState): void {
    if (this.selecting.size > 0 && this.selecting.has(st.cfg.profile ?? '')) this.selectionEdge(st, 'realtimeSample');
    if (this.failover.size > 0) this.ownerSignal(st, 'phc2sysSample');
  }

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

  /**
   * One line, line[a, b) of a text (the socket's chunk of lines, or a line on its own), all ASCII, its characters
   * also in `u` (bytes at the same offsets); true when it was recognised and applied. The fast path reads the front
   * once: the process name packed into a number while it is scanned up to `[` (processIndex), the timestamp skipped,
   * and a tag of the usual shape `<process>.<digits>.config` read as its packed process, its digits' value and the
   * `.config` after them, which is the tag index's exact key. No slice of the line unless a form needs the token
   * array (body()). The scan stops at the line's end: a line without brackets costs its own length, never the rest
   * of the text. Any other tag takes the general rule (frontRest).
   */
  private line(s: string, u: Buffer, a: number, b: number): boolean {
    let i = a;
    let h = 0;
    for (; i < b; i++) {
      const c = u[i]!;
      if (c === 91) break;
      h = h * 128 + c;
    }
    if (i === a || i === b) return false;
    const lb = i;
    for (i++; i < b && u[i] !== 93; i++);
    for (; i < b && u[i] !== 91; i++);
    if (i >= b) return false;
    const tb = i;
    const pi = processIndex(h, lb - a);
    const process = pi >= 0 ? processNames[pi]! : s.slice(a, lb);
    let th = 0;
    let c = 0;
    for (i = tb + 1; i < b; i++) {
      c = u[i]!;
      if (c === 46 || c === 58 || c === 93) break;
      th = th * 128 + c;
    }
    const tp = c === 46 && i < b ? processIndex(th, i - tb - 1) : -1;
    if (tp >= 0 && configProcess[tp]) {
      const d0 = ++i;
      let value = 0;
      for (; i < b; i++) {
        c = u[i]!;
        if (c < 48 || c > 57) break;
        value = value * 10 + (c - 48);
      }
      const tagEnd = i + 7;
      if (i - d0 <= 9 && tagEnd < b && dotConfigAt(u, i)) {
        c = u[tagEnd]!;
        if (c === 93 || c === 58) {
          let te = tagEnd;
          if (c === 58) {
            for (te++; te < b && u[te] !== 93; te++);
            if (te === b) return false;
          }
          const entry = this.tagIndex.get(tagKey(tp, i - d0, value));
          // Not in the index: no config has this name (the simple path finds none either).
          if (entry === undefined)
            return this.body(s.slice(a, b), process, s.slice(tb + 1, tagEnd), undefined, te + 1 - a);
          const r = this.fastBody(s, u, b, process, pi, entry, te + 1);
          if (r !== undefined) {
            this.fastLines++;
            return r;
          }
          return this.body(s.slice(a, b), process, entry.name, entry.st, te + 1 - a);
        }
      }
    }
    return this.frontRest(s, u, a, b, process, tb);
  }

  /** The general rule for the tag of line[a, b) at `[` tb: up to `]`, cut at a `:level`, a config name or nothing. */
  private frontRest(s: string, u: Buffer, a: number, b: number, process: string, tb: number): boolean {
    let te = tb + 1;
    let tagEnd = -1;
    for (; te < b; te++) {
      const c = u[te];
      if (c === 93) break;
      if (c === 58 && tagEnd < 0) tagEnd = te;
    }
    if (te === b) return false;
    if (tagEnd < 0) tagEnd = te;
    const tag = s.slice(tb + 1, tagEnd);
    if (!configName.test(tag)) return false;
    const lookup = tag.startsWith('ts2phc.') ? `ptp4l.${tag.slice(7)}` : tag;
    return this.body(s.slice(a, b), process, tag, this.configs.get(lookup) ?? this.configs.get(tag), te + 1 - a);
  }

  /** One line on the simple path (fast = false): slices, a regex for the tag, the token array. */
  private simpleLine(line: string): boolean {
    const lb = line.indexOf('[');
    if (lb <= 0) return false;
    const rb = line.indexOf(']', lb);
    if (rb < 0) return false;
    const tb = line.indexOf('[', rb);
    if (tb < 0) return false;
    const te = line.indexOf(']', tb);
    if (te < 0) return false;
    // The tag ends at `]` or at a `:level` suffix.
    let tagEnd = tb + 1;
    while (tagEnd < te && line.charCodeAt(tagEnd) !== 58) tagEnd++;
    const process = line.slice(0, lb);
    const tag = line.slice(tb + 1, tagEnd);
    if (!configName.test(tag)) return false;
    const lookup = tag.startsWith('ts2phc.') ? `ptp4l.${tag.slice(7)}` : tag;
    return this.body(line, process, tag, this.configs.get(lookup) ?? this.configs.get(tag), te + 1);
  }

  /**
   * Tokens of the ASCII bytes u[from, end) by offsets (this.tokStart / this.tokEnd), each also packed as a word
   * (this.tokCode, packWord) while it is read, for the fast path. The same split as tokens() with a leading empty
   * token dropped; -1 (take the token-array path) for anything else: a trailing ':', no token, too many tokens.
   */
  private tokenize(u: Buffer, from: number, end: number): number {
    let e = end;
    while (e > from && isAsciiSpace(u[e - 1]!)) e--;
    // Nothing, or a trailing ':' (tokens() gives a trailing empty token there).
    if (e === from || u[e - 1] === 58) return -1;
    const starts = this.tokStart;
    const ends = this.tokEnd;
    const codes = this.tokCode;
    let n = 0;
    let start = -1;
    let code = 0;
    for (let i = from; i < e; i++) {
      const c = u[i]!;
      if (c === 32 || c === 58 || (c >= 9 && c <= 13)) {
        if (start >= 0) {
          if (n === maxFastTokens) return -1;
          starts[n] = start;
          ends[n] = i;
          codes[n++] = code;
          start = -1;
        }
      } else if (start < 0) {
        start = i;
        code = c;
      } else {
        code = code * 128 + c;
      }
    }
    if (start >= 0) {
      if (n === maxFastTokens) return -1;
      starts[n] = start;
      ends[n] = e;
      codes[n++] = code;
    }
    return n === 0 ? -1 : n;
  }

  private readonly tokStart = new Int32Array(maxFastTokens);
  private readonly tokEnd = new Int32Array(maxFastTokens);
  private readonly tokCode = new Float64Array(maxFastTokens);
  /** Fast path on (the default); off = the simple token-array path only (the property tests compare both). */
  fast = true;
  /** Lines the fast path decided (for the tests that check it is taken). */
  fastLines = 0;

  /** Token i of the last tokenize() is the word `wd`: its length and number, and its text when it is longer than 7. */
  private is(u: Buffer, n: number, i: number, wd: Word): boolean {
    return (
      i < n &&
      this.tokCode[i] === wd.code &&
      this.tokEnd[i]! - this.tokStart[i]! === wd.len &&
      (wd.len <= 7 || same(u, this.tokStart[i]!, wd.text))
    );
  }

  /** Number(token i), without a slice for plain integers; NaN when there is no token i. */
  private numAt(s: string, u: Buffer, n: number, i: number): number {
    if (i >= n) return Number.NaN;
    let a = this.tokStart[i]!;
    const b = this.tokEnd[i]!;
    if (b - a > 15) return Number(s.slice(a, b));
    let sign = 1;
    const c0 = u[a];
    if (c0 === 45 || c0 === 43) {
      if (c0 === 45) sign = -1;
      a++;
      if (a === b) return Number.NaN;
    }
    let v = 0;
    for (let k = a; k < b; k++) {
      const d = u[k]! - 48;
      if (d < 0 || d > 9) return Number(s.slice(this.tokStart[i]!, b));
      v = v * 10 + d;
    }
    return sign * v;
  }

  /** num(t[i]): the number, or undefined when the token is missing or not a number. */
  private optNumAt(s: string, u: Buffer, n: number, i: number): number | undefined {
    if (i >= n) return undefined;
    const v = this.numAt(s, u, n, i);
    return Number.isNaN(v) ? undefined : v;
  }

  /** The verdict of an offset line's s-state token (offsetVerdict of its text), from its packed number. */
  private offsetVerdictAt(n: number, i: number, offset: number, t: Thresholds): ClockVerdict | undefined {
    if (i >= n || this.tokEnd[i]! - this.tokStart[i]! !== 2) return undefined;
    const code = this.tokCode[i]!;
    if (code === s0Code || code === s1Code) return 'freerun';
    if (code === s2Code || code === s3Code) return inRange(t, offset) ? 'locked' : 'outOfRange';
    return undefined;
  }

  /** The index in st.cfg.interfaces of the interface token i names (no slice), or -1. */
  private ifaceAt(u: Buffer, st: ConfigState, i: number): number {
    const code = this.tokCode[i]!;
    const len = this.tokEnd[i]! - this.tokStart[i]!;
    const names = st.cfg.interfaces;
    for (let k = 0; k < names.length; k++) {
      const f = names[k]!;
      if (st.ifaceCodes[k] === code && f.length === len && (len <= 7 || same(u, this.tokStart[i]!, f))) return k;
    }
    return -1;
  }

  /** Whether lines of `process` under this config are applied at all (the simple path's profile/interfaces rule). */
  private static applies(st: ConfigState, process: string): boolean {
    return (
      process === 'chronyd' ||
      (st.cfg.profile !== undefined && (st.cfg.interfaces.length > 0 || (st.cfg.ha === true && process === 'phc2sys')))
    );
  }

  /**
   * The frequent forms by token offsets (ptp4l offsets and summaries, CLOCK_REALTIME offsets and summaries, ts2phc
   * offsets on a configured interface, CLOCK_CLASS_CHANGE, chronyd's selected source): the same checks in the same
   * order as body(), and the same effects. `pi` is the process's index in processNames (-1: not a clock process).
   * Tokens are compared by their packed numbers; the offset gauges are kept on the config. undefined = not decided
   * here, nothing done: body() takes the line.
   */
  private fastBody(
    line: string,
    u: Buffer,
    end: number,
    process: string,
    pi: number,
    entry: TagEntry,
    from: number,
  ): boolean | undefined {
    const n = this.tokenize(u, from, end);
    if (n < 0) return undefined;
    if (this.is(u, n, 0, w.PTP_PROCESS_STATUS) || this.is(u, n, 0, w.ptp_ha_profile)) return undefined;
    const st = entry.st;
    if (!st.appliesAll && !PtpLineParser.applies(st, process)) return false;
    const th = st.cfg.thresholds;
    if (pi === pPtp4l) {
      const master = this.is(u, n, 0, w.master) && this.is(u, n, 1, w.offset);
      if (master || (this.is(u, n, 0, w.rms) && this.is(u, n, 2, w.max))) {
        const iface = st.slaveIface ?? st.cfg.interfaces[0];
        const first = this.numAt(line, u, n, master ? 2 : 1);
        const max = master ? first : this.numAt(line, u, n, 3);
        if (Number.isNaN(first) || Number.isNaN(max) || iface === undefined) return false;
        if (st.ptp4lIface !== iface || st.ptp4lSeries === undefined) {
          st.ptp4lSeries = this.metrics.offsetSeries('master', 'ptp4l', iface);
          st.ptp4lIface = iface;
        }
        if (master) {
          st.ptp4lSeries.set(first, first, this.optNumAt(line, u, n, 5), this.optNumAt(line, u, n, 8));
          const v = this.offsetVerdictAt(n, 3, first, th);
          if (v) this.verdict(st, process, iface, v, false, first);
        } else {
          const delay = this.is(u, n, 8, w.delay) ? this.optNumAt(line, u, n, 9) : undefined;
          st.ptp4lSeries.set(first, max, this.optNumAt(line, u, n, 5), delay);
        }
        return true;
      }
    }
    if (this.is(u, n, 0, w.CLOCK_REALTIME)) {
      const phc = this.is(u, n, 1, w.phc);
      if ((phc || this.is(u, n, 1, w.sys)) && this.is(u, n, 2, w.offset)) {
        const offset = this.numAt(line, u, n, 3);
        if (Number.isNaN(offset) || (pi < 0 && !this.known(process, clockRealtime))) return false;
        this.realtimeSeriesOf(st, process, pi, phc ? 0 : 1).set(
          offset,
          offset,
          this.optNumAt(line, u, n, 6),
          this.optNumAt(line, u, n, 8),
        );
        const v = this.offsetVerdictAt(n, 4, offset, th);
        if (v) this.verdict(st, process, clockRealtime, v, false, offset);
        if (pi === pPhc2sys) this.realtimeSample(st);
        return true;
      }
      if (this.is(u, n, 1, w.rms) && this.is(u, n, 3, w.max)) {
        const rms = this.numAt(line, u, n, 2);
        const max = this.numAt(line, u, n, 4);
        if (Number.isNaN(rms) || Number.isNaN(max) || (pi < 0 && !this.known(process, clockRealtime))) return false;
        const delay = this.is(u, n, 9, w.delay) ? this.optNumAt(line, u, n, 10) : undefined;
        this.realtimeSeriesOf(st, process, pi, 0).set(rms, max, this.optNumAt(line, u, n, 6), delay);
        return true;
      }
      return false;
    }
    // <iface> master offset <ns> s<N> freq <ppb> [holdover], on an interface of this config.
    if (this.is(u, n, 1, w.master) && this.is(u, n, 2, w.offset)) {
      const k = this.ifaceAt(u, st, 0);
      if (k < 0) return undefined;
      const iface = st.cfg.interfaces[k]!;
      const offset = this.numAt(line, u, n, 3);
      // A configured interface is a known one: only the process can be unknown.
      if (Number.isNaN(offset) || (pi < 0 && !this.known(process, iface))) return false;
      const isTs2phc = pi === pTs2phc;
      this.ifaceSeriesOf(st, process, pi, k).set(
        offset,
        offset,
        this.optNumAt(line, u, n, 6),
        isTs2phc ? 0 : undefined,
      );
      if (isTs2phc) {
        let set = entry.ts2phcIfaces;
        if (set === undefined) {
          set = this.ts2phcIfaces.get(entry.name);
          if (set === undefined) this.ts2phcIfaces.set(entry.name, (set = new Set()));
          entry.ts2phcIfaces = set;
        }
        set.add(iface);
      }
      const v = this.is(u, n, n - 1, w.holdover) ? 'daemonHoldover' : this.offsetVerdictAt(n, 4, offset, th);
      if (v) this.verdict(st, process, iface, v, false, offset);
      return true;
    }
    if (n === 2 && this.is(u, n, 0, w.CLOCK_CLASS_CHANGE) && pi !== pDpll && pi !== pSynce4l) {
      // Token 1 starts with a digit, a sign or '.': none of the keywords the forms before this one look for.
      const c = u[this.tokStart[1]!]!;
      if (!((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46)) return undefined;
      const v = this.numAt(line, u, n, 1);
      if (Number.isNaN(v) || pi < 0) return false;
      this.metrics.setClockClass(process, entry.name, v);
      this.clockClass.set(entry.name, v);
      return true;
    }
    if (
      pi === pChronyd &&
      this.is(u, n, 0, w.Selected) &&
      this.is(u, n, 1, w.source) &&
      this.tokStart[1] === this.tokEnd[0]! + 1 &&
      u[this.tokEnd[0]!] === 32
    ) {
      this.verdict(st, process, clockRealtime, 'locked');
      this.ownerSignal(st, 'chronydSource');
      return true;
    }
    return undefined;
  }

  /** CLOCK_REALTIME's offset gauges of `process` (from phc, or sys when `sys` is 1), kept on the config. */
  private realtimeSeriesOf(st: ConfigState, process: string, pi: number, sys: number): OffsetSeries {
    const from = sys === 1 ? 'sys' : 'phc';
    if (pi < 0) return this.metrics.offsetSeries(from, process, clockRealtime);
    const at = pi * 2 + sys;
    let series = st.realtimeSeries[at];
    if (series === undefined) st.realtimeSeries[at] = series = this.metrics.offsetSeries(from, process, clockRealtime);
    return series;
  }

  /** The offset gauges (from master) of `process` on interface k of the config, kept on the config. */
  private ifaceSeriesOf(st: ConfigState, process: string, pi: number, k: number): OffsetSeries {
    const iface = st.cfg.interfaces[k]!;
    if (pi < 0) return this.metrics.offsetSeries('master', process, iface);
    const at = pi * st.cfg.interfaces.length + k;
    let series = st.ifaceSeries[at];
    if (series === undefined) st.ifaceSeries[at] = series = this.metrics.offsetSeries('master', process, iface);
    return series;
  }

  /** A line with its process, tag and config resolved: the token-array path (every form). */
  private body(line: string, process: string, tag: string, st: ConfigState | undefined, from: number): boolean {
    const t = tokens(line, from);
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
      this.indexTag(tag);
    } else if (t0 === 'ptp_ha_profile' && t[2] === 'state') {
      // HA: `ptp_ha_profile <profile> state <n>`; the phc2sys config of an HA profile has no interfaces.
      const profile = t1 ?? '';
      const v = Number(t[3]);
      if (!this.profiles.has(profile) || !Number.isFinite(v)) return false;
      this.metrics.setHaProfileStatus(process, profile, v);
      return true;
    } else if (!PtpLineParser.applies(st, process)) {
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
        if (process === 'phc2sys') this.realtimeSample(st);
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
