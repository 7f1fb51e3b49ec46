/**
 * Quantization / subtractive dithering of floating-point tiles (ZQUANTIZ), per the FITS
 * tiled-image convention:
 *  - the dither sequence is 10000 uniform values from the Park-Miller generator
 *    (a = 16807, m = 2^31 - 1, seed 1), each stored as a 32-bit float (seed_k / m);
 *  - tile t (1-based row of the compressed table) starts at sequence index
 *    i0 = (t - 1 + ZDITHER0 - 1) mod 10000 and pixel offset floor(r[i0] * 500);
 *    the offset advances by one per pixel (nulls included); when it reaches 10000, i0 advances
 *    (mod 10000) and the offset restarts at floor(r[i0] * 500);
 *  - value = (q - r + 0.5) * ZSCALE + ZZERO (dithered) or q * ZSCALE + ZZERO (NO_DITHER);
 *  - SUBTRACTIVE_DITHER_2 stores exact zeros as the reserved integer ZERO_VALUE.
 */

/** Number of values in the dither sequence. */
export const N_RANDOM = 10000;
/** Reserved quantized value meaning "exactly 0.0" under SUBTRACTIVE_DITHER_2. */
export const DITHER2_ZERO_VALUE = -2147483646;

let table: Float64Array | undefined;

/** The 10000-value dither sequence (float32-rounded, held as float64 for arithmetic). */
export function ditherSequence(): Float64Array {
  if (table) return table;
  const t = new Float64Array(N_RANDOM);
  const a = 16807;
  const m = 2147483647;
  let seed = 1;
  for (let i = 0; i < N_RANDOM; i++) {
    const temp = a * seed; // < 2^46: exact in float64
    seed = temp - m * Math.trunc(temp / m);
    t[i] = Math.fround(seed / m);
  }
  if (seed !== 1043618065) throw new Error(`dither sequence check failed (final seed ${seed})`);
  table = t;
  return t;
}

/** Quantization method of a tile-compressed float image. */
export type QuantizeMethod = 'NO_DITHER' | 'SUBTRACTIVE_DITHER_1' | 'SUBTRACTIVE_DITHER_2';

/** Parse ZQUANTIZ (absent -> NO_DITHER, the convention's default). */
export function parseQuantize(value: string | undefined): QuantizeMethod {
  const v = (value ?? 'NO_DITHER').trim().toUpperCase();
  if (v === 'NO_DITHER' || v === 'SUBTRACTIVE_DITHER_1' || v === 'SUBTRACTIVE_DITHER_2') return v;
  throw new RangeError(`unknown ZQUANTIZ '${value}'`);
}

/** Parameters for turning one tile's integers back into floats. */
export interface UnquantizeParams {
  method: QuantizeMethod;
  scale: number;
  zero: number;
  /** Integer marking a null pixel (-> NaN), or undefined when the tile has none. */
  blank: number | undefined;
  /** 1-based tile number (row of the compressed table). */
  tile: number;
  /** ZDITHER0 (1..10000), default 1. */
  dither0: number;
}

/**
 * Convert `n` quantized integers `src[0..n)` of one tile to floats in `dst[0..n)`.
 * `dst` may be a Float32Array (values rounded once from the float64 result) or Float64Array.
 */
export function unquantizeTile(src: Int32Array, n: number, p: UnquantizeParams, dst: Float32Array | Float64Array): void {
  const { scale, zero } = p;
  const blank = p.blank ?? NaN; // NaN never equals an integer
  if (p.method === 'NO_DITHER') {
    for (let i = 0; i < n; i++) {
      const q = src[i];
      dst[i] = q === blank ? NaN : q * scale + zero;
    }
    return;
  }
  const r = ditherSequence();
  const zeroCode = p.method === 'SUBTRACTIVE_DITHER_2' ? DITHER2_ZERO_VALUE : NaN;
  let iseed = (((p.tile - 1 + p.dither0 - 1) % N_RANDOM) + N_RANDOM) % N_RANDOM;
  let next = Math.trunc(Math.fround(r[iseed] * 500));
  for (let i = 0; i < n; i++) {
    const q = src[i];
    let v: number;
    if (q === blank) v = NaN;
    else if (q === zeroCode) v = 0;
    else v = (q - r[next] + 0.5) * scale + zero;
    dst[i] = v;
    next++;
    if (next === N_RANDOM) {
      iseed++;
      if (iseed === N_RANDOM) iseed = 0;
      next = Math.trunc(Math.fround(r[iseed] * 500));
    }
  }
}
