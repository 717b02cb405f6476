// The netlink link decoder in its simple form (a visitor per attribute walk, every string through a Buffer view and
// bytesToText): the reference the link decoder of src/io/netlink/decode.ts is property-tested against (same messages
// and errors for any bytes). Kept as it was written; not used by the daemon.
import { endianness } from 'node:os';
import { bytesToText } from '../../src/io/redis/byteText.js';
import {
  decodeDatagram,
  RTM_NEWLINK,
  type DecodeError,
  type DecodeResult,
  type LinkMessage,
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

function decodeLinkSimple(
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

/**
 * The simple decoder: every netlink message of one datagram, the link messages decoded by the simple form above. The
 * framing (headers, NLMSG_DONE / NLMSG_ERROR, alignment) is decodeDatagram's own. Never throws.
 */
export const decodeDatagramSimple = (data: Uint8Array): DecodeResult => decodeDatagram(data, decodeLinkSimple);
