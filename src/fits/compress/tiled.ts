/**
 * Decoding tile-compressed images (FITS tiled image compression convention): ZIMAGE = T binary
 * tables whose rows hold the compressed tiles of an N-dimensional image.
 *
 * Output: the stored pixel type of ZBITPIX (Uint8Array, Int16Array, Int32Array, BigInt64Array,
 * Float32Array, Float64Array), BSCALE/BZERO not applied (they stay in the image header, see
 * imageHeaderFromCompressed). Quantized float tiles are restored with their ZSCALE/ZZERO, dither
 * (ZQUANTIZ/ZDITHER0) and null value (ZBLANK -> NaN).
 * Tiles are decoded one at a time into scratch buffers and scattered, run by run, into the image;
 * a band of rows only decodes the tiles that intersect it.
 */
import { FitsError } from '../errors.js';
import type { Header } from '../header.js';
import { fieldBytes, readDescriptor, type ColumnInfo, type TableLayout } from '../tform.js';
import { unquantizeTile } from './dither.js';
import { gunzipBounded, unshuffleBytes } from './gzip.js';
import { hcompressDecode } from './hcompress.js';
import { type CompressedImageInfo, type TileParam, compressedImageInfo } from './params.js';
import { plioDecode } from './plio.js';
import { riceDecode } from './rice.js';

export type TilePixels = Uint8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

export interface DecompressOptions {
  /** Only rows [r0, r1) (rows of ZNAXIS1 pixels counted over all higher axes). Default: all rows. */
  rows?: [number, number];
  /** Refuse images of more pixels than this (default 2^31). */
  maxPixels?: number;
}

export interface DecompressedImage {
  info: CompressedImageInfo;
  /** First row returned and number of rows. */
  y0: number;
  height: number;
  width: number;
  data: TilePixels;
}

/** Allocate a pixel array of the ZBITPIX type. */
export function allocPixels(zbitpix: number, n: number): TilePixels {
  switch (zbitpix) {
    case 8:
      return new Uint8Array(n);
    case 16:
      return new Int16Array(n);
    case 32:
      return new Int32Array(n);
    case 64:
      return new BigInt64Array(n);
    case -32:
      return new Float32Array(n);
    default:
      return new Float64Array(n);
  }
}

/** Scratch buffers reused across tiles. */
interface Scratch {
  ints: Int32Array;
  f64: Float64Array;
  tile: TilePixels;
}

/**
 * Decompress a tile-compressed image (or a band of its rows) from its BINTABLE header and data
 * unit (rows + heap). Errors are FitsErrors naming file, HDU (from header.where) and tile.
 */
export function decompressImage(header: Header, data: Uint8Array, opts: DecompressOptions = {}): DecompressedImage {
  const { file, hdu } = header.where;
  const info = compressedImageInfo(header);
  const { layout, axes, tile } = info;
  const fail = (msg: string): never => {
    throw new FitsError(msg, file, hdu);
  };
  const need = layout.heapOffset + layout.heapSize;
  if (data.length < need) fail(`compressed image data truncated: ${data.length} of ${need} bytes`);
  const width = axes.length ? axes[0] : 0;
  let totalRows = axes.length ? 1 : 0;
  for (let i = 1; i < axes.length; i++) totalRows *= axes[i];
  const [r0, r1] = opts.rows ?? [0, totalRows];
  if (!(Number.isInteger(r0) && Number.isInteger(r1) && r0 >= 0 && r0 <= r1 && r1 <= totalRows)) {
    fail(`rows ${r0}..${r1 - 1} outside the image (${totalRows} rows)`);
  }
  const npixOut = width * (r1 - r0);
  const maxPixels = opts.maxPixels ?? 2 ** 31;
  // No codec expands a tile anywhere near 2^16 pixels per stored byte: refuse headers claiming more.
  const plausible = Math.max(1e7, 65536 * data.length);
  if (npixOut > maxPixels || npixOut > plausible) {
    fail(`image of ${axes.join('x')} pixels is implausibly large for ${data.length} bytes of compressed data`);
  }
  const out = allocPixels(info.zbitpix, npixOut);
  let maxTile = 1;
  for (const t of tile) maxTile *= t;
  maxTile = Math.min(maxTile, Math.max(1, width * totalRows));
  if (maxTile > maxPixels || maxTile > plausible) fail(`tiles of ${tile.join('x')} pixels are implausibly large for ${data.length} bytes of compressed data`);
  const scratch: Scratch = { ints: new Int32Array(maxTile), f64: new Float64Array(0), tile: allocPixels(info.zbitpix, maxTile) };
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const nd = axes.length;
  // Strides of the global row index for axes >= 2.
  const rowStride: number[] = [0, 1];
  for (let i = 2; i < nd; i++) rowStride.push(rowStride[i - 1] * axes[i - 1]);
  const lo = new Array<number>(nd).fill(0);
  const ext = new Array<number>(nd).fill(0);
  const idx = new Array<number>(nd).fill(0);
  for (let t = 0; t < info.ntiles; t++) {
    // Tile position along each axis (axis 1 fastest).
    let rem = t;
    let npix = 1;
    for (let i = 0; i < nd; i++) {
      const k = rem % info.tilesPerAxis[i];
      rem = Math.floor(rem / info.tilesPerAxis[i]);
      lo[i] = k * tile[i];
      ext[i] = Math.min(tile[i], axes[i] - lo[i]);
      npix *= ext[i];
    }
    if (!tileTouchesRows(lo, ext, rowStride, nd, r0, r1)) continue;
    try {
      decodeTile(info, t, npix, ext, data, dv, scratch);
    } catch (e) {
      const msg = e instanceof FitsError ? e.problem : (e as Error).message;
      throw new FitsError(`tile ${t + 1}: ${msg}`, file, hdu);
    }
    // Scatter the tile's rows (runs of ext[0] pixels) into the output band.
    const runs = npix / Math.max(1, ext[0]);
    idx.fill(0);
    for (let run = 0; run < runs; run++) {
      let g = 0;
      for (let i = 1; i < nd; i++) g += (lo[i] + idx[i]) * rowStride[i];
      if (g >= r0 && g < r1) {
        const src = run * ext[0];
        (out as Float64Array).set((scratch.tile as Float64Array).subarray(src, src + ext[0]), (g - r0) * width + lo[0]);
      }
      for (let i = 1; i < nd; i++) {
        if (++idx[i] < ext[i]) break;
        idx[i] = 0;
      }
    }
  }
  return { info, y0: r0, height: r1 - r0, width, data: out };
}

/** True if any row of the tile (global row index over axes >= 2) falls in [r0, r1). */
function tileTouchesRows(lo: number[], ext: number[], stride: number[], nd: number, r0: number, r1: number): boolean {
  if (nd <= 1) return r0 < r1 && r0 === 0;
  let minRow = 0;
  let maxRow = 0;
  for (let i = 1; i < nd; i++) {
    minRow += lo[i] * stride[i];
    maxRow += (lo[i] + ext[i] - 1) * stride[i];
  }
  if (maxRow < r0 || minRow >= r1) return false;
  if (nd === 2) return true;
  // Higher dimensions: rows of the tile are not contiguous; check them one by one.
  const idx = new Array<number>(nd).fill(0);
  for (;;) {
    let g = 0;
    for (let i = 1; i < nd; i++) g += (lo[i] + idx[i]) * stride[i];
    if (g >= r0 && g < r1) return true;
    let i = 1;
    for (; i < nd; i++) {
      if (++idx[i] < ext[i]) break;
      idx[i] = 0;
    }
    if (i === nd) return false;
  }
}

/** Numeric cell of a scalar column (D, E, J, I, K, B) in a row. */
function cellNumber(layout: TableLayout, dv: DataView, col: ColumnInfo, row: number): number {
  const p = row * layout.rowBytes + col.offset;
  switch (col.tform.code) {
    case 'D':
      return dv.getFloat64(p, false);
    case 'E':
      return dv.getFloat32(p, false);
    case 'J':
      return dv.getInt32(p, false);
    case 'I':
      return dv.getInt16(p, false);
    case 'K':
      return Number(dv.getBigInt64(p, false));
    case 'B':
      return dv.getUint8(p);
    default:
      throw new FitsError(`column ${col.name} has unsupported type ${col.tformText}`);
  }
}

function param(info: CompressedImageInfo, p: TileParam, dv: DataView, row: number): number | undefined {
  if (p.col) return cellNumber(info.layout, dv, p.col, row);
  return p.value;
}

/** Heap bytes of a tile's array in a P/Q column, with its element count. */
function heapCell(info: CompressedImageInfo, col: ColumnInfo | undefined, data: Uint8Array, dv: DataView, row: number) {
  if (!col) return undefined;
  const { count, offset } = readDescriptor(info.layout, dv, col, row);
  if (count === 0) return undefined;
  const start = info.layout.heapOffset + offset;
  return { count, bytes: data.subarray(start, start + fieldBytes(col.tform.heapCode!, count)), code: col.tform.heapCode! };
}

/** Decode tile t (npix pixels) into scratch.tile[0..npix). */
function decodeTile(info: CompressedImageInfo, t: number, npix: number, ext: number[], data: Uint8Array, dv: DataView, s: Scratch): void {
  const out = s.tile;
  const zb = info.zbitpix;
  const cell = heapCell(info, info.compressedCol, data, dv, t);
  if (cell) {
    const ints = s.ints;
    switch (info.cmptype) {
      case 'RICE_1':
        riceDecode(cell.bytes, npix, info.bytePix, info.blockSize, ints);
        break;
      case 'PLIO_1':
        plioDecode(cell.bytes, npix, ints);
        break;
      case 'HCOMPRESS_1': {
        if (s.f64.length < npix) s.f64 = new Float64Array(out.length);
        const [nx, ny] = hcompressDecode(cell.bytes, npix, info.smooth, s.f64);
        if (ny !== ext[0] || (ext.length > 1 && nx * ny !== npix)) throw new FitsError(`HCOMPRESS tile is ${ny}x${nx}, expected ${ext.join('x')}`);
        // Lossy reconstructions may leave the pixel type's range: clamp, as cfitsio's conversion does.
        const f = s.f64;
        if (info.quantized) {
          for (let i = 0; i < npix; i++) ints[i] = clamp(f[i], -2147483648, 2147483647);
          break;
        }
        if (out instanceof BigInt64Array) for (let i = 0; i < npix; i++) out[i] = BigInt(f[i]);
        else {
          const [min, max] = zb === 8 ? [0, 255] : zb === 16 ? [-32768, 32767] : [-2147483648, 2147483647];
          for (let i = 0; i < npix; i++) out[i] = clamp(f[i], min, max);
        }
        return;
      }
      case 'GZIP_1':
      case 'GZIP_2':
      case 'NOCOMPRESS': {
        const width = info.quantized ? 4 : Math.abs(zb) / 8;
        let raw = info.cmptype === 'NOCOMPRESS' ? cell.bytes : gunzipBounded(cell.bytes, npix * width);
        if (raw.length !== npix * width) throw new FitsError(`decompressed tile has ${raw.length} bytes, expected ${npix * width}`);
        if (info.cmptype === 'GZIP_2') raw = unshuffleBytes(raw, width);
        if (info.quantized) {
          const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
          for (let i = 0; i < npix; i++) ints[i] = v.getInt32(4 * i, false);
          break;
        }
        readBigEndian(raw, zb, npix, out);
        return;
      }
    }
    if (info.quantized) {
      const scale = param(info, info.zscale, dv, t);
      const zero = param(info, info.zzero, dv, t);
      if (scale === undefined || zero === undefined) throw new FitsError('quantized tile without ZSCALE/ZZERO');
      unquantizeTile(ints, npix, {
        method: info.quantize,
        scale,
        zero,
        blank: param(info, info.zblank, dv, t),
        tile: t + 1,
        dither0: info.dither0,
      }, out as Float32Array | Float64Array);
    } else if (out instanceof BigInt64Array) {
      for (let i = 0; i < npix; i++) out[i] = BigInt(ints[i]);
    } else {
      out.set(ints.subarray(0, npix));
    }
    return;
  }
  // Tiles that could not be compressed: gzip of the raw pixels, or the raw pixels as an array.
  const gz = heapCell(info, info.gzipCol, data, dv, t);
  if (gz) {
    const width = Math.abs(zb) / 8;
    const raw = gunzipBounded(gz.bytes, npix * width);
    if (raw.length !== npix * width) throw new FitsError(`decompressed tile has ${raw.length} bytes, expected ${npix * width}`);
    readBigEndian(raw, zb, npix, out);
    return;
  }
  const un = heapCell(info, info.uncompressedCol, data, dv, t);
  if (un) {
    if (un.count !== npix) throw new FitsError(`uncompressed tile has ${un.count} values, expected ${npix}`);
    const code = un.code;
    const bitpix = code === 'B' ? 8 : code === 'I' ? 16 : code === 'J' ? 32 : code === 'K' ? 64 : code === 'E' ? -32 : code === 'D' ? -64 : 0;
    if (bitpix === 0) throw new FitsError(`UNCOMPRESSED_DATA of type ${code} is not supported`);
    if (bitpix === zb) readBigEndian(un.bytes, zb, npix, out);
    else {
      const tmp = allocPixels(bitpix, npix);
      readBigEndian(un.bytes, bitpix, npix, tmp);
      if (out instanceof BigInt64Array) for (let i = 0; i < npix; i++) out[i] = BigInt(Number(tmp[i]));
      else for (let i = 0; i < npix; i++) out[i] = Number(tmp[i]);
    }
    return;
  }
  // No data at all for this tile: undefined pixels.
  if (out instanceof Float32Array || out instanceof Float64Array) out.fill(NaN, 0, npix);
  else if (out instanceof BigInt64Array) out.fill(0n, 0, npix);
  else out.fill(0, 0, npix);
}

const clamp = (v: number, min: number, max: number): number => (v < min ? min : v > max ? max : v);

/** Big-endian values of BITPIX `bitpix` from `raw` into `out[0..n)`. */
function readBigEndian(raw: Uint8Array, bitpix: number, n: number, out: TilePixels): void {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (bitpix) {
    case 8:
      for (let i = 0; i < n; i++) out[i] = raw[i];
      return;
    case 16:
      for (let i = 0; i < n; i++) out[i] = v.getInt16(2 * i, false);
      return;
    case 32:
      for (let i = 0; i < n; i++) out[i] = v.getInt32(4 * i, false);
      return;
    case 64:
      for (let i = 0; i < n; i++) (out as BigInt64Array)[i] = v.getBigInt64(8 * i, false);
      return;
    case -32:
      for (let i = 0; i < n; i++) out[i] = v.getFloat32(4 * i, false);
      return;
    default:
      for (let i = 0; i < n; i++) out[i] = v.getFloat64(8 * i, false);
  }
}
