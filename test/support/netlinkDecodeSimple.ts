// The netlink decoder in its simple form (a visitor per attribute walk, every string through a Buffer view and
// bytesToText): the reference the decoder of src/io/netlink/decode.ts is property-tested against (same messages and
// errors for any bytes). Kept as it was written; not used by the daemon.
import { endianness } from 'node:os';
import { bytesToText } from '../../src/io/redis/byteText.js';
import {
  NLMSG_DONE,
  NLMSG_ERROR,
  RTM_DELLINK,
  RTM_NEWLINK,
  type DecodeError,
  type DecodeResult,
  type LinkMessage,
  type NetlinkMessage,
  type NlMsgHeader,
} from '../../src/io/netlink/decode.js';

const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_MASTER = 10;
const IFLA_OPERSTATE = 16;
const IFLA_LINKINFO = 18;
const IFLA_CARRIER_CHANGES = 35;
const IFLA_INFO_KIND = 1;
const NLA_TYPE_MASK = 0x3fff;
const NLMSG_HDRLEN = 16;
const IFINFOMSG_LEN = 16;
const RTA_HDRLEN = 4;

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

/**
 * A NUL-terminated attribute string as byte text (src/io/redis/byteText.ts): valid UTF-8 as text, any other byte as
 * U+DC80 + byte. The kernel accepts any bytes in an interface name except NUL, '/', ':' and whitespace, so a name is
 * carried byte for byte and equals its CONFIG_DB / APPL_DB key (read the same way) exactly when the bytes are equal.
 */
function cString(bytes: Uint8Array, start: number, end: number): string {
  let stop = start;
  while (stop < end && bytes[stop] !== 0) stop++;
  return bytesToText(Buffer.from(bytes.buffer, bytes.byteOffset + start, stop - start));
}

/** Walks rtattrs in [start, end); calls visit for each. Returns false when an attribute length is bad. */
function walkAttrs(
  view: DataView,
  start: number,
  end: number,
  visit: (type: number, off: number, len: number) => void,
): boolean {
  let off = start;
  while (off + RTA_HDRLEN <= end) {
    const len = view.getUint16(off, LE);
    const type = view.getUint16(off + 2, LE) & NLA_TYPE_MASK;
    if (len < RTA_HDRLEN || off + len > end) return false;
    visit(type, off + RTA_HDRLEN, len - RTA_HDRLEN);
    off += align4(len);
  }
  // Fewer than RTA_HDRLEN bytes left: alignment padding.
  return true;
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
  const link: LinkMessage = {
    type: hdr.type === RTM_NEWLINK ? 'newlink' : 'dellink',
    header: hdr,
    ifindex: view.getInt32(body + 4, LE),
    flags: view.getUint32(body + 8, LE),
    change: view.getUint32(body + 12, LE),
    name: '',
    mtu: 0,
    operstate: undefined,
    master: 0,
    linkKind: '',
    carrierChanges: undefined,
  };
  let bad: string | undefined;
  let hasName = false;
  const ok = walkAttrs(view, body + IFINFOMSG_LEN, end, (type, aoff, alen) => {
    switch (type) {
      case IFLA_IFNAME:
        link.name = cString(bytes, aoff, aoff + alen);
        hasName = true;
        break;
      case IFLA_MTU:
        if (alen >= 4) link.mtu = view.getUint32(aoff, LE);
        else bad = 'IFLA_MTU shorter than 4 bytes';
        break;
      case IFLA_MASTER:
        if (alen >= 4) link.master = view.getUint32(aoff, LE);
        else bad = 'IFLA_MASTER shorter than 4 bytes';
        break;
      case IFLA_OPERSTATE:
        if (alen >= 1) link.operstate = view.getUint8(aoff);
        else bad = 'IFLA_OPERSTATE empty';
        break;
      case IFLA_CARRIER_CHANGES:
        if (alen >= 4) link.carrierChanges = view.getUint32(aoff, LE);
        else bad = 'IFLA_CARRIER_CHANGES shorter than 4 bytes';
        break;
      case IFLA_LINKINFO:
        if (
          !walkAttrs(view, aoff, aoff + alen, (itype, ioff, ilen) => {
            if (itype === IFLA_INFO_KIND) link.linkKind = cString(bytes, ioff, ioff + ilen);
          })
        ) {
          bad = 'bad nested attribute in IFLA_LINKINFO';
        }
        break;
    }
  });
  if (!ok) return { reason: 'badAttribute', detail: 'rtattr length does not fit the message' };
  if (bad !== undefined) return { reason: 'badAttribute', detail: bad };
  if (!hasName) return { reason: 'missingName', detail: `ifindex ${link.ifindex} without IFLA_IFNAME` };
  return link;
}

/** The simple decoder: every netlink message of one datagram. Never throws. */
export function decodeDatagramSimple(data: Uint8Array): DecodeResult {
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
        const link = decodeLink(view, data, hdr, off);
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
