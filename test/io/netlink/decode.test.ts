import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeDatagram,
  IFF_LOWER_UP,
  IFF_RUNNING,
  IFF_UP,
  NLM_F_DUMP_INTR,
  NLM_F_MULTI,
  type LinkMessage,
  type NetlinkMessage,
} from '../../../src/io/netlink/decode.js';
import { textToBytes } from '../../../src/io/redis/byteText.js';
import { decodeDatagramSimple } from '../../support/netlinkDecodeSimple.js';

interface Fixture {
  description: string;
  seq?: number;
  portId?: number;
  datagrams: string[];
}

const fixture = (name: string): Fixture =>
  JSON.parse(readFileSync(new URL(`../../fixtures/netlink/${name}.json`, import.meta.url), 'utf8')) as Fixture;
const bytes = (hex: string): Buffer => Buffer.from(hex, 'hex');

function decodeAll(f: Fixture): NetlinkMessage[] {
  return f.datagrams.flatMap((d) => {
    const r = decodeDatagram(bytes(d));
    expect(r.errors).toEqual([]);
    return r.messages;
  });
}
const links = (ms: NetlinkMessage[]): LinkMessage[] =>
  ms.filter((m): m is LinkMessage => m.type === 'newlink' || m.type === 'dellink');

describe('decodeDatagram on datagrams recorded from the kernel', () => {
  it('decodes a RTM_GETLINK dump: several messages per datagram, NLM_F_MULTI, our seq and port id, then NLMSG_DONE', () => {
    const f = fixture('dump');
    const first = decodeDatagram(bytes(f.datagrams[0]!));
    expect(first.messages.length).toBeGreaterThan(1);
    const ms = decodeAll(f);
    const last = ms.at(-1)!;
    expect(last).toMatchObject({ type: 'done', error: 0, header: { seq: f.seq, pid: f.portId } });
    expect(last.header.flags & NLM_F_MULTI).toBe(NLM_F_MULTI);
    const ls = links(ms);
    expect(ls.map((l) => l.name).sort()).toEqual(['Bridge1', 'Ethernet0', 'Ethernet4', 'Ethernet8', 'Peer8', 'lo']);
    for (const l of ls) {
      expect(l.type).toBe('newlink');
      expect(l.header).toMatchObject({ seq: f.seq, pid: f.portId });
      expect(l.header.flags & NLM_F_MULTI).toBe(NLM_F_MULTI);
      expect(l.header.flags & NLM_F_DUMP_INTR).toBe(0);
      expect(l.change).toBe(0); // measured on a 6.x kernel: dump entries carry ifi_change 0 (docs/portsync.md)
    }
    const byName = new Map(ls.map((l) => [l.name, l]));
    const eth0 = byName.get('Ethernet0')!;
    expect(eth0).toMatchObject({ mtu: 1500, master: 0, linkKind: 'veth', operstate: 2 });
    expect(eth0.flags & IFF_UP).toBe(0);
    expect(eth0.ifindex).toBeGreaterThan(1);
    const bridge = byName.get('Bridge1')!;
    expect(bridge.linkKind).toBe('bridge');
    expect(byName.get('Ethernet8')!.master).toBe(bridge.ifindex);
    expect(byName.get('lo')).toMatchObject({ ifindex: 1, mtu: 65536, linkKind: '' });
  });

  it('decodes notifications of a new veth pair (seq 0, pid 0, ifi_change ~0)', () => {
    const ls = links(decodeAll(fixture('create')));
    expect(ls.map((l) => [l.type, l.name])).toEqual(
      expect.arrayContaining([
        ['newlink', 'Ethernet12'],
        ['newlink', 'Ethernet16'],
      ]),
    );
    for (const l of ls) expect(l.header).toMatchObject({ seq: 0, pid: 0, flags: 0 });
  });

  it('sees IFF_UP and then IFF_RUNNING|IFF_LOWER_UP when both ends of a veth pair go up', () => {
    const ls = links(decodeAll(fixture('up'))).filter((l) => l.name === 'Ethernet12');
    expect(ls[0]!.flags & IFF_UP).toBe(IFF_UP);
    const final = ls.at(-1)!;
    expect(final.flags & (IFF_UP | IFF_RUNNING | IFF_LOWER_UP)).toBe(IFF_UP | IFF_RUNNING | IFF_LOWER_UP);
    expect(final.operstate).toBe(6); // IF_OPER_UP
  });

  it('reads the new MTU', () => {
    expect(links(decodeAll(fixture('mtu')))).toEqual([expect.objectContaining({ name: 'Ethernet12', mtu: 9100 })]);
  });

  it('sees the peer lose IFF_RUNNING when the other end goes down', () => {
    const ls = links(decodeAll(fixture('down')));
    const peer = ls.filter((l) => l.name === 'Ethernet12').at(-1)!;
    expect(peer.flags & IFF_UP).toBe(IFF_UP);
    expect(peer.flags & IFF_RUNNING).toBe(0);
    const downed = ls.filter((l) => l.name === 'Ethernet16').at(-1)!;
    expect(downed.flags & IFF_UP).toBe(0);
  });

  it('decodes RTM_DELLINK for both ends of a deleted veth pair', () => {
    const dels = links(decodeAll(fixture('delete'))).filter((l) => l.type === 'dellink');
    expect(dels.map((l) => l.name).sort()).toEqual(['Ethernet12', 'Ethernet16']);
  });
});

// Helpers that build frames around recorded bytes.
function firstLinkFrame(): Buffer {
  const d = bytes(fixture('mtu').datagrams[0]!);
  return d.subarray(0, d.readUInt32LE(0));
}
function nlmsg(type: number, flags: number, seq: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + payload.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags, 6);
  h.writeUInt32LE(seq, 8);
  h.writeUInt32LE(77, 12);
  const pad = Buffer.alloc((4 - (payload.length % 4)) % 4);
  return Buffer.concat([h, payload, pad]);
}

describe('decodeDatagram on bad and synthetic input', () => {
  it('reports a datagram shorter than a header as truncated', () => {
    expect(decodeDatagram(Buffer.alloc(10))).toEqual({
      messages: [],
      errors: [expect.objectContaining({ reason: 'truncated', offset: 0 })],
    });
  });

  it('keeps the messages before a frame cut in the middle, and reports badLength', () => {
    const d = bytes(fixture('dump').datagrams[0]!);
    const firstLen = (d.readUInt32LE(0) + 3) & ~3;
    const cut = d.subarray(0, firstLen + 40);
    const r = decodeDatagram(cut);
    expect(r.messages).toHaveLength(1);
    expect(r.errors).toEqual([expect.objectContaining({ reason: 'badLength', offset: firstLen })]);
  });

  it('reports nlmsg_len smaller than the header as badLength', () => {
    const f = Buffer.from(firstLinkFrame());
    f.writeUInt32LE(8, 0);
    expect(decodeDatagram(f).errors).toEqual([expect.objectContaining({ reason: 'badLength' })]);
  });

  it('reports a link message without a full ifinfomsg as truncated', () => {
    const r = decodeDatagram(nlmsg(16, 0, 0, Buffer.alloc(8)));
    expect(r).toEqual({ messages: [], errors: [expect.objectContaining({ reason: 'truncated' })] });
  });

  it('reports an rtattr that runs past its message as badAttribute and still decodes the next message', () => {
    const bad = Buffer.from(firstLinkFrame());
    bad.writeUInt16LE(0xfff0, 32); // first rtattr's rta_len
    const good = firstLinkFrame();
    const r = decodeDatagram(Buffer.concat([bad, good]));
    expect(r.errors).toEqual([expect.objectContaining({ reason: 'badAttribute', offset: 0 })]);
    expect(r.messages).toEqual([expect.objectContaining({ type: 'newlink', name: 'Ethernet12', mtu: 9100 })]);
  });

  it('reports a link without IFLA_IFNAME as missingName', () => {
    const ifi = Buffer.alloc(16);
    ifi.writeInt32LE(5, 4);
    const mtu = Buffer.alloc(8);
    mtu.writeUInt16LE(8, 0);
    mtu.writeUInt16LE(4, 2);
    mtu.writeUInt32LE(1500, 4);
    const r = decodeDatagram(nlmsg(16, 0, 0, Buffer.concat([ifi, mtu])));
    expect(r.errors).toEqual([expect.objectContaining({ reason: 'missingName' })]);
  });

  it('decodes a name that is not UTF-8 as byte text (each other byte as U+DC80 + byte), and IFLA_CARRIER_CHANGES', () => {
    const ifi = Buffer.alloc(16);
    ifi.writeInt32LE(9, 4);
    const attr = (type: number, value: Buffer): Buffer => {
      const h = Buffer.alloc(4);
      h.writeUInt16LE(4 + value.length, 0);
      h.writeUInt16LE(type, 2);
      return Buffer.concat([h, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
    };
    // "Ethernet" 0xff "é" (valid UTF-8 C3 A9) 0xc3 (a lone lead byte), NUL-terminated as the kernel sends it.
    const rawName = Buffer.concat([Buffer.from('Ethernet'), Buffer.from([0xff, 0xc3, 0xa9, 0xc3, 0x00])]);
    const carrier = Buffer.alloc(4);
    carrier.writeUInt32LE(4_000_000_001, 0);
    const r = decodeDatagram(nlmsg(16, 0, 0, Buffer.concat([ifi, attr(3, rawName), attr(35, carrier)])));
    expect(r.errors).toEqual([]);
    const m = r.messages[0] as LinkMessage;
    expect(m.name).toBe('Ethernet\udcffé\udcc3');
    expect(textToBytes(m.name)).toEqual(rawName.subarray(0, rawName.length - 1));
    expect(m.carrierChanges).toBe(4_000_000_001);
    // A plain UTF-8 name is unchanged; a message without the attribute has no carrierChanges.
    const plain = decodeDatagram(nlmsg(16, 0, 0, Buffer.concat([ifi, attr(3, Buffer.from('Ethernet0\0'))])));
    expect(plain.messages[0]).toEqual(expect.objectContaining({ name: 'Ethernet0', carrierChanges: undefined }));
    // A short IFLA_CARRIER_CHANGES is a bad attribute, not a crash.
    const short = decodeDatagram(nlmsg(16, 0, 0, Buffer.concat([ifi, attr(3, rawName), attr(35, Buffer.alloc(2))])));
    expect(short.errors).toEqual([expect.objectContaining({ reason: 'badAttribute' })]);
  });

  it('the recorded kernel datagrams carry IFLA_CARRIER_CHANGES on every link message', () => {
    const ls = links(decodeAll(fixture('dump')));
    expect(ls.length).toBeGreaterThan(0);
    for (const l of ls) expect(l.carrierChanges).toEqual(expect.any(Number));
  });

  it('decodes NLMSG_ERROR with its errno and the seq of the request it answers', () => {
    const payload = Buffer.alloc(4 + 16);
    payload.writeInt32LE(-16, 0); // -EBUSY
    payload.writeUInt32LE(36, 4);
    payload.writeUInt16LE(18, 8); // RTM_GETLINK
    payload.writeUInt32LE(99, 12);
    expect(decodeDatagram(nlmsg(2, 0, 99, payload)).messages).toEqual([
      expect.objectContaining({ type: 'error', error: -16, requestSeq: 99 }),
    ]);
  });

  it('passes NLM_F_DUMP_INTR through in the header flags', () => {
    const f = Buffer.from(firstLinkFrame());
    f.writeUInt16LE(NLM_F_MULTI | NLM_F_DUMP_INTR, 6);
    expect(decodeDatagram(f).messages[0]!.header.flags & NLM_F_DUMP_INTR).toBe(NLM_F_DUMP_INTR);
  });

  it('classifies unknown message types as other', () => {
    expect(decodeDatagram(nlmsg(24, 0, 0, Buffer.alloc(12))).messages).toEqual([
      expect.objectContaining({ type: 'other' }),
    ]);
  });

  it('never throws on random bytes or on any truncation or corruption of recorded datagrams', () => {
    const recorded = Object.values(['dump', 'create', 'up', 'mtu', 'down', 'delete'])
      .flatMap((n) => fixture(n).datagrams)
      .map(bytes);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (b) => {
        const r = decodeDatagram(b);
        expect(Array.isArray(r.messages) && Array.isArray(r.errors)).toBe(true);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: recorded.length - 1 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (i, cutAt, flipAt, value) => {
          const src = recorded[i]!;
          const copy = Buffer.from(src.subarray(0, cutAt % (src.length + 1)));
          if (copy.length > 0) copy[flipAt % copy.length] = value;
          decodeDatagram(copy);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('decodes exactly as the simple decoder, for any datagram: built from link attributes, recorded, cut or corrupted', () => {
    const attr = (type: number, value: Uint8Array): Buffer => {
      const h = Buffer.alloc(4);
      h.writeUInt16LE(4 + value.length, 0);
      h.writeUInt16LE(type, 2);
      return Buffer.concat([h, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
    };
    const name = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9.-]{0,15}$/).map((n) => Buffer.from(`${n}\0`)),
      fc.stringMatching(/^[A-Za-z0-9]{30,40}$/).map((n) => Buffer.from(`${n}\0`)),
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
      fc.string({ unit: 'grapheme', maxLength: 8 }).map((n) => Buffer.from(`${n}\0`)),
    );
    const flagged = (t: number) => fc.constantFrom(t, t | 0x8000, t | 0x4000);
    const u32 = fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ maxLength: 6 }));
    const attribute: fc.Arbitrary<Buffer> = fc.oneof(
      fc.tuple(flagged(3), name).map(([t, v]) => attr(t, v)),
      fc.tuple(fc.constantFrom(4, 10, 35, 16), u32).map(([t, v]) => attr(t, v)),
      fc
        .array(
          fc.oneof(
            fc.tuple(fc.constantFrom(1, 2), name).map(([t, v]) => attr(t, v)),
            fc.uint8Array({ maxLength: 6 }).map((b) => Buffer.from(b)),
          ),
          { maxLength: 3 },
        )
        .map((inner) => attr(18 | 0x8000, Buffer.concat(inner))),
      fc.tuple(fc.integer({ min: 0, max: 60 }), fc.uint8Array({ maxLength: 12 })).map(([t, v]) => attr(t, v)),
      fc.uint8Array({ maxLength: 7 }).map((b) => Buffer.from(b)),
    );
    const message = fc
      .tuple(
        fc.constantFrom(16, 16, 17, 2, 3, 1, 99),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.array(attribute, { maxLength: 6 }),
        fc.nat({ max: 0xffff }),
        fc.nat(),
      )
      .map(([type, ifi, attrs, flags, seq]) => {
        const payload = Buffer.concat([Buffer.from(ifi), ...attrs]);
        const h = Buffer.alloc(16);
        h.writeUInt32LE(16 + payload.length, 0);
        h.writeUInt16LE(type, 4);
        h.writeUInt16LE(flags, 6);
        h.writeUInt32LE(seq, 8);
        return Buffer.concat([h, payload]);
      });
    const recorded = ['dump', 'create', 'up', 'mtu', 'down', 'delete'].flatMap((n) => fixture(n).datagrams).map(bytes);
    const datagram = fc.oneof(
      fc.array(message, { minLength: 1, maxLength: 4 }).map((ms) => Buffer.concat(ms)),
      fc.constantFrom(...recorded),
      fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)),
    );
    fc.assert(
      fc.property(datagram, fc.nat(), fc.nat(), fc.integer({ min: -1, max: 255 }), (d, cutAt, flipAt, value) => {
        const copy = Buffer.from(d.subarray(0, d.length - (cutAt % 3 === 0 ? cutAt % (d.length + 1) : 0)));
        if (value >= 0 && copy.length > 0) copy[flipAt % copy.length] = value;
        expect(decodeDatagram(copy)).toStrictEqual(decodeDatagramSimple(copy));
        // Also from an offset inside a larger buffer (as the socket may hand a view).
        const inner = Buffer.concat([Buffer.alloc(3), copy]).subarray(3);
        expect(decodeDatagram(inner)).toStrictEqual(decodeDatagramSimple(copy));
      }),
      { numRuns: 5_000 },
    );
  });
});
