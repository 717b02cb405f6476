// The kernel side of netlink: a thin typed wrapper over the native addon (native/netlink.c, built by node-gyp into
// build/Release). The addon owns the socket and a receive thread; datagrams reach JS in batches.
import { nativeAddon } from '../native.js';
import { pacedDelivery } from './paced.js';

export interface NetlinkSocketOptions {
  /** Receive buffer to force (SO_RCVBUFFORCE, falling back to SO_RCVBUF). Default 4 MiB. */
  rcvbuf?: number;
  /** Bound of the queue of notification datagrams waiting for JS; beyond it they are dropped and `queue` overflow is reported. */
  queueMax?: number;
  /** Create the socket inside this network namespace, e.g. '/var/run/netns/NAME'. */
  netns?: string;
  /**
   * Handling time per slice of datagrams before the event loop gets a turn (default 4 ms; paced.ts): a dump of
   * thousands of links does not hold the loop for its whole length.
   */
  sliceMs?: number;
  /** Datagrams in arrival order (one datagram may hold several netlink messages). */
  onMessages(datagrams: Buffer[]): void;
  /** The kernel dropped notifications (ENOBUFS) or the queue to JS overflowed: state must be re-read with a dump. */
  onOverflow(source: 'kernel' | 'queue'): void;
}

export interface NetlinkSocket {
  /** Sends RTM_GETLINK with NLM_F_REQUEST|NLM_F_DUMP and this sequence number. Throws when the socket is closed. */
  dump(seq: number): void;
  /**
   * Sends RTM_NEWLINK for `ifindex` with IFF_UP cleared and NLM_F_ACK (what `ip link set DEV down` does). The kernel's
   * answer is an NLMSG_ERROR reply with this `seq` (error 0 = done, else the negative errno). Throws when closed.
   */
  setLinkDown?(ifindex: number, seq: number): void;
  /** Stops the receive thread and closes the socket. Idempotent. */
  close(): void;
  /** Effective receive buffer (the kernel reports twice the requested size). */
  readonly rcvbuf: number;
  /** Our netlink port id; dump replies carry it as nlmsg_pid. */
  readonly portId: number;
}

interface Addon {
  open(options: NetlinkSocketOptions): NetlinkSocket;
}

const loadAddon = nativeAddon<Addon>('syncvisor_netlink', 'netlink addon');

/** Opens a NETLINK_ROUTE socket subscribed to RTMGRP_LINK. Errors (no addon, EPERM, bad netns path) are thrown. */
export function openNetlinkSocket(options: NetlinkSocketOptions): NetlinkSocket {
  const queueMax = options.queueMax ?? 4096;
  // The addon's queue bounds what waits while the loop is busy; this one what waits between slices (same bound).
  const paced = pacedDelivery({
    queueMax,
    // Called from the addon's callbacks only, which run after open() returned.
    portId: () => opened.portId,
    onMessages: options.onMessages,
    onOverflow: options.onOverflow,
    ...(options.sliceMs !== undefined ? { sliceMs: options.sliceMs } : {}),
  });
  const opened = loadAddon().open({
    ...options,
    rcvbuf: options.rcvbuf ?? 4 * 1024 * 1024,
    queueMax,
    onMessages: (datagrams) => paced.onMessages(datagrams),
    onOverflow: (source) => paced.onOverflow(source),
  });
  return {
    dump: (seq) => opened.dump(seq),
    ...(opened.setLinkDown ? { setLinkDown: (ifindex: number, seq: number) => opened.setLinkDown!(ifindex, seq) } : {}),
    close: () => {
      paced.close();
      opened.close();
    },
    get rcvbuf() {
      return opened.rcvbuf;
    },
    get portId() {
      return opened.portId;
    },
  };
}
