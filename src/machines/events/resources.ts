// The seven PTP resources of the O-RAN O-Cloud Notification API v2 as cloud-event-proxy publishes them: the short
// resource path (the CloudEvent `source`), the event `type`, and the values a notification carries. Pure data and
// functions: no I/O, no clock, no ids (the caller supplies them).

export const resourceIds = [
  'lock-state',
  'os-clock-sync-state',
  'clock-class',
  'sync-state',
  'gnss-sync-status',
  'synce-lock-state',
  'synce-clock-quality',
] as const;
export type ResourceId = (typeof resourceIds)[number];

export interface ResourceSpec {
  /** The short path: the CloudEvent `source`; a subscription's ResourceAddress is `/cluster/node/<node>` + this. */
  suffix: string;
  type: string;
}

export const resources: Record<ResourceId, ResourceSpec> = {
  'lock-state': { suffix: '/sync/ptp-status/lock-state', type: 'event.sync.ptp-status.ptp-state-change' },
  'os-clock-sync-state': {
    suffix: '/sync/sync-status/os-clock-sync-state',
    type: 'event.sync.sync-status.os-clock-sync-state-change',
  },
  'clock-class': { suffix: '/sync/ptp-status/clock-class', type: 'event.sync.ptp-status.ptp-clock-class-change' },
  'sync-state': { suffix: '/sync/sync-status/sync-state', type: 'event.sync.sync-status.synchronization-state-change' },
  'gnss-sync-status': {
    suffix: '/sync/gnss-status/gnss-sync-status',
    type: 'event.sync.gnss-status.gnss-state-change',
  },
  'synce-lock-state': { suffix: '/sync/synce-status/lock-state', type: 'event.sync.synce-status.synce-state-change' },
  'synce-clock-quality': {
    suffix: '/sync/synce-status/clock-quality',
    type: 'event.sync.synce-status.synce-clock-quality-change',
  },
};

/** The legacy (v1) clock-class suffix: CurrentState answers it with clock-class data; nothing is published on it. */
export const clockClassV1Suffix = '/sync/ptp-status/ptp-clock-class-change';

/**
 * The resource a ResourceAddress names, by substring as CEP matches it (so another node's address is accepted too).
 * Order matters: CEP tests lock-state, os-clock, clock-class, gnss, sync-state, synce lock-state, synce clock quality.
 */
export function resourceOf(address: string, opts: { v1ClockClass?: boolean } = {}): ResourceId | undefined {
  const order: ResourceId[] = [
    'lock-state',
    'os-clock-sync-state',
    'clock-class',
    'gnss-sync-status',
    'sync-state',
    'synce-lock-state',
    'synce-clock-quality',
  ];
  for (const id of order) {
    if (address.includes(resources[id].suffix)) return id;
    if (id === 'clock-class' && opts.v1ClockClass && address.includes(clockClassV1Suffix)) return id;
  }
  return undefined;
}

/** `/cluster/node/<node>` + suffix: the only address that receives pushed events. */
export function resourceAddress(nodeName: string, id: ResourceId): string {
  return `/cluster/node/${nodeName}${resources[id].suffix}`;
}

/** One entry of `data.values[]`. `value` is always a string, numbers too (CEP's marshaller). */
export interface EventValue {
  ResourceAddress: string;
  data_type: 'notification' | 'metric';
  value_type: 'enumeration' | 'decimal64.3';
  value: string;
}

export const enumValue = (address: string, value: string): EventValue => ({
  ResourceAddress: address,
  data_type: 'notification',
  value_type: 'enumeration',
  value,
});

export const metricValue = (address: string, value: number | string): EventValue => ({
  ResourceAddress: address,
  data_type: 'metric',
  value_type: 'decimal64.3',
  value: typeof value === 'number' ? decimalString(value) : value,
});

/** Go's %v of an int64: integers as they are, anything else truncated toward zero. */
function decimalString(v: number): string {
  if (!Number.isFinite(v)) return '0';
  return String(Math.trunc(v));
}

/** SyncState strings of the API (SDK syncstate.go). */
export const syncStates = [
  'LOCKED',
  'HOLDOVER',
  'FREERUN',
  'SYNCHRONIZED',
  'UNLOCKED',
  'ACQUIRING-SYNC',
  'ANTENNA-DISCONNECTED',
  'ANTENNA-SHORT-CIRCUIT',
  'BOOTING',
  'FAILURE-MULTIPATH',
  'FAILURE-NOFIX',
  'FAILURE-LOW-SNR',
  'FAILURE-PLL',
] as const;
