/**
 * Deterministic, checksummed binary records for step results, summaries and gather results.
 * Layout: "LSPR" | u32 version | u32 jsonLength | json (utf8) | pad to 8 | typed-array blobs (8-aligned) | sha256(all before).
 * JSON carries plain values; typed arrays, bigints and non-finite numbers are tagged references. Large arrays
 * that compress well (e.g. segmentation maps) are stored raw-deflated at level 1 (deterministic bytes).
 */
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

const MAGIC = 0x5250534c; // "LSPR" little-endian
const VERSION = 2;
/** Arrays of at least this many bytes are stored deflated when that saves a fifth (segmentation maps, masks). */
const COMPRESS_MIN = 1 << 20;

type TA =
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array
  | Uint8Array | Uint16Array | Uint32Array | BigInt64Array | BigUint64Array;

const KINDS: Record<string, new (b: ArrayBuffer, o: number, n: number) => TA> = {
  f32: Float32Array, f64: Float64Array, i8: Int8Array, i16: Int16Array, i32: Int32Array,
  u8: Uint8Array, u16: Uint16Array, u32: Uint32Array, i64: BigInt64Array, u64: BigUint64Array,
};

function kindOf(v: unknown): string | undefined {
  if (v instanceof Float32Array) return 'f32';
  if (v instanceof Float64Array) return 'f64';
  if (v instanceof Int32Array) return 'i32';
  if (v instanceof Uint8Array) return 'u8'; // Buffer included
  if (v instanceof Int16Array) return 'i16';
  if (v instanceof Uint16Array) return 'u16';
  if (v instanceof Uint32Array) return 'u32';
  if (v instanceof Int8Array) return 'i8';
  if (v instanceof BigInt64Array) return 'i64';
  if (v instanceof BigUint64Array) return 'u64';
  return undefined;
}

/** A record whose checksum or structure does not verify: the executor recomputes it. */
export class CorruptRecordError extends Error {
  override readonly name = 'CorruptRecordError';
}

export function encodeRecord(value: unknown): Buffer {
  const blobs: Uint8Array[] = [];
  let offset = 0;
  const json = JSON.stringify(value === undefined ? null : value, function (this: unknown, _k, v) {
    const raw = (this as Record<string, unknown>)[_k];
    const kind = kindOf(raw);
    if (kind) {
      const ta = raw as TA;
      let bytes = new Uint8Array(ta.buffer, ta.byteOffset, ta.byteLength);
      let z: number | undefined;
      if (bytes.length >= COMPRESS_MIN) {
        const c = deflateRawSync(bytes, { level: 1 });
        if (c.length < 0.8 * bytes.length) {
          bytes = c;
          z = c.length;
        }
      }
      const ref = z === undefined ? { $ta: kind, o: offset, n: ta.length } : { $ta: kind, o: offset, n: ta.length, z };
      blobs.push(bytes);
      offset += Math.ceil(bytes.byteLength / 8) * 8;
      return ref;
    }
    if (typeof v === 'bigint') return { $big: v.toString() };
    if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) return { $num: Object.is(v, -0) ? '-0' : String(v) };
    if (raw instanceof Map || raw instanceof Set) throw new TypeError('Map/Set cannot be persisted: use arrays');
    return v;
  });
  const jsonBytes = Buffer.from(json, 'utf8');
  const head = 12 + jsonBytes.length;
  const headPadded = Math.ceil(head / 8) * 8;
  const total = headPadded + offset + 32;
  const out = Buffer.alloc(total);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(VERSION, 4);
  out.writeUInt32LE(jsonBytes.length, 8);
  jsonBytes.copy(out, 12);
  let p = headPadded;
  for (const b of blobs) {
    out.set(b, p);
    p += Math.ceil(b.byteLength / 8) * 8;
  }
  createHash('sha256').update(out.subarray(0, total - 32)).digest().copy(out, total - 32);
  return out;
}

export function decodeRecord<T = unknown>(buf: Uint8Array): T {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 44 || b.readUInt32LE(0) !== MAGIC) throw new CorruptRecordError('not a record');
  if (b.readUInt32LE(4) !== VERSION) throw new CorruptRecordError(`record version ${b.readUInt32LE(4)} unsupported`);
  const sum = createHash('sha256').update(b.subarray(0, b.length - 32)).digest();
  if (!sum.equals(b.subarray(b.length - 32))) throw new CorruptRecordError('checksum mismatch');
  const jlen = b.readUInt32LE(8);
  if (12 + jlen > b.length - 32) throw new CorruptRecordError('truncated');
  const base = Math.ceil((12 + jlen) / 8) * 8;
  const blobEnd = b.length - 32;
  return JSON.parse(b.toString('utf8', 12, 12 + jlen), (_k, v) => {
    if (v && typeof v === 'object') {
      if (typeof v.$ta === 'string') {
        const C = KINDS[v.$ta];
        if (!C) throw new CorruptRecordError(`unknown array kind ${v.$ta}`);
        const bpe = (C as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
        const start = base + v.o;
        const len = v.n * bpe;
        const stored = typeof v.z === 'number' ? v.z : len;
        if (start + stored > blobEnd) throw new CorruptRecordError('truncated array');
        const copy = new ArrayBuffer(len);
        if (typeof v.z === 'number') {
          let raw: Buffer;
          try {
            raw = inflateRawSync(b.subarray(start, start + stored), { maxOutputLength: len });
          } catch {
            throw new CorruptRecordError('bad compressed array');
          }
          if (raw.length !== len) throw new CorruptRecordError('bad compressed array length');
          new Uint8Array(copy).set(raw);
        } else new Uint8Array(copy).set(b.subarray(start, start + len));
        return new C(copy, 0, v.n);
      }
      if (typeof v.$big === 'string') return BigInt(v.$big);
      if (typeof v.$num === 'string') return v.$num === '-0' ? -0 : Number(v.$num);
    }
    return v;
  }) as T;
}

/** Hex sha256 of a record's bytes or of any string: digests for keys. */
export function digestOf(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
