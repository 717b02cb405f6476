// The state file's encoder for repeated saves: the bytes of encodeStateFileSimple (stateFileCodec.ts), built so that
// a save after a few port changes encodes only those ports.
//
// The file is `{"version":1,"savedAt":S,"checksum":"H","ports":{M,M,…}}\n`, one member M = `"name":{…}` per port in
// sorted name order, H = sha256 of `{"ports":{M,…},"savedAt":S,"version":1}`. A plain port (exactly the six known
// fields, primitive values) is written by a template with its keys in sorted order; anything else by the generic
// canonical walk. The encoder keeps from its previous encode the record's key order with its sorted order (the same
// keys in the same order are not sorted again), the bytes it produced, and per plain port its name, object, six field
// values and where its member sits in those bytes. A port is unchanged when it is the same object under the same
// name, its six values are the same (a port changed in place is re-encoded) and it still has six own keys (one that
// gained a field is re-encoded): its member is copied from the previous bytes, and runs of unchanged neighbours are
// one copy. The stateFile machine's persistent port table keeps an unchanged port's object, so a save after one link
// flap encodes one port, copies a few runs and hashes. A cold encode (first save, most ports new) templates every
// port, about the cost of one native JSON.stringify of all the ports. Property-tested against the simple encoder
// over sequences of saves (test/io/warmRestart/checksum.test.ts).
import { createHash } from 'node:crypto';
import { canonicalJson, type PersistedPort, stateFileVersion } from './stateFileCodec.js';

/** JSON text of a primitive field value, as JSON.stringify writes it ('up'/'down' and finite numbers without a call). */
function fieldText(v: unknown): string {
  if (typeof v === 'number') return Number.isFinite(v) ? `${v}` : 'null';
  if (v === 'up') return '"up"';
  if (v === 'down') return '"down"';
  return JSON.stringify(v);
}

const isPrimitive = (v: unknown): boolean =>
  v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

const isField = (k: string): boolean =>
  k === 'adminState' || k === 'flags' || k === 'ifindex' || k === 'mtu' || k === 'name' || k === 'operState';

/** Exactly the six known fields as own keys (in any order), each a primitive (string, number, boolean) or null. */
function isPlainPort(p: unknown): p is Record<string, unknown> {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return false;
  const q = p as Record<string, unknown>;
  const keys = Object.keys(q);
  if (keys.length !== 6) return false;
  // Six distinct own keys, each one of the six fields: all six are there.
  for (const k of keys) if (!isField(k) || !isPrimitive(q[k])) return false;
  return true;
}

/** `"name":{…}`: the template for a plain port, else the generic walk. */
function memberText(name: string, p: unknown, plain: boolean): string {
  if (!plain) return `${JSON.stringify(name)}:${canonicalJson(p)}`;
  const q = p as Record<string, unknown>;
  return `${JSON.stringify(name)}:{"adminState":${fieldText(q.adminState)},"flags":${fieldText(q.flags)},"ifindex":${fieldText(q.ifindex)},"mtu":${fieldText(q.mtu)},"name":${fieldText(q.name)},"operState":${fieldText(q.operState)}}`;
}

/** True when `a` holds the same strings as `b`, in the same order. */
function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `keys` in the order canonicalJson gives (sorted by UTF-16 code units); already sorted input costs one pass. */
function sortedCopy(keys: readonly string[]): string[] {
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) return [...keys].sort();
  }
  return [...keys];
}

/** What an encode kept of one plain port: its name, object and six field values. */
interface KeptPort {
  readonly name: string;
  readonly port: Record<string, unknown>;
  readonly adminState: unknown;
  readonly flags: unknown;
  readonly ifindex: unknown;
  readonly mtu: unknown;
  readonly portName: unknown;
  readonly operState: unknown;
}

/**
 * `p` is still what `k` recorded: the same object under the same name, the same six values, six own keys. (A field
 * deleted in place and another added would read the six through the prototype: only Object.prototype carrying port
 * field names could make that look unchanged.)
 */
function unchanged(k: KeptPort | undefined, name: string, p: Record<string, unknown>): k is KeptPort {
  return (
    k !== undefined &&
    k.port === p &&
    k.name === name &&
    k.adminState === p.adminState &&
    k.flags === p.flags &&
    k.ifindex === p.ifindex &&
    k.mtu === p.mtu &&
    k.portName === p.name &&
    k.operState === p.operState &&
    Object.keys(p).length === 6
  );
}

function keep(name: string, p: Record<string, unknown>): KeptPort {
  return {
    name,
    port: p,
    adminState: p.adminState,
    flags: p.flags,
    ifindex: p.ifindex,
    mtu: p.mtu,
    portName: p.name,
    operState: p.operState,
  };
}

/** Consecutive new members: their texts, joined once (commas between), written with one write. */
interface TextGroup {
  /** Index (in this encode's member order) of its first member. */
  first: number;
  texts: string[];
  joined: string;
  bytes: number;
}

const comma = 0x2c;
const headTail = '","ports":';

export class StateFileEncoder {
  private keys: readonly string[] = [];
  private names: readonly string[] = [];
  /** Per index of `names`: the kept port (undefined when absent or not plain) and its member's bytes in `last`. */
  private kept: (KeptPort | undefined)[] = [];
  private starts = new Int32Array(0);
  private ends = new Int32Array(0);
  /** The previous encode's output (never written again while it is the previous one). */
  private last: Buffer | undefined;
  /** Memory of outputs handed back with done(), to be reused (at most two are held). */
  private free: ArrayBufferLike[] = [];
  /** The memory this encoder allocated (done() takes back nothing else). */
  private readonly own = new WeakSet<ArrayBufferLike>();
  /** Ports whose member the last encode copied from the previous bytes (for tests and benchmarks). */
  lastReused = 0;

  /**
   * The file's bytes for `ports` saved at `savedAt`. The returned Buffer must not be changed (the next encode copies
   * from it); hand it back with done() once it is written, so its memory can be reused by the encode after next.
   */
  encode(ports: Record<string, PersistedPort>, savedAt: number): Buffer {
    const record = ports as Record<string, unknown>;
    const keys = Object.keys(record);
    const aligned = sameList(keys, this.keys);
    const names = aligned ? this.names : sortedCopy(keys);
    const prevNames = this.names;
    const prevKept = this.kept;
    const prevStarts = this.starts;
    const prevEnds = this.ends;
    const src = this.last;
    const n = names.length;
    const kept = new Array<KeptPort | undefined>(n);
    // Per member (present ports, in order): the index into names, and the previous index it is copied from or -1.
    const memberIndex = new Int32Array(n);
    const from = new Int32Array(n);
    const groups: TextGroup[] = [];
    let group: TextGroup | undefined;
    let members = 0;
    let bytes = 0;
    let reused = 0;
    let j = 0;
    for (let i = 0; i < n; i++) {
      const name = names[i]!;
      const p = record[name] as Record<string, unknown> | undefined;
      if (p === undefined) continue;
      let pj = -1;
      if (src !== undefined) {
        if (aligned) pj = i;
        else {
          // Both lists are sorted: walk the previous one alongside.
          while (j < prevNames.length && prevNames[j]! < name) j++;
          if (j < prevNames.length && prevNames[j] === name) pj = j;
        }
      }
      const k = pj >= 0 ? prevKept[pj] : undefined;
      memberIndex[members] = i;
      if (unchanged(k, name, p)) {
        kept[i] = k;
        from[members] = pj;
        bytes += prevEnds[pj]! - prevStarts[pj]!;
        reused++;
        group = undefined;
      } else {
        const plain = isPlainPort(p);
        if (plain) kept[i] = keep(name, p);
        from[members] = -1;
        if (group === undefined) {
          group = { first: members, texts: [], joined: '', bytes: 0 };
          groups.push(group);
        }
        group.texts.push(memberText(name, p, plain));
      }
      members++;
    }
    for (const g of groups) {
      g.joined = g.texts.join(',');
      g.bytes = Buffer.byteLength(g.joined, 'utf8');
      // The group's commas are in its text; the one before each other member is counted below.
      bytes += g.bytes - (g.texts.length - 1);
    }
    const saved = JSON.stringify(savedAt);
    const head = `{"version":${stateFileVersion},"savedAt":${saved},"checksum":"`;
    const portsAt = head.length + 64 + headTail.length;
    const portsEnd = portsAt + 1 + bytes + Math.max(0, members - 1) + 1;
    const total = portsEnd + 2;
    const buf = this.take(total);
    const starts = new Int32Array(n);
    const ends = new Int32Array(n);
    buf[portsAt] = 0x7b; // {
    let dst = portsAt + 1;
    let g = 0;
    for (let m = 0; m < members;) {
      if (m > 0) buf[dst++] = comma;
      const pj = from[m]!;
      if (pj < 0) {
        // A group of new members: one write, then each member's place (one byte per UTF-16 unit when ASCII).
        const grp = groups[g++]!;
        const written = buf.write(grp.joined, dst, grp.bytes, 'utf8');
        const ascii = written === grp.joined.length;
        let at = dst;
        for (let t = 0; t < grp.texts.length; t++) {
          const text = grp.texts[t]!;
          const len = ascii ? text.length : Buffer.byteLength(text, 'utf8');
          const i = memberIndex[m + t]!;
          starts[i] = at;
          ends[i] = at + len;
          at += len + 1;
        }
        dst += written;
        m += grp.texts.length;
        continue;
      }
      // A run of unchanged members that were neighbours in the previous bytes: one copy (their commas included).
      let last = pj;
      let run = m + 1;
      while (run < members && from[run] === last + 1) last = from[run++]!;
      const srcStart = prevStarts[pj]!;
      src!.copy(buf, dst, srcStart, prevEnds[last]!);
      for (let r = m; r < run; r++) {
        const i = memberIndex[r]!;
        const q = from[r]!;
        starts[i] = dst + (prevStarts[q]! - srcStart);
        ends[i] = dst + (prevEnds[q]! - srcStart);
      }
      dst += prevEnds[last]! - srcStart;
      m = run;
    }
    buf[dst] = 0x7d; // }
    if (dst + 1 !== portsEnd)
      throw new Error(`state file encoder: ports bytes ${dst + 1 - portsAt}, planned ${portsEnd - portsAt}`);
    const checksum = createHash('sha256')
      .update('{"ports":')
      .update(buf.subarray(portsAt, portsEnd))
      .update(`,"savedAt":${saved},"version":${stateFileVersion}}`)
      .digest('hex');
    buf.write(`${head}${checksum}${headTail}`, 0, portsAt, 'latin1');
    buf[portsEnd] = 0x7d; // }
    buf[portsEnd + 1] = 0x0a; // \n
    this.keys = keys;
    this.names = names;
    this.kept = kept;
    this.starts = starts;
    this.ends = ends;
    this.last = buf;
    this.lastReused = reused;
    return buf;
  }

  /** `bytes` (an output of encode) is written and no longer needed: its memory may be reused. */
  done(bytes: Buffer): void {
    const memory = bytes.buffer;
    if (!this.own.has(memory) || this.free.includes(memory)) return;
    this.free.push(memory);
    if (this.free.length > 2) this.free.shift();
  }

  /** A Buffer of `size` bytes: memory handed back with done() that is not the previous output's, when big enough. */
  private take(size: number): Buffer {
    for (let f = 0; f < this.free.length; f++) {
      const memory = this.free[f]!;
      if (memory !== this.last?.buffer && memory.byteLength >= size) {
        this.free.splice(f, 1);
        return Buffer.from(memory, 0, size);
      }
    }
    // Some room to grow (a port's text can get a few bytes longer), so that the memory can be reused next time.
    const memory = new ArrayBuffer(size + (size >> 4));
    this.own.add(memory);
    return Buffer.from(memory, 0, size);
  }
}

/**
 * The file's text for `ports`, as a fresh StateFileEncoder writes it (a cold encode). Files of earlier builds
 * (pretty-printed) decode the same: the checksum is over the parsed content, not the file's whitespace.
 */
export function encodeStateFile(ports: Record<string, PersistedPort>, savedAt: number): string {
  return new StateFileEncoder().encode(ports, savedAt).toString('utf8');
}
