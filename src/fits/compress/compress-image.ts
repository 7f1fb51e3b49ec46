/**
 * Tile compression of images (writing ZIMAGE = T binary tables): RICE_1, GZIP_1 and GZIP_2 for
 * integer images; floating-point images either quantized (ZSCALE/ZZERO per tile, subtractive
 * dithering per the convention, NaN -> ZBLANK) and Rice/GZIP-coded, or stored losslessly with GZIP.
 * Tiles that cannot be quantized (no finite pixels, no noise, range too wide) are stored losslessly
 * in GZIP_COMPRESSED_DATA, as the convention allows.
 */
import { FitsError } from '../errors.js';
import { Header } from '../header.js';
import { buildTable, type ColumnSpec } from '../table-write.js';
import { DITHER2_ZERO_VALUE, N_RANDOM, type QuantizeMethod, ditherSequence } from './dither.js';
import { gzipBytes, shuffleBytes } from './gzip.js';
import { riceEncode } from './rice.js';

export type ImageArray = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

export interface CompressImageOptions {
  /** Default 'RICE_1'. */
  type?: 'RICE_1' | 'GZIP_1' | 'GZIP_2';
  /** ZTILEn (default: one row per tile). */
  tile?: number[];
  /** Rice block size (default 32). */
  blockSize?: number;
  /**
   * Float images: quantization step = (tile noise) / level for level > 0, |level| for level < 0;
   * 0 = lossless (GZIP_1 / GZIP_2 only). Default 4.
   */
  quantizeLevel?: number;
  /** Default 'SUBTRACTIVE_DITHER_1'. */
  quantizeMethod?: QuantizeMethod;
  /** ZDITHER0 (1..10000, default 1). */
  dither0?: number;
  /** Image header cards to carry (WCS, ...): structural and scaling keywords are managed here. */
  header?: Header;
  extname?: string;
}

const STRUCT = /^(SIMPLE|XTENSION|BITPIX|NAXIS\d*|EXTEND|PCOUNT|GCOUNT|BSCALE|BZERO|BLANK|CHECKSUM|DATASUM|Z.*|T(TYPE|FORM|UNIT|DIM|SCAL|ZERO|NULL|DISP)\d+|TFIELDS|THEAP)$/;

/** Stored BITPIX and the BZERO of the unsigned / signed-byte conventions (stored = value - BZERO). */
function storedType(d: ImageArray): { bitpix: number; bzero?: number } {
  if (d instanceof Uint8Array) return { bitpix: 8 };
  if (d instanceof Int8Array) return { bitpix: 8, bzero: -128 };
  if (d instanceof Int16Array) return { bitpix: 16 };
  if (d instanceof Uint16Array) return { bitpix: 16, bzero: 32768 };
  if (d instanceof Int32Array) return { bitpix: 32 };
  if (d instanceof Uint32Array) return { bitpix: 32, bzero: 2147483648 };
  if (d instanceof Float32Array) return { bitpix: -32 };
  return { bitpix: -64 };
}

/** Noise estimate of a tile: 1.4826 * median |x[i+1] - x[i]| / sqrt(2) over consecutive finite pixels. */
function tileNoise(v: Float64Array, n: number, scratch: Float64Array): number {
  let m = 0;
  let prev = NaN;
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (!Number.isFinite(x)) continue;
    if (!Number.isNaN(prev)) scratch[m++] = Math.abs(x - prev);
    prev = x;
  }
  if (m < 4) return 0;
  const d = scratch.subarray(0, m).sort();
  const med = m % 2 ? d[(m - 1) / 2] : 0.5 * (d[m / 2 - 1] + d[m / 2]);
  return (1.4826 * med) / Math.SQRT2;
}

/**
 * Compress an image into a tile-compressed BINTABLE HDU ({header, data} for the FITS writer).
 * `axes` are NAXIS1..n (NAXIS1 fastest).
 */
export function compressImage(data: ImageArray, axes: number[], opts: CompressImageOptions = {}): { header: Header; data: Uint8Array } {
  const type = opts.type ?? 'RICE_1';
  const { bitpix, bzero } = storedType(data);
  const offset = bzero ?? 0;
  const npix = axes.reduce((a, b) => a * b, axes.length ? 1 : 0);
  if (npix !== data.length) throw new FitsError(`image axes ${axes.join('x')} do not match ${data.length} pixels`);
  const tile = axes.map((n, i) => Math.max(1, Math.min(n, opts.tile?.[i] ?? (i === 0 ? n : 1))));
  const float = bitpix < 0;
  const level = opts.quantizeLevel ?? 4;
  const quantize = float && level !== 0;
  if (float && !quantize && type === 'RICE_1') throw new FitsError('lossless float compression needs GZIP_1 or GZIP_2');
  const method = opts.quantizeMethod ?? 'SUBTRACTIVE_DITHER_1';
  const dither0 = opts.dither0 ?? 1;
  const blockSize = opts.blockSize ?? 32;
  const bytepix = quantize ? 4 : Math.abs(bitpix) / 8;
  const tilesPerAxis = axes.map((n, i) => Math.ceil(n / tile[i]));
  const ntiles = tilesPerAxis.reduce((a, b) => a * b, 1);
  const maxTile = tile.reduce((a, b) => a * b, 1);
  const ints = new Int32Array(maxTile);
  const vals = new Float64Array(maxTile);
  const scratch = new Float64Array(maxTile);
  const compressed: Uint8Array[] = [];
  const gzipped: Uint8Array[] = [];
  const zscale = new Float64Array(ntiles);
  const zzero = new Float64Array(ntiles);
  const rand = ditherSequence();
  const ext = new Array<number>(axes.length).fill(0);
  const lo = new Array<number>(axes.length).fill(0);
  const idx = new Array<number>(axes.length).fill(0);
  const strides = axes.map((_, i) => axes.slice(0, i).reduce((a, b) => a * b, 1));
  for (let t = 0; t < ntiles; t++) {
    let rem = t;
    let n = 1;
    for (let i = 0; i < axes.length; i++) {
      const k = rem % tilesPerAxis[i];
      rem = Math.floor(rem / tilesPerAxis[i]);
      lo[i] = k * tile[i];
      ext[i] = Math.min(tile[i], axes[i] - lo[i]);
      n *= ext[i];
    }
    // Gather the tile (runs of ext[0] pixels), as float64 values (floats) or stored integers.
    idx.fill(0);
    for (let run = 0, o = 0; o < n; run++, o += ext[0]) {
      let s = lo[0];
      for (let i = 1; i < axes.length; i++) s += (lo[i] + idx[i]) * strides[i];
      for (let j = 0; j < ext[0]; j++) {
        const v = data[s + j];
        if (float) vals[o + j] = v;
        else ints[o + j] = v - offset;
      }
      for (let i = 1; i < axes.length; i++) {
        if (++idx[i] < ext[i]) break;
        idx[i] = 0;
      }
    }
    let ok = true;
    if (quantize) ok = quantizeTile(vals, n, level, method, t + 1, dither0, rand, ints, scratch, zscale, zzero, t);
    if (float && (!ok || !quantize)) {
      const raw = new Uint8Array(n * bytepix);
      const dv = new DataView(raw.buffer);
      for (let i = 0; i < n; i++) bitpix === -32 ? dv.setFloat32(4 * i, vals[i], false) : dv.setFloat64(8 * i, vals[i], false);
      if (quantize) {
        // Lossless fallback tile: plain gzip of the raw values in GZIP_COMPRESSED_DATA.
        compressed.push(new Uint8Array(0));
        gzipped.push(gzipBytes(raw));
      } else {
        compressed.push(gzipBytes(type === 'GZIP_2' ? shuffleBytes(raw, bytepix) : raw));
        gzipped.push(new Uint8Array(0));
      }
      continue;
    }
    gzipped.push(new Uint8Array(0));
    if (type === 'RICE_1') {
      compressed.push(riceEncode(ints, n, bytepix, blockSize));
    } else {
      const raw = new Uint8Array(n * bytepix);
      const dv = new DataView(raw.buffer);
      for (let i = 0; i < n; i++) {
        if (bytepix === 1) raw[i] = ints[i];
        else if (bytepix === 2) dv.setInt16(2 * i, ints[i], false);
        else dv.setInt32(4 * i, ints[i], false);
      }
      compressed.push(gzipBytes(type === 'GZIP_2' ? shuffleBytes(raw, bytepix) : raw));
    }
  }
  const cols: ColumnSpec[] = [{ name: 'COMPRESSED_DATA', type: 'PB', data: compressed }];
  if (quantize) {
    cols.push({ name: 'GZIP_COMPRESSED_DATA', type: 'PB', data: gzipped });
    cols.push({ name: 'ZSCALE', data: zscale });
    cols.push({ name: 'ZZERO', data: zzero });
  }
  const built = buildTable(cols);
  const h = built.header;
  h.set('ZIMAGE', true, 'extension contains compressed image');
  h.set('ZTENSION', 'IMAGE', 'image extension');
  h.set('ZBITPIX', bitpix, 'data type of original image');
  h.set('ZNAXIS', axes.length, 'dimension of original image');
  axes.forEach((n, i) => h.set(`ZNAXIS${i + 1}`, n, 'length of original image axis'));
  h.set('ZPCOUNT', 0);
  h.set('ZGCOUNT', 1);
  tile.forEach((n, i) => h.set(`ZTILE${i + 1}`, n, 'size of tiles to be compressed'));
  h.set('ZCMPTYPE', type, 'compression algorithm');
  if (type === 'RICE_1') {
    h.set('ZNAME1', 'BLOCKSIZE', 'compression block size');
    h.set('ZVAL1', blockSize, 'pixels per block');
    h.set('ZNAME2', 'BYTEPIX', 'bytes per pixel (1, 2, 4, or 8)');
    h.set('ZVAL2', bytepix, 'bytes per pixel (1, 2, 4, or 8)');
  }
  if (float) {
    h.set('ZQUANTIZ', quantize ? method : 'NONE', 'pixel quantization algorithm');
    if (quantize && method !== 'NO_DITHER') h.set('ZDITHER0', dither0, 'dithering offset when quantizing floats');
    // NaN pixels are stored as ZBLANK (cfitsio honours it; astropy 5.2 ignores the keyword).
    if (quantize) h.set('ZBLANK', NULL_CODE, 'null value in the compressed integer array');
  }
  if (bzero !== undefined) {
    h.set('BSCALE', 1);
    h.set('BZERO', bzero);
  }
  if (opts.extname !== undefined) h.set('EXTNAME', opts.extname);
  for (const c of opts.header?.cards ?? []) if (!(c.value !== undefined && STRUCT.test(c.key)) && c.key !== 'EXTNAME') h.add(c);
  return { header: h, data: built.data };
}

/** Quantized value of NaN pixels (declared as ZBLANK). */
const NULL_CODE = -2147483647;
const ZMIN = -2147483646 + 8; // keep clear of the reserved null / zero codes
const ZMAX = 2147483647;

/** Quantize one float tile into ints; false when it cannot be (then it is stored losslessly). */
function quantizeTile(
  v: Float64Array,
  n: number,
  level: number,
  method: QuantizeMethod,
  tileNo: number,
  dither0: number,
  rand: Float64Array,
  ints: Int32Array,
  scratch: Float64Array,
  zscale: Float64Array,
  zzero: Float64Array,
  t: number,
): boolean {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (Number.isNaN(x)) continue;
    if (!Number.isFinite(x)) return false;
    if (method === 'SUBTRACTIVE_DITHER_2' && x === 0) continue;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if (!(min <= max)) return false;
  const scale = level > 0 ? tileNoise(v, n, scratch) / level : -level;
  if (!(scale > 0)) return false;
  const zero = (min + max) / 2;
  if ((max - zero) / scale + 1 > ZMAX || (min - zero) / scale - 1 < ZMIN) return false;
  zscale[t] = scale;
  zzero[t] = zero;
  let iseed = (tileNo - 1 + dither0 - 1) % N_RANDOM;
  let next = Math.trunc(Math.fround(rand[iseed] * 500));
  const dither = method !== 'NO_DITHER';
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (Number.isNaN(x)) ints[i] = NULL_CODE;
    else if (method === 'SUBTRACTIVE_DITHER_2' && x === 0) ints[i] = DITHER2_ZERO_VALUE;
    else ints[i] = Math.round(dither ? (x - zero) / scale + rand[next] - 0.5 : (x - zero) / scale);
    if (++next === N_RANDOM) {
      iseed = (iseed + 1) % N_RANDOM;
      next = Math.trunc(Math.fround(rand[iseed] * 500));
    }
  }
  return true;
}
