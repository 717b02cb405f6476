// The subscriptions of every consumer, in memory and in one file (`<storePath>/subscriptions.json`, written
// atomically after each change, one write at a time, changes made during a write coalesced into the next). The file
// also keeps the last overall sync-state sent, so a restart does not repeat it. Owned by the composition, outside
// the ptp sidecar's generation: CMD RESTART does not touch it.
import { join } from 'node:path';
import { goJson, nameUuid } from '../../io/events/ids.js';
import { readFileIfExists, writeFileAtomic } from '../../io/events/persist.js';

export interface Subscription {
  ResourceAddress: string;
  EndpointUri: string;
  SubscriptionId: string;
  UriLocation: string;
}

export interface ConsumerRef {
  clientId: string;
  endpoint: string;
}

interface StoreFile {
  version: 1;
  lastSyncState: string | null;
  subscriptions: Subscription[];
}

const maxFileBytes = 64 * 1024 * 1024;

export const clientIdOf = (endpoint: string): string => nameUuid(endpoint);

export class SubscriptionStore {
  readonly file: string;
  private readonly subs = new Map<string, Subscription>();
  lastSyncState: string | null = null;
  private loaded = false;
  /** The file existed at load or has been written since. */
  hasFile = false;
  private pending: Promise<void> | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    storePath: string,
    /** Told after every change (metrics). */
    private readonly onChange: () => void = () => {},
  ) {
    this.file = join(storePath, 'subscriptions.json');
  }

  /** Reads the file once (later calls keep the memory: a restarted events child finds what it left). */
  async load(): Promise<void> {
    if (this.loaded) return;
    const text = await readFileIfExists(this.file, maxFileBytes);
    if (text !== undefined) {
      this.hasFile = true;
      const parsed = JSON.parse(text) as Partial<StoreFile>;
      if (parsed.version !== 1 || !Array.isArray(parsed.subscriptions))
        throw new Error(`${this.file}: not a syncvisor subscriptions file (version 1)`);
      for (const s of parsed.subscriptions) {
        if (
          typeof s?.SubscriptionId === 'string' &&
          typeof s.ResourceAddress === 'string' &&
          typeof s.EndpointUri === 'string' &&
          typeof s.UriLocation === 'string'
        ) {
          this.subs.set(s.SubscriptionId, {
            ResourceAddress: s.ResourceAddress,
            EndpointUri: s.EndpointUri,
            SubscriptionId: s.SubscriptionId,
            UriLocation: s.UriLocation,
          });
        }
      }
      this.lastSyncState = typeof parsed.lastSyncState === 'string' ? parsed.lastSyncState : null;
    }
    this.loaded = true;
    this.onChange();
  }

  get size(): number {
    return this.subs.size;
  }

  list(): Subscription[] {
    return [...this.subs.values()];
  }

  get(id: string): Subscription | undefined {
    return this.subs.get(id);
  }

  find(address: string, endpoint: string): Subscription | undefined {
    for (const s of this.subs.values()) if (s.ResourceAddress === address && s.EndpointUri === endpoint) return s;
    return undefined;
  }

  hasAddress(address: string): boolean {
    for (const s of this.subs.values()) if (s.ResourceAddress === address) return true;
    return false;
  }

  /** Client ids subscribed to exactly this address (each once). */
  clientsFor(address: string): string[] {
    const out = new Set<string>();
    for (const s of this.subs.values()) if (s.ResourceAddress === address) out.add(clientIdOf(s.EndpointUri));
    return [...out];
  }

  consumers(): ConsumerRef[] {
    const out = new Map<string, string>();
    for (const s of this.subs.values()) out.set(clientIdOf(s.EndpointUri), s.EndpointUri);
    return [...out].map(([clientId, endpoint]) => ({ clientId, endpoint }));
  }

  hasClient(clientId: string): boolean {
    for (const s of this.subs.values()) if (clientIdOf(s.EndpointUri) === clientId) return true;
    return false;
  }

  async add(sub: Subscription): Promise<void> {
    this.subs.set(sub.SubscriptionId, sub);
    this.onChange();
    try {
      await this.save();
    } catch (err) {
      this.subs.delete(sub.SubscriptionId);
      this.onChange();
      throw err;
    }
  }

  async delete(id: string): Promise<Subscription | undefined> {
    const s = this.subs.get(id);
    if (!s) return undefined;
    this.subs.delete(id);
    this.onChange();
    await this.save();
    return s;
  }

  /** Deletes every subscription; returns them. */
  async deleteAll(): Promise<Subscription[]> {
    const all = this.list();
    this.subs.clear();
    this.onChange();
    await this.save();
    return all;
  }

  /** Deletes every subscription of one consumer endpoint; returns them. */
  async deleteClient(clientId: string): Promise<Subscription[]> {
    const gone = this.list().filter((s) => clientIdOf(s.EndpointUri) === clientId);
    for (const s of gone) this.subs.delete(s.SubscriptionId);
    this.onChange();
    if (gone.length > 0) await this.save();
    return gone;
  }

  async setLastSyncState(state: string): Promise<void> {
    if (this.lastSyncState === state) return;
    this.lastSyncState = state;
    await this.save();
  }

  /** Persists the current content: one write at a time; calls during a write share the next one. */
  save(): Promise<void> {
    if (this.pending) return this.pending;
    const next = this.running
      .catch(() => undefined)
      .then(() => {
        this.pending = undefined;
        const content: StoreFile = { version: 1, lastSyncState: this.lastSyncState, subscriptions: this.list() };
        this.hasFile = true;
        return writeFileAtomic(this.file, `${goJson(content, 2)}\n`);
      });
    this.pending = next;
    this.running = next;
    return next;
  }

  /** Resolves once every write asked for so far is on disk. */
  async flush(): Promise<void> {
    await this.running.catch(() => undefined);
  }
}
