// The PTP data plane as an actor: one loaded generation (line parser + its metrics registry), invoked by the sidecar
// while it serves. Lines arrive as `ptp.lines` events (one text of newline-ended lines per socket read) and are parsed
// in a plain loop; only verdict edges go back, as one `ptp.edges` event per batch. `ptp.clockState` sets the
// clock_state gauge. Once the backlog is parsed, the actor offers the same ingest to the line channel
// (src/actors/ptp/lineChannel.ts): while the sidecar serves, the socketServer calls it directly for each read, with
// the same effects as a `ptp.lines` event. The invocation is the one owner of the generation: when the sidecar leaves
// `serving` (restart, shutdown) the invocation stops and the cleanup below withdraws the ingest, detaches the registry
// from /metrics and drops it. Nothing else stops a generation.
import { fromCallback } from 'xstate';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { PtpGeneration } from '../../io/ptp/generation.js';
import type { GenerationEdgesEvent, GenerationInputEvent, SidecarGeneration } from '../../machines/ptp/events.js';
import { derivedLogic } from '../observe/derived.js';
import type { LineChannel } from './lineChannel.js';

export interface GenerationActorInput {
  generation: SidecarGeneration;
  /** Lines queued while the sidecar loaded (texts of lines each followed by `\n`): parsed first, before any new line. */
  backlog: readonly string[];
}

export interface GenerationActorDeps {
  /** The process-wide registry (counters that outlive generations). Absent in a replay. */
  registry?: Registry;
  logger?: Pick<Logger, 'warn'>;
  /** Attach / detach the serving generation's registry (the MetricsHub). */
  attach?: (generation: PtpGeneration) => void;
  detach?: (generation: PtpGeneration) => void;
  /** Minimum interval between two "lines dropped" warnings (default 10 s); the count between is summarised. */
  warnIntervalMs?: number;
  now?: () => number;
  /** The direct path: the ingest is offered here once the backlog is parsed. Absent in a replay. */
  lines?: LineChannel;
}

const isPtpGeneration = (g: SidecarGeneration): g is PtpGeneration =>
  typeof (g as Partial<PtpGeneration>).parser === 'object';

function rejectedCounter(registry: Registry | undefined): Counter<'reason'> | undefined {
  if (!registry) return undefined;
  return (
    (registry.getSingleMetric('syncvisor_ptp_rejected_lines_total') as Counter<'reason'> | undefined) ??
    new Counter({
      name: 'syncvisor_ptp_rejected_lines_total',
      help: 'Recognised PTP lines dropped because they name a clock the configuration does not have (reason: unknownClock).',
      labelNames: ['reason'],
      registers: [registry],
    })
  );
}

export function createGenerationActor(deps: GenerationActorDeps = {}) {
  const rejected = rejectedCounter(deps.registry);
  const now = deps.now ?? Date.now;
  const warnEvery = deps.warnIntervalMs ?? 10_000;
  return derivedLogic(
    fromCallback<GenerationInputEvent, GenerationActorInput>(({ input, self, sendBack, receive }) => {
      const g = input.generation;
      const ptp = isPtpGeneration(g) ? g : undefined;
      if (ptp) deps.attach?.(ptp);
      let rejectedSeen = ptp?.parser.stats.unknownClock ?? 0;
      let lastWarn = -Infinity;
      let suppressed = 0;
      const account = (): void => {
        if (!ptp) return;
        const n = ptp.parser.stats.unknownClock - rejectedSeen;
        if (n <= 0) return;
        rejectedSeen += n;
        rejected?.inc({ reason: 'unknownClock' }, n);
        const t = now();
        if (t - lastWarn < warnEvery) {
          suppressed += n;
          return;
        }
        deps.logger?.warn(
          { dropped: n + suppressed, sample: ptp.parser.lastUnknownClock },
          'ptp lines for unconfigured clocks dropped',
        );
        lastWarn = t;
        suppressed = 0;
      };
      const ingest = (text: string): void => {
        if (text.length === 0) return;
        const edges = g.ingest(text);
        account();
        if (edges.length > 0) sendBack({ type: 'ptp.edges', edges } satisfies GenerationEdgesEvent);
      };
      // The backlog as one batch: its edges in one ptp.edges event, as the lines of one read.
      ingest(input.backlog.length === 1 ? input.backlog[0]! : input.backlog.join(''));
      receive((e) => {
        if (e.type === 'ptp.lines') ingest(e.lines);
        else if (e.type === 'ptp.clockState') {
          if (e.state === null) g.clearClockState?.(e.process, e.iface);
          else g.setClockState(e.process, e.iface, e.state);
        } else if (e.type === 'ptp.ingestFailed') throw e.error;
      });
      const lines = deps.lines;
      const direct = (text: string): void => {
        try {
          ingest(text);
        } catch (error) {
          lines?.withdraw(direct);
          self.send({ type: 'ptp.ingestFailed', error });
        }
      };
      lines?.offer(direct);
      return () => {
        lines?.withdraw(direct);
        if (ptp) deps.detach?.(ptp);
        g.stop();
      };
    }),
  );
}
