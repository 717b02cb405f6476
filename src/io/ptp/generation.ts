// One generation of the PTP sidecar: the configuration read at load (ConfigMap, then INI files), its metrics
// registry and its line parser. A CMD RESTART drops the generation and loads a new one.
import { loadConfigMap, type PtpProfile } from './configMap.js';
import { loadConfigFiles, type PtpConfigFile } from './configFiles.js';
import { PtpLineParser, type ParserConfig } from './lineParser.js';
import type { ClockEdge, ClockSeed, ClockStateName } from '../../machines/ptp/events.js';
import { PtpMetrics, type RoleName } from './metrics.js';
import { defaultThresholds } from './thresholds.js';
import { PortAliases } from './aliases.js';

export interface PtpLoadOptions {
  profilePath: string;
  configDir: string;
  nodeName: string;
  /** Called once per malformed file or entry (the caller logs and counts it). */
  onError?: (source: 'configMap' | 'configFile', message: string) => void;
  /**
   * Interface aliases of this load (linuxptp-daemon's port-aliases), or the pending request for them: the files are
   * read while it is in flight, and the generation is built once both are there.
   */
  aliases?: PortAliases | Promise<PortAliases | undefined>;
}

export type { ClockSeed } from '../../machines/ptp/events.js';

export type ClockType = 'OC' | 'T-BC' | 'T-GM';

/**
 * The clock type of a profile: T-BC when `ptpSettings.controllingProfile` is set or `ts2PhcOpts` asks for
 * external_pps; T-GM when it runs ts2phc otherwise; OC (ordinary / plain boundary clock) else.
 */
/** An HA profile lists the profiles it switches between in `ptpSettings.haProfiles`. */
export function isHaProfile(p: PtpProfile | undefined): boolean {
  const settings = p?.raw['ptpSettings'];
  if (typeof settings !== 'object' || settings === null) return false;
  const ha = (settings as Record<string, unknown>)['haProfiles'];
  return typeof ha === 'string' && ha.trim() !== '';
}

export function clockTypeOf(p: PtpProfile): ClockType {
  const settings = p.raw['ptpSettings'];
  const controlling =
    typeof settings === 'object' && settings !== null
      ? (settings as Record<string, unknown>)['controllingProfile']
      : undefined;
  const ts2phc = typeof p.raw['ts2PhcOpts'] === 'string' ? (p.raw['ts2PhcOpts'] as string) : '';
  if ((typeof controlling === 'string' && controlling !== '') || ts2phc.includes('external_pps')) return 'T-BC';
  if (ts2phc.trim() !== '') return 'T-GM';
  return 'OC';
}

function roleOf(section: Map<string, string>, global: Map<string, string>): RoleName {
  const server = section.get('serverOnly') ?? global.get('serverOnly');
  if (server !== undefined) return server === '1' ? 'MASTER' : 'SLAVE';
  return (section.get('masterOnly') ?? global.get('masterOnly')) === '1' ? 'MASTER' : 'SLAVE';
}

export class PtpGeneration {
  readonly metrics: PtpMetrics;
  readonly parser: PtpLineParser;
  readonly seeds: ClockSeed[] = [];
  /** Clock type per profile name (the clock statecharts' T-BC / T-GM rules). */
  readonly clockTypes: Record<string, ClockType> = {};
  /** Profiles that run chronyd (a non-empty `chronydOpts`): chronyd disciplines CLOCK_REALTIME when phc2sys does not. */
  readonly chronydProfiles: string[] = [];

  constructor(
    readonly nodeName: string,
    readonly profiles: readonly PtpProfile[],
    readonly files: readonly PtpConfigFile[],
    readonly aliases: PortAliases = PortAliases.none,
  ) {
    this.metrics = new PtpMetrics(nodeName, aliases);
    const byName = new Map(profiles.map((p) => [p.name, p]));
    for (const p of profiles) {
      this.clockTypes[p.name] = clockTypeOf(p);
      const chronyd = p.raw['chronydOpts'];
      if (typeof chronyd === 'string' && chronyd.trim() !== '') this.chronydProfiles.push(p.name);
      this.metrics.setThreshold(p.name, 'MinOffsetThreshold', p.thresholds.minOffset);
      this.metrics.setThreshold(p.name, 'MaxOffsetThreshold', p.thresholds.maxOffset);
      this.metrics.setThreshold(p.name, 'HoldOverTimeout', p.thresholds.holdOverTimeout);
    }
    const configs: ParserConfig[] = files.map((f) => {
      const thresholds = (f.profile !== undefined ? byName.get(f.profile)?.thresholds : undefined) ?? defaultThresholds;
      const isPtp4l = f.process === 'ptp4l';
      return {
        name: f.name,
        process: f.process,
        profile: f.profile,
        interfaces: f.interfaces.map((s) => s.name),
        roles: isPtp4l ? f.interfaces.map((s) => roleOf(s.options, f.global)) : [],
        thresholds,
        clockType: f.profile !== undefined ? (this.clockTypes[f.profile] ?? 'OC') : 'OC',
        ha: f.profile !== undefined && isHaProfile(byName.get(f.profile)),
      };
    });
    for (const c of configs) {
      if (c.process !== 'ptp4l' || c.profile === undefined) continue;
      c.interfaces.forEach((iface, i) => this.metrics.setRole('ptp4l', iface, c.roles[i] ?? 'UNKNOWN'));
      const slave = c.interfaces[c.roles.indexOf('SLAVE')];
      if (slave !== undefined) {
        this.seeds.push({
          key: `ptp4l/${slave}`,
          process: 'ptp4l',
          iface: slave,
          profile: c.profile,
          holdoverTimeoutMs: c.thresholds.holdOverTimeout * 1000,
        });
      }
    }
    this.parser = new PtpLineParser(this.metrics, configs);
    this.parser.ntpFailover(this.chronydProfiles);
    this.parser.allowInterfaces(profiles.map((p) => p.interface).filter((i) => i !== ''));
    // The interfaces linuxptp-daemon gave aliases for (bounded: at most 1,024 entries) are interfaces of the node.
    this.parser.allowInterfaces(aliases.interfaces());
  }

  get registry(): PtpMetrics['registry'] {
    return this.metrics.registry;
  }

  /** The data plane: parse a batch, update metrics, return clock verdict edges. */
  /** A text of lines each followed by `\n` (as the socket hands them over), or an array of lines. */
  ingest(lines: string | readonly string[]): ClockEdge[] {
    return this.parser.ingest(lines);
  }

  setClockState(process: string, iface: string, state: ClockStateName): void {
    this.metrics.setClockState(process, iface, state);
  }

  clearClockState(process: string, iface: string): void {
    this.metrics.removeClockState(process, iface);
  }

  stop(): void {
    this.metrics.clear();
  }

  /** What a trace records of a load result: the configuration it was built from, so a replay can rebuild it. */
  toTrace(): GenerationTrace {
    return {
      kind: 'ptpGeneration',
      nodeName: this.nodeName,
      profiles: this.profiles,
      ...(this.aliases.size > 0 ? { aliases: this.aliases.toJSON() } : {}),
      files: this.files.map((f) => ({
        ...f,
        global: Object.fromEntries(f.global),
        interfaces: f.interfaces.map((s) => ({ ...s, options: Object.fromEntries(s.options) })),
      })),
    };
  }

  static isTrace(v: unknown): v is GenerationTrace {
    return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'ptpGeneration';
  }

  static fromTrace(t: GenerationTrace): PtpGeneration {
    const files = t.files.map((f) => ({
      ...f,
      global: new Map(Object.entries(f.global)),
      interfaces: f.interfaces.map((s) => ({ ...s, options: new Map(Object.entries(s.options)) })),
    })) as unknown as PtpConfigFile[];
    return new PtpGeneration(t.nodeName, t.profiles, files, new PortAliases(t.aliases ?? {}));
  }

  /** What inspectors and traces see of a generation (context must stay serialisable). */
  toJSON(): object {
    return {
      profiles: this.profiles.map((p) => p.name),
      files: this.files.map((f) => f.name),
      clocks: this.seeds.map((s) => s.key),
      lines: this.parser.stats,
    };
  }
}

/**
 * Load order: the ConfigMap first, then the INI files (while the aliases, when pending, are still being fetched).
 * Missing files = empty config; malformed = reported, skipped.
 */
export async function loadPtpGeneration(opts: PtpLoadOptions): Promise<PtpGeneration> {
  const cm = await loadConfigMap(opts.profilePath, opts.nodeName);
  for (const e of cm.errors) opts.onError?.('configMap', e);
  const files = await loadConfigFiles(opts.configDir);
  for (const e of files.errors) opts.onError?.('configFile', e);
  return new PtpGeneration(opts.nodeName, cm.profiles, files.files, await opts.aliases);
}

/** A generation as a trace records it (Maps as plain objects). */
export interface GenerationTrace {
  kind: 'ptpGeneration';
  nodeName: string;
  profiles: readonly PtpProfile[];
  /** Absent in traces recorded before aliases existed. */
  aliases?: Record<string, string>;
  files: Array<
    Omit<PtpConfigFile, 'global' | 'interfaces'> & {
      global: Record<string, string>;
      interfaces: Array<{ name: string; options: Record<string, string> }>;
    }
  >;
}
