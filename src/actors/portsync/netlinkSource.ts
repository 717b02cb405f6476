// netlinkSource: owns the kernel netlink socket (src/io/netlink) and turns datagrams into the netlink.* events of
// src/machines/supervisor/sourceEvents.ts. The socket is subscribed to RTMGRP_LINK before the first dump is sent, so no change
// falls between the dump and the notifications. One dump at a time: the kernel refuses a second dump on a socket
// while one runs (EBUSY), so a dump wanted during another (overflow, request) supersedes it: the old dump's remaining
// messages and its DONE are ignored and the new request goes out when the kernel has finished the old one.
import { fromCallback } from 'xstate';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { openNetlinkSocket, type NetlinkSocket, type NetlinkSocketOptions } from '../../io/netlink/socket.js';
import {
  decodeDatagram,
  NLM_F_DUMP_INTR,
  type DecodeErrorReason,
  type LinkMessage,
  type NetlinkMessage,
} from '../../io/netlink/decode.js';
import type {
  NetlinkDumpStartedEvent,
  NetlinkOldNetdevsRetiredEvent,
  NetlinkRequestDumpEvent,
  NetlinkRetireOldNetdevsEvent,
  NetlinkSourceEvent,
} from '../../machines/supervisor/sourceEvents.js';

type DumpReason = NetlinkDumpStartedEvent['reason'];

export interface NetlinkSourceDeps {
  registry: Registry;
  logger: Logger;
  /** Open the socket inside this network namespace ('/var/run/netns/NAME'). */
  netns?: string;
  rcvbuf?: number;
  queueMax?: number;
  /** Replaces the real socket (tests). */
  open?: (options: NetlinkSocketOptions) => NetlinkSocket;
  /** Consecutive failed dumps (NLMSG_ERROR, failed send) retried before giving up until the next overflow/request. */
  maxDumpRetries?: number;
  /** Delay before retrying a dump whose request could not be sent. */
  retryDelayMs?: number;
  /**
   * How long the first dump waits for a netlink.requestDump (an owner that asks once its own start-up reads are
   * done, so they are not queued behind the dump's events); then it starts anyway. 0 (default): dump at once.
   */
  startDumpWaitMs?: number;
}

interface Metrics {
  messages: Counter<'type'>;
  overflows: Counter;
  dumps: Counter<'reason'>;
  decodeErrors: Counter<'reason'>;
  oldNetdevMessages: Counter;
}

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  // The supervisor may start this logic again on the same registry: reuse the metric instead of throwing.
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

function metricsOn(registry: Registry): Metrics {
  return {
    messages: counter(registry, 'syncvisor_netlink_messages_total', 'Netlink messages received, by type.', ['type']),
    overflows: counter(
      registry,
      'syncvisor_netlink_overflows_total',
      'Netlink overflows (kernel ENOBUFS or the queue to JS).',
      [],
    ),
    dumps: counter(registry, 'syncvisor_netlink_dumps_total', 'RTM_GETLINK dumps requested, by reason.', ['reason']),
    decodeErrors: counter(
      registry,
      'syncvisor_netlink_decode_errors_total',
      'Netlink frames that could not be decoded, by reason.',
      ['reason'],
    ),
    oldNetdevMessages: counter(
      registry,
      'syncvisor_netlink_old_netdev_messages_total',
      'Link messages of netdevs that existed at a SONiC cold start (set down then), ignored for the life of the process.',
      [],
    ),
  };
}

const LOG_INTERVAL_MS = 10_000;

interface Dump {
  seq: number;
  reason: DumpReason;
  interrupted: boolean;
  superseded: boolean;
}

export function createNetlinkSource(deps: NetlinkSourceDeps) {
  const metrics = metricsOn(deps.registry);
  const open = deps.open ?? openNetlinkSocket;
  const maxRetries = deps.maxDumpRetries ?? 3;
  const retryDelayMs = deps.retryDelayMs ?? 1000;
  const log = deps.logger.child({ actor: 'netlinkSource' });
  let seqBase = 0; // sequence numbers keep increasing across restarts of this logic
  // The ifindexes of the netdevs retired at a SONiC cold start: ignored for the life of the process (this logic may be
  // started again by the supervisor; the set stays). undefined until the first netlink.retireOldNetdevs.
  let retired: ReadonlySet<number> | undefined;

  return fromCallback<NetlinkRequestDumpEvent | NetlinkRetireOldNetdevsEvent>(({ sendBack, receive }) => {
    const emit = (event: NetlinkSourceEvent | NetlinkOldNetdevsRetiredEvent): void => sendBack(event);
    /** seq of a setlink request → the link's name, until the kernel's ACK (bounded by the retired links). */
    const setDownRequests = new Map<number, string>();
    let current: Dump | null = null;
    let pending: DumpReason | null = null;
    let failures = 0;
    let closed = false;
    let retryTimer: NodeJS.Timeout | undefined;
    /** Set while the first dump waits for a request (startDumpWaitMs). */
    let startTimer: NodeJS.Timeout | undefined;
    const lastLog = new Map<DecodeErrorReason, { at: number; suppressed: number }>();

    const sendDump = (reason: DumpReason): void => {
      if (closed) return;
      seqBase = (seqBase % 0x7fffffff) + 1;
      const dump: Dump = { seq: seqBase, reason, interrupted: false, superseded: false };
      current = dump;
      metrics.dumps.inc({ reason });
      emit({ type: 'netlink.dumpStarted', seq: dump.seq, reason });
      try {
        sock.dump(dump.seq);
      } catch (error) {
        current = null;
        failed(dump, reason, { err: error }, 'netlink dump request could not be sent');
      }
    };

    /** A dump that produced no usable result: retry (bounded), unless a newer dump is already wanted. */
    const failed = (dump: Dump, reason: DumpReason, fields: object, message: string): void => {
      failures++;
      if (pending !== null) {
        const next = pending;
        pending = null;
        sendDump(next);
        return;
      }
      if (failures > maxRetries) {
        log.error({ ...fields, seq: dump.seq, failures }, `${message}; giving up until the next overflow or request`);
        return;
      }
      log.warn({ ...fields, seq: dump.seq, failures }, `${message}; retrying`);
      retryTimer = setTimeout(() => sendDump(reason), retryDelayMs);
    };

    /** A dump is wanted: now, or after the running one if there is one (which it supersedes). */
    const wantDump = (reason: DumpReason): void => {
      clearTimeout(startTimer);
      startTimer = undefined;
      if (current === null) {
        clearTimeout(retryTimer);
        sendDump(reason);
        return;
      }
      current.superseded = true;
      pending ??= reason;
    };

    const finish = (dump: Dump): void => {
      current = null;
      if (dump.superseded) {
        const next = pending ?? 'request';
        pending = null;
        sendDump(next);
        return;
      }
      failures = 0;
      emit({ type: 'netlink.dumpDone', seq: dump.seq, interrupted: dump.interrupted });
      if (dump.interrupted) sendDump('interrupted');
    };

    const linkEvent = (m: LinkMessage, inDump: boolean): void => {
      if (retired?.has(m.ifindex)) {
        metrics.oldNetdevMessages.inc();
        return;
      }
      emit({
        type: 'netlink.link',
        kind: m.type === 'newlink' ? 'new' : 'del',
        name: m.name,
        ifindex: m.ifindex,
        flags: m.flags,
        change: m.change,
        mtu: m.mtu,
        operstate: m.operstate,
        master: m.master,
        linkKind: m.linkKind,
        ...(m.carrierChanges !== undefined ? { carrierChanges: m.carrierChanges } : {}),
        inDump,
        seq: inDump ? m.header.seq : 0,
      });
    };

    const handle = (m: NetlinkMessage): void => {
      metrics.messages.inc({ type: m.type });
      const reply = m.header.pid === sock.portId && m.header.pid !== 0;
      if (!reply) {
        // Kernel notifications (pid 0). Anything else not addressed to us is not ours to interpret.
        if (m.type === 'newlink' || m.type === 'dellink') linkEvent(m, false);
        return;
      }
      const dump = current;
      const seq = m.type === 'error' ? (m.requestSeq ?? m.header.seq) : m.header.seq;
      if (m.type === 'error' && setDownRequests.has(seq)) {
        const name = setDownRequests.get(seq);
        setDownRequests.delete(seq);
        if (m.error < 0) log.warn({ name, errno: -m.error }, 'failed to bring down old interface');
        return;
      }
      if (dump === null || seq !== dump.seq) return; // a reply to a dump we no longer track
      if (m.header.flags & NLM_F_DUMP_INTR) dump.interrupted = true;
      switch (m.type) {
        case 'newlink':
        case 'dellink':
          if (!dump.superseded) linkEvent(m, true);
          break;
        case 'done':
          if (m.error < 0) {
            current = null;
            failed(dump, 'interrupted', { errno: -m.error }, 'netlink dump ended with an error');
          } else {
            finish(dump);
          }
          break;
        case 'error':
          if (m.error < 0) {
            current = null;
            failed(dump, 'interrupted', { errno: -m.error }, 'netlink dump refused by the kernel');
          }
          break;
        case 'other':
          break;
      }
    };

    const decodeError = (reason: DecodeErrorReason, detail: string, offset: number): void => {
      metrics.decodeErrors.inc({ reason });
      const now = Date.now();
      const seen = lastLog.get(reason);
      if (seen && now - seen.at < LOG_INTERVAL_MS) {
        seen.suppressed++;
        return;
      }
      log.warn({ reason, detail, offset, suppressed: seen?.suppressed ?? 0 }, 'netlink frame discarded');
      lastLog.set(reason, { at: now, suppressed: 0 });
    };

    const onMessages = (datagrams: Buffer[]): void => {
      if (closed) return;
      for (const d of datagrams) {
        // The decoder never throws; a throw from a receiver of sendBack must not kill the receive path either.
        try {
          const { messages, errors } = decodeDatagram(d);
          for (const m of messages) handle(m);
          for (const e of errors) decodeError(e.reason, e.detail, e.offset);
        } catch (error) {
          log.error({ err: error }, 'netlink datagram handling failed');
        }
      }
    };

    const onOverflow = (source: 'kernel' | 'queue'): void => {
      if (closed) return;
      try {
        metrics.overflows.inc();
        log.warn({ source }, 'netlink overflow: re-dumping');
        emit({ type: 'netlink.overflow', source });
        wantDump('overflow');
      } catch (error) {
        log.error({ err: error }, 'netlink overflow handling failed');
      }
    };

    // Subscribed (bound to RTMGRP_LINK) by open(), before the first dump request below: no gap.
    const sock = open({
      netns: deps.netns,
      rcvbuf: deps.rcvbuf,
      queueMax: deps.queueMax,
      onMessages,
      onOverflow,
    });
    log.info({ rcvbuf: sock.rcvbuf, netns: deps.netns }, 'netlink socket open');
    if ((deps.startDumpWaitMs ?? 0) > 0) startTimer = setTimeout(() => wantDump('start'), deps.startDumpWaitMs);
    else sendDump('start');

    /** SONiC cold start: the pre-existing links go admin down and their ifindexes are ignored from now on. */
    const retireOldNetdevs = (links: NetlinkRetireOldNetdevsEvent['links']): void => {
      if (retired) {
        log.info({ ifindexes: retired.size }, 'old interfaces were retired earlier in this process; nothing set down');
        emit({ type: 'netlink.oldNetdevsRetired', ifindexes: [...retired] });
        return;
      }
      retired = new Set(links.map((l) => l.ifindex));
      for (const { ifindex, name } of links) {
        log.info({ name, ifindex }, 'bringing down old interface; its messages are ignored from now on');
        seqBase = (seqBase % 0x7fffffff) + 1;
        try {
          if (!sock.setLinkDown) throw new Error('this netlink socket cannot set links down');
          sock.setLinkDown(ifindex, seqBase);
          setDownRequests.set(seqBase, name);
        } catch (error) {
          // As portsyncd: a failure to bring one down is logged and the start goes on.
          log.warn({ name, ifindex, err: error }, 'failed to bring down old interface');
        }
      }
      emit({ type: 'netlink.oldNetdevsRetired', ifindexes: [...retired] });
    };

    receive((event) => {
      if (event.type === 'netlink.requestDump') wantDump('request');
      else if (event.type === 'netlink.retireOldNetdevs') retireOldNetdevs(event.links);
    });

    return () => {
      closed = true;
      clearTimeout(retryTimer);
      clearTimeout(startTimer);
      sock.close();
    };
  });
}

export type NetlinkSourceLogic = ReturnType<typeof createNetlinkSource>;
