// One /metrics page from several prom-client registries: the process-wide one, plus registries that come and go
// (the ptp sidecar's per-generation registry is replaced on every CMD RESTART, so no series of a removed profile
// survives).
import { Registry, collectDefaultMetrics } from 'prom-client';

export class MetricsHub {
  /** Process metrics, supervisor, portsync, socket counters: everything that lives as long as the process. */
  readonly global: Registry;
  private readonly sources = new Set<() => Registry | undefined>();

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    this.global = new Registry();
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.global });
  }

  /** Adds a registry provider (called on every scrape); returns a function that removes it. */
  attach(provider: () => Registry | undefined): () => void {
    this.sources.add(provider);
    return () => this.sources.delete(provider);
  }

  get contentType(): string {
    return this.global.contentType;
  }

  async text(): Promise<string> {
    const parts = [await this.global.metrics()];
    for (const provider of this.sources) {
      const reg = provider();
      if (reg) parts.push(await reg.metrics());
    }
    return parts.filter((p) => p.length > 0).join('\n');
  }
}
