/**
 * Reading images (primary HDU or IMAGE extensions) into typed arrays, whole or as a band of rows.
 *
 * Output type (option `as`):
 *  - default: Float32Array for BITPIX 8, 16, -32 and Float64Array for BITPIX 32, 64, -64, physical
 *    values (BSCALE/BZERO applied, BLANK -> NaN), bit-identical to astropy's scaled data;
 *  - 'float32' / 'float64': force the float type;
 *  - 'native': the stored type (see decodePixels): Uint8Array, Int8Array (BZERO -128), Int16Array,
 *    Uint16Array (BZERO 32768), Int32Array, Uint32Array (BZERO 2^31), BigInt64Array, BigUint64Array
 *    (BZERO 2^63), Float32Array, Float64Array. Other scalings are reported, not applied (scaled = false).
 * Tile-compressed images (ZIMAGE = T) are decoded by a reader registered with registerCompressedImageReader.
 */
import { FitsError } from './errors.js';
import { FitsFile, type Hdu } from './file.js';
import type { Header } from './header.js';
import type { Plane } from '../image/types.js';
import { decodePixels, defaultOutput, isOffsetInteger, needsConversion, type PixelArray, type PixelOutput, type Scaling } from './pixels.js';

export interface ImageReadOptions {
  as?: PixelOutput;
}

export interface FitsImage {
  /** NAXIS1: pixels per row. */
  width: number;
  /** Rows returned (NAXIS2 * ... * NAXISn for a whole image, or the band height). */
  height: number;
  /** First row returned (0 for a whole image). */
  y0: number;
  /** NAXIS1..NAXISn of the whole image (ZNAXISn for compressed images). */
  axes: number[];
  /** Stored BITPIX (ZBITPIX for compressed images). */
  bitpix: number;
  data: PixelArray;
  /** False only for 'native' output of data whose BSCALE/BZERO (other than an unsigned offset) were not applied. */
  scaled: boolean;
  scaling: Scaling;
  header: Header;
  hdu: number;
}

/** Decoder for ZIMAGE HDUs: returns rows [y0, y0 + ny) of the image (whole image when y0 = 0, ny = all rows). */
export type CompressedImageReader = (file: FitsFile, hdu: Hdu, y0: number, ny: number, opts: ImageReadOptions) => FitsImage;
let compressedReader: CompressedImageReader | undefined;

/** Install the tile-compressed image decoder (done by the compression module). */
export function registerCompressedImageReader(reader: CompressedImageReader | undefined): void {
  compressedReader = reader;
}

/** True when tile-compressed images can be read. */
export function compressedImagesSupported(): boolean {
  return compressedReader !== undefined;
}

/** BSCALE, BZERO, BLANK of an image header. */
export function imageScaling(header: Header, bitpix: number): Scaling {
  const bscale = header.getNumber('BSCALE', 1);
  const bzeroRaw = header.get('BZERO');
  const bzero = header.getNumber('BZERO', 0);
  if (!Number.isFinite(bscale) || !Number.isFinite(bzero)) throw new FitsError('BSCALE/BZERO not finite', header.where.file, header.where.hdu);
  if (bscale === 0) throw new FitsError('BSCALE is 0', header.where.file, header.where.hdu);
  const sc: Scaling = { bscale, bzero, offsetInteger: isOffsetInteger(bitpix, bscale, typeof bzeroRaw === 'bigint' ? bzeroRaw : bzero) };
  if (bitpix > 0 && header.has('BLANK')) {
    const b = header.get('BLANK');
    if (typeof b === 'number' && Number.isInteger(b)) sc.blank = b;
    else if (typeof b === 'bigint') sc.blank = b;
    else throw new FitsError('BLANK is not an integer', header.where.file, header.where.hdu);
  }
  return sc;
}

/** The first HDU holding image pixels (primary if it has data, else the first image or compressed-image extension). */
export function firstImageHdu(file: FitsFile): Hdu {
  for (const h of file.hdus) {
    if ((h.type === 'image' && h.dataByteLength > 0) || h.type === 'compressed-image') return h;
  }
  throw new FitsError('no image data in any HDU', file.name);
}

function resolve(file: FitsFile, which: number | string | Hdu | undefined): Hdu {
  if (which === undefined) return firstImageHdu(file);
  return typeof which === 'object' ? which : file.hdu(which);
}

/** Read a whole image. `hdu` defaults to the first HDU with image data. */
export function readImage(file: FitsFile, hdu?: number | string | Hdu, opts: ImageReadOptions = {}): FitsImage {
  const h = resolve(file, hdu);
  const rows = imageRows(file, h);
  return readImageRows(file, h, 0, rows, opts);
}

function imageRows(file: FitsFile, h: Hdu): number {
  const axes = imageAxes(file, h);
  let rows = 1;
  for (let i = 1; i < axes.length; i++) rows *= axes[i]!;
  return axes.length === 0 ? 0 : rows;
}

function imageAxes(file: FitsFile, h: Hdu): number[] {
  if (h.type === 'compressed-image') return [...h.shape].reverse();
  if (h.type !== 'image') throw new FitsError(`HDU is a ${h.type}, not an image`, file.name, h.index);
  return [...h.axes];
}

/**
 * Read rows [y0, y0 + ny) of an image, rows being NAXIS1 pixels long and counted over all higher axes
 * (for a 2-D image, image rows). Only those rows' bytes are read from the file.
 */
export function readImageRows(file: FitsFile, hdu: number | string | Hdu, y0: number, ny: number, opts: ImageReadOptions = {}): FitsImage {
  const h = resolve(file, hdu);
  const axes = imageAxes(file, h);
  const rows = imageRows(file, h);
  if (!(Number.isInteger(y0) && Number.isInteger(ny) && y0 >= 0 && ny >= 0 && y0 + ny <= rows)) {
    throw new FitsError(`rows ${y0}..${y0 + ny - 1} outside the image (${rows} rows)`, file.name, h.index);
  }
  if (h.type === 'compressed-image') {
    if (!compressedReader) {
      throw new FitsError(`tile-compressed image (${h.header.get('ZCMPTYPE') ?? 'unknown'}): no decoder available`, file.name, h.index);
    }
    return compressedReader(file, h, y0, ny, opts);
  }
  if (axes.length === 0 || h.dataByteLength === 0) throw new FitsError('HDU has no image data', file.name, h.index);
  if (h.header.getInt('GCOUNT', 1) !== 1 || h.header.getInt('PCOUNT', 0) !== 0) {
    throw new FitsError('random groups / PCOUNT in an image are not supported', file.name, h.index);
  }
  const width = axes[0]!;
  const bpp = Math.abs(h.bitpix) / 8;
  const scaling = imageScaling(h.header, h.bitpix);
  const out = opts.as ?? defaultOutput(h.bitpix);
  const nbytes = width * ny * bpp;
  // converted pixels (integers, scaled values) are decoded a few rows at a time into the output array: no
  // second full-size buffer for the stored bytes
  if (needsConversion(h.bitpix, scaling, out) && nbytes > CHUNK_BYTES) {
    const data = readConverted(file, h, width, y0, ny, bpp, scaling, out as 'float32' | 'float64');
    return { width, height: ny, y0, axes, bitpix: h.bitpix, data, scaled: true, scaling, header: h.header, hdu: h.index };
  }
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(nbytes);
  } catch (e) {
    throw new FitsError(`cannot allocate ${nbytes} bytes for the image: ${(e as Error).message}`, file.name, h.index);
  }
  readData(file, h, h.dataOffset + y0 * width * bpp, raw);
  const { data, scaled } = decodePixels(raw, h.bitpix, scaling, out);
  return { width, height: ny, y0, axes, bitpix: h.bitpix, data, scaled, scaling, header: h.header, hdu: h.index };
}

const CHUNK_BYTES = 1 << 20;

/** Fill `target` from the file at `offset`; a FitsError names the file and HDU. */
function readData(file: FitsFile, h: Hdu, offset: number, target: Uint8Array): void {
  try {
    file.source.readInto(offset, target);
  } catch (e) {
    if (e instanceof FitsError) throw e.locate(file.name, h.index);
    throw e;
  }
}

/** Rows [y0, y0 + ny) read and converted to floats CHUNK_BYTES of stored bytes at a time. */
function readConverted(file: FitsFile, h: Hdu, width: number, y0: number, ny: number, bpp: number, scaling: Scaling, out: 'float32' | 'float64'): Float32Array | Float64Array {
  let dst: Float32Array | Float64Array;
  try {
    dst = out === 'float32' ? new Float32Array(width * ny) : new Float64Array(width * ny);
  } catch (e) {
    throw new FitsError(`cannot allocate the image (${width} x ${ny} pixels): ${(e as Error).message}`, file.name, h.index);
  }
  const rowBytes = width * bpp;
  const rowsPer = Math.max(1, Math.floor(CHUNK_BYTES / rowBytes));
  const buf = new Uint8Array(rowsPer * rowBytes);
  for (let r = 0; r < ny; r += rowsPer) {
    const k = Math.min(rowsPer, ny - r);
    const part = buf.subarray(0, k * rowBytes);
    readData(file, h, h.dataOffset + (y0 + r) * rowBytes, part);
    decodePixels(part, h.bitpix, scaling, out, dst.subarray(r * width, (r + k) * width));
  }
  return dst;
}

/** Open a file, read one image (default: the first with data), close the file. */
export function readImageFile(path: string, hdu?: number | string, opts: ImageReadOptions = {}): FitsImage {
  const file = FitsFile.open(path);
  try {
    return readImage(file, hdu, opts);
  } finally {
    file.close();
  }
}

/** Read a 2-D image as a float32 Plane (physical values, BLANK -> NaN). */
export function readPlane(file: FitsFile | string, hdu?: number | string): Plane {
  const img = typeof file === 'string' ? readImageFile(file, hdu, { as: 'float32' }) : readImage(file, hdu, { as: 'float32' });
  if (img.axes.length !== 2) throw new FitsError(`image has ${img.axes.length} axes, expected 2`, typeof file === 'string' ? file : file.name, img.hdu);
  return { width: img.width, height: img.height, data: img.data as Float32Array };
}
