// What the PTP events engine knows of the clocks, and the rules that turn a clock change into notifications: sent
// only on a change, clock class only when it differs, the overall sync-state (worst of the main clocks and
// CLOCK_REALTIME) only when it differs from the last one sent (which the caller persists). CurrentState and the
// initial notification are computed here too. Pure: no I/O, no clock, no ids.
import { enumValue, metricValue, resourceAddress, type EventValue, type ResourceId } from './resources.js';

export type ClockStateName = 'LOCKED' | 'FREERUN' | 'HOLDOVER';

/** The engine's input: what the composition's adapter makes of the ptp service's changes. */
export type EventsInput =
  /**
   * A clock statechart entered a state. `role` main = a PTP clock feeding lock-state; osClock = CLOCK_REALTIME.
   * `announce` false = the statechart's own initial state at load (no line said anything yet): recorded, not sent.
   */
  | {
      type: 'clock';
      key: string;
      role: 'main' | 'osClock';
      iface: string;
      state: ClockStateName;
      offset: number;
      announce: boolean;
    }
  /** A clock class reported for a main clock (sent only when it differs from the last one of that clock). */
  | { type: 'clockClass'; key: string; iface: string; value: number }
  /** A GNSS receiver state (SYNCHRONIZED, ACQUIRING-SYNC, FAILURE-NOFIX, …), sent on change. */
  | { type: 'gnss'; key: string; iface: string; state: string; offset: number; gpsFix: number }
  /**
   * SyncE: an EEC state (lock-state) and/or a quality level (clock-quality) of one port of a synce4l device, each
   * sent on change. `iface` absent = a state of the device itself (published at `…/<device>`; no quality level).
   */
  | { type: 'synce'; device: string; iface?: string; state?: string; ql?: number; extQl?: number }
  /** A new ptp generation was loaded: its clocks start over (the last overall sync-state is kept). */
  | { type: 'reset' };

export interface Publication {
  resource: ResourceId;
  values: EventValue[];
}

interface Clock {
  role: 'main' | 'osClock';
  iface: string;
  state: ClockStateName;
  offset: number;
  /** A line has said something about this clock (CEP: its stats exist). */
  hasData: boolean;
}

interface Gnss {
  iface: string;
  state: string;
  offset: number;
  gpsFix: number;
}

interface SynceTarget {
  device: string;
  /** undefined: the device itself. */
  iface: string | undefined;
  state: string | undefined;
  ql: number | undefined;
  extQl: number | undefined;
}

/** Worst first: FREERUN > HOLDOVER > LOCKED. */
const severity: Record<ClockStateName, number> = { LOCKED: 0, HOLDOVER: 1, FREERUN: 2 };

/** The address CEP writes when there is no PTP data at all, or nothing for the resource asked. */
export const notSetAddress = 'ptp-not-set';
export const notFoundAddress = 'event-not-found';

export type CurrentState =
  | { kind: 'values'; values: EventValue[] }
  /** No PTP data yet at all. */
  | { kind: 'notSet'; values: EventValue[] }
  /** Data exists, but none for this resource. */
  | { kind: 'notFound'; values: EventValue[] };

export class PtpEventModel {
  private readonly clocks = new Map<string, Clock>();
  private readonly clockClass = new Map<string, { iface: string; value: number }>();
  private readonly gnss = new Map<string, Gnss>();
  private readonly synce = new Map<string, SynceTarget>();

  constructor(
    readonly nodeName: string,
    /** The last overall sync-state sent (persisted by the caller), or null. */
    public lastSyncState: ClockStateName | null = null,
  ) {}

  private addr(tail: string): string {
    return `/cluster/node/${this.nodeName}/${tail}`;
  }

  private clockAddress(c: { role: 'main' | 'osClock'; iface: string }): string {
    return c.role === 'osClock' ? this.addr('CLOCK_REALTIME') : this.addr(`${c.iface}/master`);
  }

  /** Applies one input; returns the notifications to publish, in order. */
  apply(input: EventsInput): Publication[] {
    switch (input.type) {
      case 'reset':
        this.clocks.clear();
        this.clockClass.clear();
        this.gnss.clear();
        this.synce.clear();
        return [];
      case 'clock':
        return this.applyClock(input);
      case 'clockClass': {
        const last = this.clockClass.get(input.key);
        if (last !== undefined && last.value === input.value) return [];
        this.clockClass.set(input.key, { iface: input.iface, value: input.value });
        return [{ resource: 'clock-class', values: [metricValue(this.addr(`${input.iface}/master`), input.value)] }];
      }
      case 'gnss': {
        const last = this.gnss.get(input.key);
        this.gnss.set(input.key, {
          iface: input.iface,
          state: input.state,
          offset: input.offset,
          gpsFix: input.gpsFix,
        });
        if (last !== undefined && last.state === input.state) return [];
        return [{ resource: 'gnss-sync-status', values: this.gnssValues(this.gnss.get(input.key)!) }];
      }
      case 'synce':
        return this.applySynce(input);
    }
  }

  private applyClock(input: Extract<EventsInput, { type: 'clock' }>): Publication[] {
    const last = this.clocks.get(input.key);
    const clock: Clock = {
      role: input.role,
      iface: input.iface,
      state: input.state,
      offset: input.offset,
      hasData: input.announce || (last?.hasData ?? false),
    };
    this.clocks.set(input.key, clock);
    if (!input.announce) return [];
    if (last !== undefined && last.hasData && last.state === input.state) return [];
    const address = this.clockAddress(clock);
    const out: Publication[] = [
      {
        resource: input.role === 'main' ? 'lock-state' : 'os-clock-sync-state',
        values: [enumValue(address, clock.state), metricValue(address, clock.offset)],
      },
    ];
    const overall = this.overallSyncState();
    if (overall !== null && overall !== this.lastSyncState) {
      this.lastSyncState = overall;
      out.push({ resource: 'sync-state', values: [enumValue(resourceAddress(this.nodeName, 'sync-state'), overall)] });
    }
    return out;
  }

  private applySynce(input: Extract<EventsInput, { type: 'synce' }>): Publication[] {
    const k = input.iface === undefined ? input.device : `${input.device}/${input.iface}`;
    const last = this.synce.get(k);
    const next: SynceTarget = {
      device: input.device,
      iface: input.iface,
      state: input.state ?? last?.state,
      ql: input.ql ?? last?.ql,
      extQl: input.extQl ?? last?.extQl,
    };
    this.synce.set(k, next);
    const out: Publication[] = [];
    const a = this.addr(k);
    if (input.state !== undefined && input.state !== last?.state) {
      // CEP tags the EEC state as a metric (decimal64.3) although it is an enum string; kept for compatibility.
      out.push({ resource: 'synce-lock-state', values: [metricValue(a, input.state)] });
    }
    if (
      input.iface !== undefined &&
      ((input.ql !== undefined && input.ql !== last?.ql) || (input.extQl !== undefined && input.extQl !== last?.extQl))
    ) {
      out.push({
        resource: 'synce-clock-quality',
        values: [metricValue(`${a}/Ql`, next.ql ?? 0), metricValue(`${a}/extQl`, next.extQl ?? 255)],
      });
    }
    return out;
  }

  private gnssValues(g: Gnss): EventValue[] {
    const a = this.addr(`${g.iface}/master`);
    return [enumValue(a, g.state), metricValue(a, g.offset), metricValue(`${a}/gpsFix`, g.gpsFix)];
  }

  /** Worst state over the clocks that have data; null when none has. */
  overallSyncState(): ClockStateName | null {
    let worst: ClockStateName | null = null;
    for (const c of this.clocks.values()) {
      if (!c.hasData) continue;
      if (worst === null || severity[c.state] > severity[worst]) worst = c.state;
    }
    return worst;
  }

  /** Any PTP data at all (CEP: its stats map is not empty). */
  hasAnyData(): boolean {
    for (const c of this.clocks.values()) if (c.hasData) return true;
    return this.clockClass.size > 0 || this.gnss.size > 0 || this.synce.size > 0;
  }

  /** CurrentState of a resource, with CEP's placeholders when there is nothing to say. */
  current(resource: ResourceId): CurrentState {
    if (!this.hasAnyData()) return { kind: 'notSet', values: placeholder(this.addr(notSetAddress), resource) };
    const values: EventValue[] = [];
    switch (resource) {
      case 'lock-state':
      case 'os-clock-sync-state': {
        const role = resource === 'lock-state' ? 'main' : 'osClock';
        for (const c of this.clocks.values()) {
          if (c.role !== role || !c.hasData) continue;
          const a = this.clockAddress(c);
          values.push(enumValue(a, c.state), metricValue(a, c.offset));
        }
        break;
      }
      case 'clock-class':
        for (const c of this.clockClass.values()) {
          if (c.value !== 0) values.push(metricValue(this.addr(`${c.iface}/master/CLOCK_CLASS`), c.value));
        }
        break;
      case 'sync-state': {
        const s = this.overallSyncState();
        if (s !== null) values.push(enumValue(resourceAddress(this.nodeName, 'sync-state'), s));
        break;
      }
      case 'gnss-sync-status':
        for (const g of this.gnss.values()) values.push(...this.gnssValues(g));
        break;
      case 'synce-lock-state':
        // CurrentState tags the EEC state as a notification/enumeration (pushed events: metric), as CEP does.
        for (const s of this.synce.values()) {
          if (s.state !== undefined) values.push(enumValue(this.addr(synceKey(s)), s.state));
        }
        break;
      case 'synce-clock-quality':
        // Every known port, as CEP: a port known only from its EEC state reads Ql 0, ExtQL 255.
        for (const s of this.synce.values()) {
          if (s.iface === undefined) continue;
          const a = this.addr(synceKey(s));
          values.push(metricValue(`${a}/Ql`, s.ql ?? 0), metricValue(`${a}/ExtQL`, s.extQl ?? 255));
        }
        break;
    }
    if (values.length === 0) return { kind: 'notFound', values: placeholder(this.addr(notFoundAddress), resource) };
    return { kind: 'values', values };
  }
}

const synceKey = (s: { device: string; iface: string | undefined }): string =>
  s.iface === undefined ? s.device : `${s.device}/${s.iface}`;

/** CEP's FREERUN/"0" placeholder in the shape of the resource's values. */
function placeholder(address: string, resource: ResourceId): EventValue[] {
  switch (resource) {
    case 'clock-class':
    case 'synce-clock-quality':
      return [metricValue(address, 0)];
    case 'sync-state':
    case 'synce-lock-state':
      return [enumValue(address, 'FREERUN')];
    default:
      return [enumValue(address, 'FREERUN'), metricValue(address, 0)];
  }
}
