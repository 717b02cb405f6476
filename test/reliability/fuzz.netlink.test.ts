// Structure-aware fuzzing of the netlink decoder, beyond test/io/netlink/decode.test.ts (which flips bytes of
// recorded datagrams): datagrams of generated link messages with random attributes (unknown, nested, flagged,
// padded) must decode to exactly what was encoded; any truncation keeps exactly the complete messages before the
// cut and reports the cut; garbled headers and attributes are typed errors, never throws or invented values.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDatagram, NLMSG_DONE, RTM_DELLINK, RTM_NEWLINK, type LinkMessage } from '../../src/io/netlink/decode.js';

interface GenAttr {
  type: number;
  data: Buffer;
}
interface GenLink {
  type: 16 | 17;
  seq: number;
  ifindex: number;
  flags: number;
  change: number;
  name: string;
  mtu: number | undefined;
  operstate: number | undefined;
  master: number | undefined;
  kind: string | undefined;
  extra: GenAttr[];
}

const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
};
const pad4 = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
function rta(type: number, data: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16LE(4 + data.length, 0);
  h.writeUInt16LE(type, 2);
  return pad4(Buffer.concat([h, data]));
}
function nlmsg(type: number, flags: number, seq: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + payload.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags, 6);
  h.writeUInt32LE(seq, 8);
  h.writeUInt32LE(4242, 12);
  return pad4(Buffer.concat([h, payload]));
}

function encodeLink(l: GenLink): Buffer {
  const ifi = Buffer.alloc(16);
  ifi.writeInt32LE(l.ifindex, 4);
  ifi.writeUInt32LE(l.flags >>> 0, 8);
  ifi.writeUInt32LE(l.change >>> 0, 12);
  const attrs: Buffer[] = [...l.extra.map((a) => rta(a.type, a.data))];
  attrs.push(rta(3, Buffer.from(`${l.name}\0`)));
  if (l.mtu !== undefined) attrs.push(rta(4, u32(l.mtu)));
  if (l.operstate !== undefined) attrs.push(rta(16, Buffer.from([l.operstate])));
  if (l.master !== undefined) attrs.push(rta(10, u32(l.master)));
  // IFLA_LINKINFO with NLA_F_NESTED, the kind plus an unknown nested attribute (IFLA_INFO_DATA).
  if (l.kind !== undefined)
    attrs.push(rta(18 | 0x8000, Buffer.concat([rta(1, Buffer.from(`${l.kind}\0`)), rta(2, u32(7))])));
  return nlmsg(l.type, 0x2, l.seq, Buffer.concat([ifi, ...attrs]));
}

// Unknown attribute types only (not 3, 4, 10, 16, 18, 35): they must be skipped whatever their content.
const unknownType = fc.integer({ min: 0, max: 0x3fff }).filter((t) => ![3, 4, 10, 16, 18, 35].includes(t));
const genLink: fc.Arbitrary<GenLink> = fc.record({
  type: fc.constantFrom(16 as const, 17 as const),
  seq: fc.nat(),
  ifindex: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  flags: fc.nat(),
  change: fc.nat(),
  name: fc.stringMatching(/^[A-Za-z0-9._-]{1,15}$/),
  mtu: fc.option(fc.nat(), { nil: undefined }),
  operstate: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
  master: fc.option(fc.nat(), { nil: undefined }),
  kind: fc.option(fc.constantFrom('veth', 'bridge', 'team', 'bond', ''), { nil: undefined }),
  extra: fc.array(
    fc.record({
      type: fc.tuple(unknownType, fc.constantFrom(0, 0x4000, 0x8000)).map(([t, f]) => t | f),
      data: fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b)),
    }),
    { maxLength: 5 },
  ),
});

function expected(l: GenLink): Partial<LinkMessage> {
  return {
    type: l.type === RTM_NEWLINK ? 'newlink' : 'dellink',
    ifindex: l.ifindex,
    flags: l.flags >>> 0,
    change: l.change >>> 0,
    name: l.name,
    mtu: l.mtu ?? 0,
    operstate: l.operstate,
    master: l.master ?? 0,
    linkKind: l.kind ?? '',
  };
}

const pick = (m: LinkMessage): Partial<LinkMessage> => ({
  type: m.type,
  ifindex: m.ifindex,
  flags: m.flags,
  change: m.change,
  name: m.name,
  mtu: m.mtu,
  operstate: m.operstate,
  master: m.master,
  linkKind: m.linkKind,
});

const datagram = fc.array(genLink, { minLength: 1, maxLength: 8 }).map((links) => {
  const frames = links.map(encodeLink);
  return { links, frames, bytes: Buffer.concat([...frames, nlmsg(NLMSG_DONE, 0x2, 1, u32(0))]) };
});

describe('netlink decoder under structure-aware fuzzing', () => {
  it('decodes generated datagrams to exactly the encoded links (unknown, flagged and nested attributes skipped)', () => {
    fc.assert(
      fc.property(datagram, ({ links, bytes }) => {
        const r = decodeDatagram(bytes);
        expect(r.errors).toEqual([]);
        expect(r.messages.at(-1)?.type).toBe('done');
        expect(r.messages.slice(0, -1).map((m) => pick(m as LinkMessage))).toEqual(links.map(expected));
      }),
      { numRuns: 1500 },
    );
  });

  it('a datagram cut anywhere keeps exactly the complete messages before the cut and reports the cut', () => {
    fc.assert(
      fc.property(datagram, fc.nat(), ({ links, frames, bytes }, n) => {
        const cut = n % bytes.length;
        const r = decodeDatagram(bytes.subarray(0, cut));
        let complete = 0;
        for (let end = 0, i = 0; i < frames.length; i++) {
          end += frames[i]!.length;
          if (end <= cut) complete = i + 1;
        }
        const boundary = frames.slice(0, complete).reduce((a, f) => a + f.length, 0);
        expect(r.messages.map((m) => pick(m as LinkMessage))).toEqual(links.slice(0, complete).map(expected));
        if (cut === boundary) expect(r.errors).toEqual([]);
        else expect(r.errors).toEqual([expect.objectContaining({ offset: boundary })]);
        expect(['truncated', 'badLength', undefined]).toContain(r.errors[0]?.reason);
      }),
      { numRuns: 1500 },
    );
  });

  it('garbled lengths, types and attribute headers give typed errors, never throws or out-of-range values', () => {
    const reasons = new Set(['truncated', 'badLength', 'badAttribute', 'missingName']);
    fc.assert(
      fc.property(
        datagram,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        ({ bytes }, flips) => {
          const b = Buffer.from(bytes);
          for (const [at, v] of flips) b[at % b.length] = v;
          const r = decodeDatagram(b);
          for (const e of r.errors) {
            expect(reasons.has(e.reason)).toBe(true);
            expect(e.offset).toBeGreaterThanOrEqual(0);
            expect(e.offset).toBeLessThan(b.length);
          }
          for (const m of r.messages) {
            expect(m.header.len).toBeLessThanOrEqual(b.length);
            if (m.type === 'newlink' || m.type === 'dellink') {
              expect([RTM_NEWLINK, RTM_DELLINK]).toContain(m.header.type);
              expect(typeof m.name).toBe('string');
              for (const v of [m.flags, m.change, m.mtu, m.master]) expect(v >>> 0).toBe(v);
            }
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('a 64 KiB datagram of zero-length attributes or of minimal messages is handled, not looped on', () => {
    // rta_len = 0 would loop forever if the walker did not reject it.
    const ifi = Buffer.alloc(16);
    const zeroAttrs = Buffer.alloc(65_000);
    const r1 = decodeDatagram(nlmsg(RTM_NEWLINK, 0, 0, Buffer.concat([ifi, zeroAttrs])));
    expect(r1.errors).toEqual([expect.objectContaining({ reason: 'badAttribute' })]);
    const tiny = Buffer.concat(Array.from({ length: 4096 }, () => nlmsg(99, 0, 0, Buffer.alloc(0))));
    const r2 = decodeDatagram(tiny);
    expect(r2.messages).toHaveLength(4096);
    expect(r2.errors).toEqual([]);
  });
});
