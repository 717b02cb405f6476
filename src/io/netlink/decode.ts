// Decoder of rtnetlink link messages: nlmsghdr framing, NLMSG_DONE / NLMSG_ERROR, RTM_NEWLINK / RTM_DELLINK
// (ifinfomsg + the rtattrs portsync needs). Pure: bytes in, values out; bad input is a typed error, never a throw.
import { endianness } from 'node:os';
import { bytesToText } from '../redis/byteText.js';

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;

export const NLM_F_MULTI = 0x2;
export const NLM_F_DUMP_INTR = 0x10;

export const IFF_UP = 0x1;
export const IFF_RUNNING = 0x40;
export const IFF_LOWER_UP = 0x10000;

const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_MASTER = 10;
const IFLA_OPERSTATE = 16;
const IFLA_LINKINFO = 18;
const IFLA_CARRIER_CHANGES = 35;
const IFLA_INFO_KIND = 1;
// rta_type carries NLA_F_NESTED (0x8000) and NLA_F_NET_BYTEORDER (0x4000) flags above the type.
const NLA_TYPE_MASK = 0x3fff;

const NLMSG_HDRLEN = 16;
const IFINFOMSG_LEN = 16;
const RTA_HDRLEN = 4;

export interface NlMsgHeader {
  len: number;
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

export interface LinkMessage {
  type: 'newlink' | 'dellink';
  header: NlMsgHeader;
  ifindex: number;
  flags: number;
  change: number;
  name: string;
  /** 0 when IFLA_MTU is absent. */
  mtu: number;
  /** IFLA_OPERSTATE, undefined when absent. */
  operstate: number | undefined;
  /** IFLA_MASTER ifindex, 0 when none. */
  master: number;
  /** IFLA_INFO_KIND inside IFLA_LINKINFO, '' when absent. */
  linkKind: string;
  /** IFLA_CARRIER_CHANGES (u32: how often the carrier went up or down), undefined when absent. */
  carrierChanges: number | undefined;
}

export interface DoneMessage {
  type: 'done';
  header: NlMsgHeader;
  /** The int after the header (0, or a negative errno when the dump failed). */
  error: number;
}

export interface ErrorMessage {
  type: 'error';
  header: NlMsgHeader;
  /** Negative errno; 0 is an ACK. */
  error: number;
  /** seq of the request this answers, when the echoed header is present. */
  requestSeq: number | undefined;
}

export interface OtherMessage {
  type: 'other';
  header: NlMsgHeader;
}

export type NetlinkMessage = LinkMessage | DoneMessage | ErrorMessage | OtherMessage;

export type DecodeErrorReason =
  /** Fewer bytes than a header, or a payload shorter than its fixed part. */
  | 'truncated'
  /** nlmsg_len smaller than the header or past the end of the datagram. */
  | 'badLength'
  /** An rtattr with a length that does not fit its message. */
  | 'badAttribute'
  /** A link message without IFLA_IFNAME. */
  | 'missingName';

export interface DecodeError {
  reason: DecodeErrorReason;
  /** Byte offset in the datagram where the bad message starts. */
  offset: number;
  detail: string;
}

export interface DecodeResult {
  /** The messages decoded, in order; those before (and, for per-message errors, after) a bad one are kept. */
  messages: NetlinkMessage[];
  errors: DecodeError[];
}

const LE = endianness() === 'LE';
const align4 = (n: number): number => (n + 3) & ~3;

function header(view: DataView, off: number): NlMsgHeader {
  return {
    len: view.getUint32(off, LE),
    type: view.getUint16(off + 4, LE),
    flags: view.getUint16(off + 6, LE),
    seq: view.getUint32(off + 8, LE),
    pid: view.getUint32(off + 12, LE),
  };
}

/** Longest name read by the ASCII fast path (IFNAMSIZ is 16: kernel names are at most 15 bytes). */
const SHORT_NAME = 32;

/**
 * A NUL-terminated attribute string as byte text (src/io/redis/byteText.ts): valid UTF-8 as text, any other byte as
 * U+DC80 + byte. The kernel accepts any bytes in an interface name except NUL, '/', ':' and whitespace, so a name is
 * carried byte for byte and equals its CONFIG_DB / APPL_DB key (read the same way) exactly when the bytes are equal.
 * A short ASCII name (every kernel name portsync writes) is built from its bytes directly, without a Buffer view.
 */
function cString(bytes: Uint8Array, start: number, end: number): string {
  let stop = start;
  let ascii = '';
  let isAscii = true;
  while (stop < end) {
    const c = bytes[stop]!;
    if (c === 0) break;
    if (isAscii && (c >= 0x80 || stop - start >= SHORT_NAME)) isAscii = false;
    else if (isAscii) ascii += String.fromCharCode(c);
    stop++;
  }
  if (isAscii) return ascii;
  return bytesToText(Buffer.from(bytes.buffer, bytes.byteOffset + start, stop - start));
}

function decodeLink(
  view: DataView,
  bytes: Uint8Array,
  hdr: NlMsgHeader,
  off: number,
): LinkMessage | Omit<DecodeError, 'offset'> {
  const end = off + hdr.len;
  const body = off + NLMSG_HDRLEN;
  if (hdr.len < NLMSG_HDRLEN + IFINFOMSG_LEN) {
    return { reason: 'truncated', detail: `link message of ${hdr.len} bytes has no complete ifinfomsg` };
  }
  const ifindex = view.getInt32(body + 4, LE);
  let name = '';
  let hasName = false;
  let mtu = 0;
  let operstate: number | undefined;
  let master = 0;
  let linkKind = '';
  let carrierChanges: number | undefined;
  let bad: string | undefined;
  // The rtattrs, walked in place (alignment padding of fewer than RTA_HDRLEN bytes at the end is ignored).
  let at = body + IFINFOMSG_LEN;
  while (at + RTA_HDRLEN <= end) {
    const len = view.getUint16(at, LE);
    const type = view.getUint16(at + 2, LE) & NLA_TYPE_MASK;
    if (len < RTA_HDRLEN || at + len > end)
      return { reason: 'badAttribute', detail: 'rtattr length does not fit the message' };
    const aoff = at + RTA_HDRLEN;
    const alen = len - RTA_HDRLEN;
    switch (type) {
      case IFLA_IFNAME:
        name = cString(bytes, aoff, aoff + alen);
        hasName = true;
        break;
      case IFLA_MTU:
        if (alen >= 4) mtu = view.getUint32(aoff, LE);
        else bad = 'IFLA_MTU shorter than 4 bytes';
        break;
      case IFLA_MASTER:
        if (alen >= 4) master = view.getUint32(aoff, LE);
        else bad = 'IFLA_MASTER shorter than 4 bytes';
        break;
      case IFLA_OPERSTATE:
        if (alen >= 1) operstate = view.getUint8(aoff);
        else bad = 'IFLA_OPERSTATE empty';
        break;
      case IFLA_CARRIER_CHANGES:
        if (alen >= 4) carrierChanges = view.getUint32(aoff, LE);
        else bad = 'IFLA_CARRIER_CHANGES shorter than 4 bytes';
        break;
      case IFLA_LINKINFO: {
        const iend = aoff + alen;
        let inner = aoff;
        while (inner + RTA_HDRLEN <= iend) {
          const ilen = view.getUint16(inner, LE);
          const itype = view.getUint16(inner + 2, LE) & NLA_TYPE_MASK;
          if (ilen < RTA_HDRLEN || inner + ilen > iend) {
            bad = 'bad nested attribute in IFLA_LINKINFO';
            break;
          }
          if (itype === IFLA_INFO_KIND) linkKind = cString(bytes, inner + RTA_HDRLEN, inner + ilen);
          inner += align4(ilen);
        }
        break;
      }
    }
    at += align4(len);
  }
  if (bad !== undefined) return { reason: 'badAttribute', detail: bad };
  if (!hasName) return { reason: 'missingName', detail: `ifindex ${ifindex} without IFLA_IFNAME` };
  return {
    type: hdr.type === RTM_NEWLINK ? 'newlink' : 'dellink',
    header: hdr,
    ifindex,
    flags: view.getUint32(body + 8, LE),
    change: view.getUint32(body + 12, LE),
    name,
    mtu,
    operstate,
    master,
    linkKind,
    carrierChanges,
  };
}

/** Decodes one RTM_NEWLINK / RTM_DELLINK message at `off` (its header already read), or says why it cannot. */
export type LinkDecoder = (
  view: DataView,
  bytes: Uint8Array,
  hdr: NlMsgHeader,
  off: number,
) => LinkMessage | Omit<DecodeError, 'offset'>;

/**
 * Decodes every netlink message of one datagram. Never throws. `linkDecoder` is for the property test that compares
 * this decoder's link messages with a simple reference decoder's over the same framing; the daemon uses the default.
 */
export function decodeDatagram(data: Uint8Array, linkDecoder: LinkDecoder = decodeLink): DecodeResult {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const messages: NetlinkMessage[] = [];
  const errors: DecodeError[] = [];
  let off = 0;
  while (off < data.byteLength) {
    const left = data.byteLength - off;
    if (left < NLMSG_HDRLEN) {
      errors.push({ reason: 'truncated', offset: off, detail: `${left} bytes left, less than a nlmsghdr` });
      break;
    }
    const hdr = header(view, off);
    if (hdr.len < NLMSG_HDRLEN || hdr.len > left) {
      // Framing is lost: nothing after this point can be trusted.
      errors.push({ reason: 'badLength', offset: off, detail: `nlmsg_len ${hdr.len} with ${left} bytes left` });
      break;
    }
    const payload = hdr.len - NLMSG_HDRLEN;
    switch (hdr.type) {
      case RTM_NEWLINK:
      case RTM_DELLINK: {
        const link = linkDecoder(view, data, hdr, off);
        if ('reason' in link) errors.push({ ...link, offset: off });
        else messages.push(link);
        break;
      }
      case NLMSG_DONE:
        messages.push({ type: 'done', header: hdr, error: payload >= 4 ? view.getInt32(off + NLMSG_HDRLEN, LE) : 0 });
        break;
      case NLMSG_ERROR:
        if (payload < 4) {
          errors.push({ reason: 'truncated', offset: off, detail: 'NLMSG_ERROR without its error code' });
        } else {
          messages.push({
            type: 'error',
            header: hdr,
            error: view.getInt32(off + NLMSG_HDRLEN, LE),
            requestSeq: payload >= 4 + NLMSG_HDRLEN ? view.getUint32(off + NLMSG_HDRLEN + 4 + 8, LE) : undefined,
          });
        }
        break;
      default:
        messages.push({ type: 'other', header: hdr });
    }
    off += align4(hdr.len);
  }
  return { messages, errors };
}
