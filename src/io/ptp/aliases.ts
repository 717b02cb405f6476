// Interface aliases from linuxptp-daemon (`GET /port-aliases`: a JSON object `{"ens2f0": "ens2fx", …}`). Metric labels
// of an interface's offsets, clock state and nmea status carry its alias, as the reference sidecar does; port roles
// and CLOCK_REALTIME keep the real name. An interface without an alias is labelled with its own name.
// The map is fetched at each load and cached: when the daemon does not answer, the last good map is used.
import { daemonGet, type DaemonCallLog } from './daemonApi.js';

export const clockRealtime = 'CLOCK_REALTIME';

/** Bounds on what the daemon may send. */
export const aliasLimits = { maxBodyBytes: 65_536, maxEntries: 1024, maxNameLength: 64 } as const;
const nameRe = /^[\x21-\x7e]+$/;

/** An immutable interface → alias map. */
export class PortAliases {
  static readonly none = new PortAliases(new Map());
  private readonly map: ReadonlyMap<string, string>;

  constructor(map: ReadonlyMap<string, string> | Record<string, string>) {
    this.map = map instanceof Map ? new Map(map) : new Map(Object.entries(map));
  }

  /** The label for `iface`: its alias, or the name itself; CLOCK_REALTIME is never aliased. */
  of(iface: string): string {
    if (iface === clockRealtime) return iface;
    return this.map.get(iface) ?? iface;
  }

  get size(): number {
    return this.map.size;
  }

  /** The interfaces linuxptp-daemon named (the map's keys). */
  interfaces(): IterableIterator<string> {
    return this.map.keys();
  }

  toJSON(): Record<string, string> {
    return Object.fromEntries(this.map);
  }
}

/** Parses and bounds a /port-aliases body. Invalid entries are skipped and reported; a body that is not an object throws. */
export function parsePortAliases(body: string): { aliases: PortAliases; problems: string[] } {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (err) {
    throw new Error(`port-aliases: not JSON (${(err as Error).message})`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new Error('port-aliases: expected a JSON object of interface → alias');
  }
  const map = new Map<string, string>();
  const problems: string[] = [];
  const ok = (s: unknown): s is string =>
    typeof s === 'string' && s.length > 0 && s.length <= aliasLimits.maxNameLength && nameRe.test(s);
  for (const [iface, alias] of Object.entries(data as Record<string, unknown>)) {
    if (map.size >= aliasLimits.maxEntries) {
      problems.push(`more than ${aliasLimits.maxEntries} aliases: the rest ignored`);
      break;
    }
    if (!ok(iface) || !ok(alias) || iface === clockRealtime) {
      problems.push(`port-aliases: entry ${JSON.stringify(iface).slice(0, 80)} skipped (names: 1-64 visible ASCII)`);
      continue;
    }
    map.set(iface, alias);
  }
  return { aliases: new PortAliases(map), problems };
}

export interface PortAliasSourceOptions {
  /** '' disables the fetch: no aliases. */
  url: string;
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
}

/** The cached alias map, refreshed at each load. */
export class PortAliasSource {
  private last: PortAliases = PortAliases.none;

  constructor(
    private readonly opts: PortAliasSourceOptions,
    private readonly log: DaemonCallLog,
    /** Skipped entries, once per refresh each (the caller logs and counts them). */
    private readonly onProblem: (message: string) => void = () => {},
  ) {}

  get current(): PortAliases {
    return this.last;
  }

  /** Fetches the map; on any failure returns the last good one. Never rejects. */
  async refresh(signal?: AbortSignal): Promise<PortAliases> {
    if (this.opts.url === '') return this.last;
    try {
      const { body } = await daemonGet({
        url: this.opts.url,
        timeoutMs: this.opts.timeoutMs,
        retries: this.log.isFailing('portAliases') ? 0 : this.opts.retries,
        retryDelayMs: this.opts.retryDelayMs,
        maxBodyBytes: aliasLimits.maxBodyBytes,
        signal,
      });
      const { aliases, problems } = parsePortAliases(body);
      for (const p of problems.slice(0, 10)) this.onProblem(p);
      this.last = aliases;
      this.log.ok('portAliases', this.opts.url, { aliases: aliases.size });
    } catch (err) {
      if (signal?.aborted) return this.last;
      this.log.error('portAliases', this.opts.url, err);
    }
    return this.last;
  }
}
