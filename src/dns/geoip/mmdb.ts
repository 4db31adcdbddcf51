// The MaxMind DB format (https://maxmind.github.io/MaxMind-DB/), just what `outpost geoip
// build` needs: walk every network of a database and decode its data; write an IPv6 database
// (IPv4 under ::/96) whose records are maps of strings, doubles, uint16 and nested maps.
const METADATA_MARKER = Buffer.from([0xab, 0xcd, 0xef, ...Buffer.from('MaxMind.com')]);

export type MmdbValue =
  string | number | bigint | boolean | Buffer | MmdbValue[] | { [key: string]: MmdbValue };

/** A double in the data section (plain numbers are written as uint16/uint32). */
export class MmdbDouble {
  constructor(readonly value: number) {}
}
/** An unsigned integer of an exact width (libmaxminddb checks metadata types strictly). */
export class MmdbUint {
  constructor(
    readonly bits: 16 | 32 | 64,
    readonly value: number,
  ) {}
}
export type MmdbInput =
  string | number | boolean | MmdbDouble | MmdbUint | MmdbInput[] | { [key: string]: MmdbInput };

// ---------------------------------------------------------------- decoding

export class MmdbDecoder {
  constructor(
    private readonly buf: Buffer,
    private readonly base: number,
  ) {}

  /** Decodes the value at `offset` (relative to the data section). */
  decode(offset: number): { value: MmdbValue; next: number } {
    let pos = this.base + offset;
    const ctrl = this.buf[pos++] ?? 0;
    let type = ctrl >> 5;
    if (type === 1) {
      const ss = (ctrl >> 3) & 3;
      const vvv = ctrl & 7;
      let ptr: number;
      if (ss === 0) ptr = (vvv << 8) | (this.buf[pos] ?? 0);
      else if (ss === 1) ptr = ((vvv << 16) | this.buf.readUInt16BE(pos)) + 2048;
      else if (ss === 2) ptr = ((vvv << 24) | this.buf.readUIntBE(pos, 3)) + 526336;
      else ptr = this.buf.readUInt32BE(pos);
      const value = this.decode(ptr).value;
      return { value, next: pos + ss + 1 - this.base };
    }
    if (type === 0) type = 7 + (this.buf[pos++] ?? 0);
    let size = ctrl & 0x1f;
    if (size === 29) size = 29 + (this.buf[pos++] ?? 0);
    else if (size === 30) {
      size = 285 + this.buf.readUInt16BE(pos);
      pos += 2;
    } else if (size === 31) {
      size = 65821 + this.buf.readUIntBE(pos, 3);
      pos += 3;
    }
    const rel = (p: number) => p - this.base;
    switch (type) {
      case 2:
        return { value: this.buf.toString('utf8', pos, pos + size), next: rel(pos + size) };
      case 3:
        return { value: this.buf.readDoubleBE(pos), next: rel(pos + 8) };
      case 4:
        return { value: this.buf.subarray(pos, pos + size), next: rel(pos + size) };
      case 5:
      case 6:
        return { value: size === 0 ? 0 : this.buf.readUIntBE(pos, size), next: rel(pos + size) };
      case 8:
        return { value: size === 0 ? 0 : this.buf.readIntBE(pos, size), next: rel(pos + size) };
      case 9:
      case 10: {
        let v = 0n;
        for (let i = 0; i < size; i++) v = (v << 8n) | BigInt(this.buf[pos + i] ?? 0);
        return { value: v, next: rel(pos + size) };
      }
      case 7: {
        const out: Record<string, MmdbValue> = {};
        let next = rel(pos);
        for (let i = 0; i < size; i++) {
          const k = this.decode(next);
          const v = this.decode(k.next);
          out[typeof k.value === 'string' ? k.value : JSON.stringify(k.value)] = v.value;
          next = v.next;
        }
        return { value: out, next };
      }
      case 11: {
        const out: MmdbValue[] = [];
        let next = rel(pos);
        for (let i = 0; i < size; i++) {
          const v = this.decode(next);
          out.push(v.value);
          next = v.next;
        }
        return { value: out, next };
      }
      case 14:
        return { value: size !== 0, next: rel(pos) };
      case 15:
        return { value: this.buf.readFloatBE(pos), next: rel(pos + 4) };
      default:
        throw new Error(`unsupported MMDB data type ${type}`);
    }
  }
}

export interface MmdbMetadata {
  node_count: number;
  record_size: number;
  ip_version: number;
  database_type: string;
  [key: string]: unknown;
}

export interface MmdbNetwork {
  /** 16 bytes (IPv6; IPv4 networks are under ::/96). */
  address: Buffer;
  prefix: number;
  /** Offset of the data in the data section. */
  data: number;
}

export class MmdbReader {
  readonly metadata: MmdbMetadata;
  readonly decoder: MmdbDecoder;
  private readonly treeSize: number;

  constructor(private readonly buf: Buffer) {
    const at = buf.lastIndexOf(METADATA_MARKER);
    if (at < 0) throw new Error('not a MaxMind DB file (no metadata marker)');
    const metaStart = at + METADATA_MARKER.length;
    this.metadata = new MmdbDecoder(buf, metaStart).decode(0).value as unknown as MmdbMetadata;
    this.treeSize = (this.metadata.record_size * 2 * this.metadata.node_count) / 8;
    this.decoder = new MmdbDecoder(buf, this.treeSize + 16);
  }

  private record(node: number, bit: 0 | 1): number {
    const rs = this.metadata.record_size;
    const b = this.buf;
    if (rs === 24) {
      const o = node * 6 + bit * 3;
      return b.readUIntBE(o, 3);
    }
    if (rs === 28) {
      const o = node * 7;
      if (bit === 0) return (((b[o + 3] ?? 0) & 0xf0) << 20) | b.readUIntBE(o, 3);
      return (((b[o + 3] ?? 0) & 0x0f) << 24) | b.readUIntBE(o + 4, 3);
    }
    return b.readUInt32BE(node * 8 + bit * 4);
  }

  /**
   * The data for a 16-byte address (IPv4 as ::a.b.c.d in an IPv6 database, as libmaxminddb
   * looks it up), undefined when the database has none.
   */
  lookup(address: Buffer): MmdbValue | undefined {
    const n = this.metadata.node_count;
    const bits = this.metadata.ip_version === 6 ? 128 : 32;
    let node = 0;
    for (let i = bits === 128 ? 0 : 96; i < 128; i++) {
      const bit = (((address[i >> 3] ?? 0) >> (7 - (i & 7))) & 1) as 0 | 1;
      node = this.record(node, bit);
      if (node === n) return undefined;
      if (node > n) return this.decoder.decode(node - n - 16).value;
    }
    return undefined;
  }

  /** Every network with data, depth first, skipping the IPv4 aliases of IPv6 databases. */
  *networks(): Generator<MmdbNetwork> {
    const n = this.metadata.node_count;
    const bits = this.metadata.ip_version === 6 ? 128 : 32;
    // the node reached after 96 zero bits: ::ffff:0:0/96 and 2002::/16 often alias it
    let v4 = 0;
    if (bits === 128) for (let i = 0; i < 96 && v4 < n; i++) v4 = this.record(v4, 0);
    const addr = Buffer.alloc(16);
    const stack: { node: number; depth: number; address: Buffer }[] = [
      { node: 0, depth: 0, address: addr },
    ];
    while (stack.length > 0) {
      const { node, depth, address } = stack.pop() as {
        node: number;
        depth: number;
        address: Buffer;
      };
      for (const bit of [1, 0] as const) {
        const child = this.record(node, bit);
        const a = Buffer.from(address);
        const byteIndex = (bits === 128 ? 0 : 12) + (depth >> 3);
        if (bit === 1) a[byteIndex] = (a[byteIndex] ?? 0) | (0x80 >> (depth & 7));
        if (child === n) continue;
        if (child > n) {
          yield { address: a, prefix: (bits === 128 ? 0 : 96) + depth + 1, data: child - n - 16 };
          continue;
        }
        if (bits === 128 && child === v4 && depth + 1 !== 96) continue;
        stack.push({ node: child, depth: depth + 1, address: a });
      }
    }
  }
}

// ---------------------------------------------------------------- encoding

function control(type: number, size: number): Buffer {
  const head: number[] = [];
  let sizeBits: number;
  const extra: number[] = [];
  if (size < 29) sizeBits = size;
  else if (size < 285) {
    sizeBits = 29;
    extra.push(size - 29);
  } else if (size < 65821) {
    sizeBits = 30;
    const s = size - 285;
    extra.push(s >> 8, s & 0xff);
  } else {
    sizeBits = 31;
    const s = size - 65821;
    extra.push((s >> 16) & 0xff, (s >> 8) & 0xff, s & 0xff);
  }
  if (type <= 7) head.push((type << 5) | sizeBits);
  else head.push(sizeBits, type - 7);
  return Buffer.from([...head, ...extra]);
}

function uintBytes(v: number): Buffer {
  const out: number[] = [];
  let x = v;
  while (x > 0) {
    out.unshift(x & 0xff);
    x = Math.floor(x / 256);
  }
  return Buffer.from(out);
}

export function encodeValue(v: MmdbInput): Buffer {
  if (v instanceof MmdbDouble) {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v.value);
    return Buffer.concat([control(3, 8), b]);
  }
  if (v instanceof MmdbUint) {
    const b = uintBytes(v.value);
    return Buffer.concat([control(v.bits === 16 ? 5 : v.bits === 32 ? 6 : 9, b.length), b]);
  }
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([control(2, b.length), b]);
  }
  if (typeof v === 'boolean') return control(14, v ? 1 : 0);
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) return encodeValue(new MmdbDouble(v));
    const b = uintBytes(v);
    return Buffer.concat([control(v <= 0xffff ? 5 : 6, b.length), b]);
  }
  if (Array.isArray(v)) return Buffer.concat([control(11, v.length), ...v.map(encodeValue)]);
  const keys = Object.keys(v);
  return Buffer.concat([
    control(7, keys.length),
    ...keys.flatMap((k) => [encodeValue(k), encodeValue(v[k] as MmdbInput)]),
  ]);
}

/** Builds an IPv6 MaxMind DB (IPv4 networks given as ::a.b.c.d/96+n). */
export class MmdbWriter {
  // children: >0 node index, <0 -(data index + 1), 0 empty (the root is never a child)
  private left = new Int32Array(1 << 16);
  private right = new Int32Array(1 << 16);
  private count = 1;
  private readonly data: Buffer[] = [];
  private readonly dataIndex = new Map<string, number>();
  private readonly byObject = new WeakMap<object, number>();

  constructor(
    private readonly meta: { database_type: string; description: string; languages?: string[] },
  ) {}

  private newNode(fill: number): number {
    if (this.count === this.left.length) {
      const l = new Int32Array(this.left.length * 2);
      l.set(this.left);
      this.left = l;
      const r = new Int32Array(this.right.length * 2);
      r.set(this.right);
      this.right = r;
    }
    this.left[this.count] = fill;
    this.right[this.count] = fill;
    return this.count++;
  }

  /** Data is deduplicated by its encoding: equal records share one copy. */
  private dataRef(value: MmdbInput): number {
    const known = typeof value === 'object' ? this.byObject.get(value) : undefined;
    if (known !== undefined) return known;
    const ref = this.encodeRef(value);
    if (typeof value === 'object') this.byObject.set(value, ref);
    return ref;
  }

  private encodeRef(value: MmdbInput): number {
    const enc = encodeValue(value);
    const k = enc.toString('latin1');
    let i = this.dataIndex.get(k);
    if (i === undefined) {
      i = this.data.length;
      this.data.push(enc);
      this.dataIndex.set(k, i);
    }
    return -(i + 1);
  }

  /** Inserts a network; a longer prefix inserted later overrides inside a shorter one. */
  insert(address: Buffer, prefix: number, value: MmdbInput): void {
    if (address.length !== 16 || prefix < 1 || prefix > 128) throw new Error('bad network');
    const ref = this.dataRef(value);
    let node = 0;
    for (let i = 0; i < prefix; i++) {
      const bit = ((address[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
      const side = bit === 1 ? this.right : this.left;
      if (i === prefix - 1) {
        side[node] = ref;
        return;
      }
      const c = side[node] ?? 0;
      if (c > 0) node = c;
      else {
        const n = this.newNode(c); // an existing data leaf is pushed down to both halves
        (bit === 1 ? this.right : this.left)[node] = n;
        node = n;
      }
    }
  }

  toBuffer(buildEpoch = 0): Buffer {
    const offsets: number[] = [];
    let at = 0;
    for (const d of this.data) {
      offsets.push(at);
      at += d.length;
    }
    const n = this.count;
    const maxValue = n + 16 + at;
    const recordSize = maxValue < 2 ** 24 ? 24 : 32;
    const bytes = recordSize === 24 ? 6 : 8;
    const tree = Buffer.alloc(n * bytes);
    const val = (c: number): number => (c > 0 ? c : c === 0 ? n : n + 16 + (offsets[-c - 1] ?? 0));
    for (let i = 0; i < n; i++) {
      const l = val(this.left[i] ?? 0);
      const r = val(this.right[i] ?? 0);
      if (recordSize === 24) {
        tree.writeUIntBE(l, i * 6, 3);
        tree.writeUIntBE(r, i * 6 + 3, 3);
      } else {
        tree.writeUInt32BE(l, i * 8);
        tree.writeUInt32BE(r, i * 8 + 4);
      }
    }
    const metadata = encodeValue({
      binary_format_major_version: new MmdbUint(16, 2),
      binary_format_minor_version: new MmdbUint(16, 0),
      build_epoch: new MmdbUint(64, buildEpoch),
      database_type: this.meta.database_type,
      description: { en: this.meta.description },
      ip_version: new MmdbUint(16, 6),
      languages: this.meta.languages ?? ['en'],
      node_count: new MmdbUint(32, n),
      record_size: new MmdbUint(16, recordSize),
    });
    return Buffer.concat([tree, Buffer.alloc(16), ...this.data, METADATA_MARKER, metadata]);
  }
}
