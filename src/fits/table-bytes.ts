/**
 * Moving fixed-size big-endian fields between table rows and host-order typed arrays without
 * per-value allocation. Field k of row r (k < m) sits at base + r*stride + k*size in the row bytes
 * and at r*m + k in the array. Integers move as integer words (bit-exact); float64 fields move as
 * doubles. `flip` toggles each value's sign bit: the unsigned (TZERO 2^(8*size-1)) and signed-byte
 * conventions. One monomorphic function per size keeps V8's loops fast.
 */

const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE ? 1 : 0;
const LO = 1 - HI;
const SIGN32 = 0x80000000 | 0;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function gather1(bytes: Uint8Array, n: number, m: number, base: number, stride: number, flip: boolean): ArrayBuffer {
  const out = new Uint8Array(n * m);
  const x = flip ? 0x80 : 0;
  for (let r = 0, k = 0; r < n; r++) for (let i = 0, p = base + r * stride; i < m; i++) out[k++] = bytes[p + i] ^ x;
  return out.buffer;
}

function gather2(bytes: Uint8Array, n: number, m: number, base: number, stride: number, flip: boolean): ArrayBuffer {
  const out = new Uint16Array(n * m);
  const dv = view(bytes);
  const x = flip ? 0x8000 : 0;
  for (let r = 0, k = 0; r < n; r++) for (let i = 0, p = base + r * stride; i < m; i++, p += 2) out[k++] = dv.getUint16(p, false) ^ x;
  return out.buffer;
}

function gather4(bytes: Uint8Array, n: number, m: number, base: number, stride: number, flip: boolean): ArrayBuffer {
  const out = new Int32Array(n * m);
  const dv = view(bytes);
  const x = flip ? SIGN32 : 0;
  if (m === 1) for (let r = 0, p = base; r < n; r++, p += stride) out[r] = dv.getInt32(p, false) ^ x;
  else for (let r = 0, k = 0; r < n; r++) for (let i = 0, p = base + r * stride; i < m; i++, p += 4) out[k++] = dv.getInt32(p, false) ^ x;
  return out.buffer;
}

function gather8(bytes: Uint8Array, n: number, m: number, base: number, stride: number, flip: boolean): ArrayBuffer {
  const out = new Int32Array(2 * n * m);
  const dv = view(bytes);
  const x = flip ? SIGN32 : 0;
  for (let r = 0, k = 0; r < n; r++) {
    for (let i = 0, p = base + r * stride; i < m; i++, p += 8, k += 2) {
      out[k + HI] = dv.getInt32(p, false) ^ x;
      out[k + LO] = dv.getInt32(p + 4, false);
    }
  }
  return out.buffer;
}

function gatherF64(bytes: Uint8Array, n: number, m: number, base: number, stride: number): ArrayBuffer {
  const out = new Float64Array(n * m);
  const dv = view(bytes);
  if (m === 1) for (let r = 0, p = base; r < n; r++, p += stride) out[r] = dv.getFloat64(p, false);
  else for (let r = 0, k = 0; r < n; r++) for (let i = 0, p = base + r * stride; i < m; i++, p += 8) out[k++] = dv.getFloat64(p, false);
  return out.buffer;
}

/**
 * Read n*m big-endian values of `size` bytes into a new host-order buffer.
 * `float64` reads 8-byte fields as doubles (faster; NaN payloads may be canonicalized).
 */
export function gatherBE(bytes: Uint8Array, size: number, n: number, m: number, base: number, stride: number, flip: boolean, float64 = false): ArrayBuffer {
  switch (size) {
    case 1:
      return gather1(bytes, n, m, base, stride, flip);
    case 2:
      return gather2(bytes, n, m, base, stride, flip);
    case 4:
      return gather4(bytes, n, m, base, stride, flip);
    case 8:
      return float64 && !flip ? gatherF64(bytes, n, m, base, stride) : gather8(bytes, n, m, base, stride, flip);
    default:
      throw new RangeError(`gatherBE: bad size ${size}`);
  }
}

function scatter1(v: Uint8Array, n: number, m: number, bytes: Uint8Array, base: number, stride: number, flip: boolean): void {
  const x = flip ? 0x80 : 0;
  for (let r = 0, k = 0; r < n; r++) for (let i = 0, p = base + r * stride; i < m; i++) bytes[p + i] = v[k++] ^ x;
}

function scatter2(v: Uint16Array, n: number, m: number, bytes: Uint8Array, base: number, stride: number, flip: boolean): void {
  const dv = view(bytes);
  const x = flip ? 0x8000 : 0;
  for (let r = 0, k = 0; r < n; r++) for (let i = 0, p = base + r * stride; i < m; i++, p += 2) dv.setUint16(p, v[k++] ^ x, false);
}

function scatter4(v: Int32Array, n: number, m: number, bytes: Uint8Array, base: number, stride: number, flip: boolean): void {
  const dv = view(bytes);
  const x = flip ? SIGN32 : 0;
  if (m === 1) for (let r = 0, p = base; r < n; r++, p += stride) dv.setInt32(p, v[r] ^ x, false);
  else for (let r = 0, k = 0; r < n; r++) for (let i = 0, p = base + r * stride; i < m; i++, p += 4) dv.setInt32(p, v[k++] ^ x, false);
}

function scatter8(v: Int32Array, n: number, m: number, bytes: Uint8Array, base: number, stride: number, flip: boolean): void {
  const dv = view(bytes);
  const x = flip ? SIGN32 : 0;
  for (let r = 0, k = 0; r < n; r++) {
    for (let i = 0, p = base + r * stride; i < m; i++, p += 8, k += 2) {
      dv.setInt32(p, v[k + HI] ^ x, false);
      dv.setInt32(p + 4, v[k + LO], false);
    }
  }
}

/** Write n*m host-order values of `size` bytes from `src` as big-endian fields into `bytes`. */
export function scatterBE(src: ArrayBufferView, size: number, n: number, m: number, bytes: Uint8Array, base: number, stride: number, flip: boolean): void {
  const count = n * m;
  switch (size) {
    case 1:
      return scatter1(new Uint8Array(src.buffer, src.byteOffset, count), n, m, bytes, base, stride, flip);
    case 2:
      return scatter2(new Uint16Array(src.buffer, src.byteOffset, count), n, m, bytes, base, stride, flip);
    case 4:
      return scatter4(new Int32Array(src.buffer, src.byteOffset, count), n, m, bytes, base, stride, flip);
    case 8:
      return scatter8(new Int32Array(src.buffer, src.byteOffset, 2 * count), n, m, bytes, base, stride, flip);
    default:
      throw new RangeError(`scatterBE: bad size ${size}`);
  }
}
