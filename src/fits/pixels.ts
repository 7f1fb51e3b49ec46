/**
 * Pixel codecs: big-endian FITS image bytes <-> typed arrays, with BSCALE/BZERO/BLANK.
 * Decoding byte-swaps in place (Buffer.swap16/32/64) and then converts in one tight loop; no per-pixel allocation.
 *
 * Arithmetic matches astropy (numpy) so results are bit-identical to it:
 *  - float32 output for BITPIX 8, 16, -32: physical = f32(f32(stored * f32(BSCALE)) + f32(BZERO));
 *  - float64 output (and any other case): physical = stored * BSCALE + BZERO in double precision,
 *    rounded once to float32 when float32 output is requested for BITPIX 32, 64, -64.
 * Unsigned conventions (BZERO = 2^7 for signed bytes, 2^15, 2^31, 2^63 with BSCALE = 1) are exact.
 */
import { FitsError } from './errors.js';

export type Bitpix = 8 | 16 | 32 | 64 | -32 | -64;
export type PixelArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** 'float32' | 'float64': physical values, BLANK -> NaN. 'native': stored integer type (see decodePixels). */
export type PixelOutput = 'float32' | 'float64' | 'native';

export interface Scaling {
  bscale: number;
  bzero: number;
  /** BLANK (integer images only). */
  blank?: number | bigint;
  /** True for BZERO = 2^15 / 2^31 / 2^63 (BITPIX 16/32/64) or -2^7 (BITPIX 8) with BSCALE = 1. */
  offsetInteger: boolean;
}

export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TWO32 = 4294967296;

/** Default output kind: float32 for BITPIX 8, 16, -32; float64 for 32, 64, -64. */
export function defaultOutput(bitpix: number): 'float32' | 'float64' {
  return bitpix === 8 || bitpix === 16 || bitpix === -32 ? 'float32' : 'float64';
}

/** True when BZERO/BSCALE are the unsigned (or signed-byte) offset for this BITPIX. */
export function isOffsetInteger(bitpix: number, bscale: number, bzero: number | bigint): boolean {
  if (bscale !== 1) return false;
  switch (bitpix) {
    case 8:
      return Number(bzero) === -128;
    case 16:
      return Number(bzero) === 32768;
    case 32:
      return Number(bzero) === 2147483648;
    case 64:
      return typeof bzero === 'bigint' ? bzero === 9223372036854775808n : false;
    default:
      return false;
  }
}

/** Byte-swap big-endian words in place to host order (no-op on big-endian hosts). `raw` length must be a multiple of the word size. */
export function swapToHost(raw: Uint8Array, bytesPerPixel: number): void {
  if (!LITTLE_ENDIAN || bytesPerPixel === 1) return;
  const b = Buffer.from(raw.buffer, raw.byteOffset, raw.length);
  if (bytesPerPixel === 2) b.swap16();
  else if (bytesPerPixel === 4) b.swap32();
  else b.swap64();
}

function view(raw: Uint8Array, bitpix: number): PixelArray {
  const { buffer, byteOffset } = raw;
  const n = raw.length / (Math.abs(bitpix) / 8);
  switch (bitpix) {
    case 8:
      return raw;
    case 16:
      return new Int16Array(buffer, byteOffset, n);
    case 32:
      return new Int32Array(buffer, byteOffset, n);
    case 64:
      return new BigInt64Array(buffer, byteOffset, n);
    case -32:
      return new Float32Array(buffer, byteOffset, n);
    default:
      return new Float64Array(buffer, byteOffset, n);
  }
}

/**
 * Decode stored pixels. `raw` holds big-endian bytes in an ArrayBuffer aligned for the pixel size; it is
 * byte-swapped IN PLACE and may be returned as a view. Returns the array and whether scaling was applied.
 * 'native' output: the stored type, with the unsigned offsets applied (Uint16Array, Uint32Array,
 * BigUint64Array, Int8Array); any other BSCALE/BZERO is NOT applied (scaled = false) and BLANK is kept.
 * `into`: for a float output that needs a conversion (see needsConversion), the array to write (of the pixel
 * count) instead of a new one.
 */
export function decodePixels(
  raw: Uint8Array,
  bitpix: number,
  sc: Scaling,
  out: PixelOutput,
  into?: Float32Array | Float64Array,
): { data: PixelArray; scaled: boolean } {
  const bpp = Math.abs(bitpix) / 8;
  if (raw.byteOffset % bpp !== 0) throw new Error('decodePixels: raw bytes are not aligned');
  swapToHost(raw, bpp);
  const n = raw.length / bpp;
  const trivial = sc.bscale === 1 && sc.bzero === 0;
  if (out === 'native') {
    if (sc.offsetInteger) return { data: flipSign(raw, bitpix), scaled: true };
    return { data: view(raw, bitpix), scaled: trivial };
  }
  const blank = bitpix > 0 ? sc.blank : undefined;
  if (!needsConversion(bitpix, sc, out)) return { data: view(raw, bitpix), scaled: true };
  const dst = into ?? (out === 'float32' ? new Float32Array(n) : new Float64Array(n));
  if (dst.length !== n) throw new Error('decodePixels: destination length differs from the pixel count');
  if (bitpix === 64) {
    decode64(raw, sc, blank, dst);
    return { data: dst, scaled: true };
  }
  const src = view(raw, bitpix) as Uint8Array | Int16Array | Int32Array | Float32Array | Float64Array;
  const f32 = out === 'float32' && (bitpix === 8 || bitpix === 16 || bitpix === -32);
  const s = f32 ? Math.fround(sc.bscale) : sc.bscale;
  const z = f32 ? Math.fround(sc.bzero) : sc.bzero;
  const b = blank === undefined ? NaN : Number(blank); // NaN never equals a stored integer
  if (trivial && blank === undefined) {
    dst.set(src);
  } else if (f32) {
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      dst[i] = v === b ? NaN : Math.fround(v * s) + z;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      dst[i] = v === b ? NaN : v * s + z;
    }
  }
  return { data: dst, scaled: true };
}

/** Whether decodePixels writes a new float array for this output (otherwise it returns a view of the raw bytes). */
export function needsConversion(bitpix: number, sc: Scaling, out: PixelOutput): boolean {
  if (out === 'native') return false;
  const trivial = sc.bscale === 1 && sc.bzero === 0;
  return !((bitpix === -32 && out === 'float32' && trivial) || (bitpix === -64 && out === 'float64' && trivial));
}

/** Apply the unsigned/signed-byte offset by flipping the sign bit in place; returns the offset-type view. */
function flipSign(raw: Uint8Array, bitpix: number): PixelArray {
  const { buffer, byteOffset } = raw;
  switch (bitpix) {
    case 8: {
      for (let i = 0; i < raw.length; i++) raw[i]! ^= 0x80;
      return new Int8Array(buffer, byteOffset, raw.length);
    }
    case 16: {
      const u = new Uint16Array(buffer, byteOffset, raw.length / 2);
      for (let i = 0; i < u.length; i++) u[i]! ^= 0x8000;
      return u;
    }
    case 32: {
      const u = new Uint32Array(buffer, byteOffset, raw.length / 4);
      for (let i = 0; i < u.length; i++) u[i] = (u[i]! ^ 0x80000000) >>> 0;
      return u;
    }
    default: {
      const u = new Uint32Array(buffer, byteOffset, raw.length / 4);
      const hiIndex = LITTLE_ENDIAN ? 1 : 0;
      for (let i = hiIndex; i < u.length; i += 2) u[i] = (u[i]! ^ 0x80000000) >>> 0;
      return new BigUint64Array(buffer, byteOffset, raw.length / 8);
    }
  }
}

/** 64-bit integers (host order) to floats without BigInt: value = hi * 2^32 + lo, rounded once. */
function decode64(raw: Uint8Array, sc: Scaling, blank: number | bigint | undefined, dst: Float32Array | Float64Array): void {
  const u = new Uint32Array(raw.buffer, raw.byteOffset, raw.length / 4);
  const i32 = new Int32Array(raw.buffer, raw.byteOffset, raw.length / 4);
  const lo0 = LITTLE_ENDIAN ? 0 : 1;
  const hi0 = 1 - lo0;
  const n = dst.length;
  const unsigned = sc.offsetInteger;
  let bHi = NaN;
  let bLo = NaN;
  if (blank !== undefined) {
    const bb = BigInt.asUintN(64, BigInt(blank));
    bHi = Number(bb >> 32n) | 0;
    bLo = Number(bb & 0xffffffffn);
  }
  const s = sc.bscale;
  const z = unsigned ? 0 : sc.bzero;
  const plain = s === 1 && z === 0;
  for (let i = 0; i < n; i++) {
    const lo = u[2 * i + lo0]!;
    const hi = i32[2 * i + hi0]!;
    if (hi === bHi && lo === bLo) {
      dst[i] = NaN;
      continue;
    }
    const v = unsigned ? ((hi ^ 0x80000000) >>> 0) * TWO32 + lo : hi * TWO32 + lo;
    dst[i] = plain ? v : v * s + z;
  }
}

/** Physical range representable by BITPIX's stored integers. */
function storedRange(bitpix: number): [number, number] {
  switch (bitpix) {
    case 8:
      return [0, 255];
    case 16:
      return [-32768, 32767];
    case 32:
      return [-2147483648, 2147483647];
    default:
      return [-9223372036854775808, 9223372036854775807];
  }
}

export interface EncodeOptions {
  bscale?: number;
  bzero?: number | bigint;
  /** Stored value written for NaN (integer BITPIX); required when the data hold NaN. */
  blank?: number | bigint;
  /** Index of data[0] in the whole image (for error messages when encoding in chunks). */
  firstIndex?: number;
}

/**
 * Encode pixels as big-endian bytes for BITPIX. Integer typed arrays whose type matches the stored type
 * (or its unsigned offset form with the matching BZERO) are copied exactly; other inputs are converted:
 * stored = round((value - BZERO) / BSCALE) for integer BITPIX (half away from zero; out of range or NaN
 * without BLANK -> FitsError), stored = (value - BZERO) / BSCALE for float BITPIX.
 */
export function encodePixels(data: ArrayLike<number> | PixelArray, bitpix: Bitpix, opts: EncodeOptions = {}): Uint8Array {
  const bscale = opts.bscale ?? 1;
  const bzero = opts.bzero ?? 0;
  const bpp = Math.abs(bitpix) / 8;
  const n = data.length;
  const out = new Uint8Array(n * bpp);
  const offset = isOffsetInteger(bitpix, bscale, bzero);
  const direct = exactTypeMatch(data, bitpix, offset, bscale, bzero);
  if (direct) {
    out.set(new Uint8Array(direct.buffer, direct.byteOffset, n * bpp));
    if (offset) flipSign(out, bitpix);
    swapToHost(out, bpp); // host -> big-endian is the same swap
    return out;
  }
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    throw new FitsError(`cannot encode 64-bit integer data as BITPIX ${bitpix} with BZERO ${bzero}`);
  }
  const src = data as ArrayLike<number>;
  const z = Number(bzero);
  if (bitpix < 0) {
    const dst = bitpix === -32 ? new Float32Array(out.buffer) : new Float64Array(out.buffer);
    if (bscale === 1 && z === 0) for (let i = 0; i < n; i++) dst[i] = src[i]!;
    else for (let i = 0; i < n; i++) dst[i] = (src[i]! - z) / bscale;
    swapToHost(out, bpp);
    return out;
  }
  const [lo, hi] = storedRange(bitpix);
  const first = opts.firstIndex ?? 0;
  const blank = opts.blank === undefined ? undefined : Number(opts.blank);
  if (blank !== undefined && (blank < lo || blank > hi || !Number.isInteger(blank))) {
    throw new FitsError(`BLANK ${opts.blank} is not a valid BITPIX ${bitpix} value`);
  }
  const tmp = bitpix === 8 ? out : bitpix === 16 ? new Int16Array(out.buffer) : bitpix === 32 ? new Int32Array(out.buffer) : undefined;
  const u32 = new Uint32Array(out.buffer, 0, bitpix === 64 ? 2 * n : 0);
  const lo0 = LITTLE_ENDIAN ? 0 : 1;
  for (let i = 0; i < n; i++) {
    const v = src[i]!;
    let s: number;
    if (v !== v) {
      if (blank === undefined) throw new FitsError(`pixel ${i + first} is NaN: writing NaN to BITPIX ${bitpix} needs a BLANK value`);
      s = blank;
    } else {
      const q = bscale === 1 ? v - z : (v - z) / bscale;
      s = q >= 0 ? Math.floor(q + 0.5) : -Math.floor(-q + 0.5);
      if (!(s >= lo && (bitpix === 64 ? s < hi : s <= hi))) {
        throw new FitsError(`pixel ${i + first} value ${v} does not fit BITPIX ${bitpix} (BSCALE ${bscale}, BZERO ${bzero})`);
      }
    }
    if (tmp) tmp[i] = s;
    else {
      const h = Math.floor(s / TWO32);
      u32[2 * i + lo0] = s - h * TWO32;
      u32[2 * i + 1 - lo0] = h >>> 0;
    }
  }
  swapToHost(out, bpp);
  return out;
}

/** The input viewed as the stored integer type when it already holds stored values (or their unsigned form). */
function exactTypeMatch(data: ArrayLike<number> | PixelArray, bitpix: number, offset: boolean, bscale: number, bzero: number | bigint): PixelArray | undefined {
  const trivial = bscale === 1 && Number(bzero) === 0;
  switch (bitpix) {
    case 8:
      return (data instanceof Uint8Array && trivial) || (data instanceof Int8Array && offset) ? data : undefined;
    case 16:
      return (data instanceof Int16Array && trivial) || (data instanceof Uint16Array && offset) ? data : undefined;
    case 32:
      return (data instanceof Int32Array && trivial) || (data instanceof Uint32Array && offset) ? data : undefined;
    case 64:
      return (data instanceof BigInt64Array && trivial) || (data instanceof BigUint64Array && offset) ? data : undefined;
    case -32:
      return data instanceof Float32Array && trivial ? data : undefined;
    default:
      return data instanceof Float64Array && trivial ? data : undefined;
  }
}
