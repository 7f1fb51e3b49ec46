/**
 * Writing FITS files: a list of generic HDUs {header, data bytes} (images from imageHdu, tables from
 * the table writer) goes to a temporary file in the target directory which is renamed into place
 * only when complete; on any error the temporary file is removed. Structural keywords are rebuilt in
 * standard order; CHECKSUM/DATASUM are computed while writing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BLOCK, Header, type Card } from './header.js';
import { FitsError } from './errors.js';
import { Checksum, addSums, datasumString, encodeChecksum } from './checksum.js';
import { encodePixels, type Bitpix, type EncodeOptions, type PixelArray } from './pixels.js';

/** Data of an HDU: one buffer, a list of chunks, or any iterable of chunks (produced lazily). */
export type HduData = Uint8Array | Iterable<Uint8Array>;

/** A generic HDU to write. The header must hold XTENSION (extensions), BITPIX, NAXIS, NAXISn (and PCOUNT, GCOUNT, TFIELDS for tables). */
export interface HduInput {
  header: Header;
  data?: HduData;
}

export interface WriteOptions {
  /** Write CHECKSUM and DATASUM (default true). */
  checksum?: boolean;
  /** Replace an existing file (default true). */
  overwrite?: boolean;
  /** fsync the file before renaming it into place (default true: the rename then never exposes a partial file after a crash). */
  fsync?: boolean;
}

/** Keywords rebuilt by the writer (removed from the user's cards). */
const STRUCTURAL = /^(SIMPLE|XTENSION|BITPIX|NAXIS\d*|EXTEND|PCOUNT|GCOUNT|TFIELDS|GROUPS|CHECKSUM|DATASUM|END)$/;

/** Expected data length of a header (bytes, unpadded). */
function dataLength(h: Header): number {
  const bitpix = h.getInt('BITPIX') ?? 0;
  const naxis = h.getInt('NAXIS', 0);
  let n = naxis === 0 ? 0 : 1;
  for (let i = 1; i <= naxis; i++) n *= h.getInt(`NAXIS${i}`, 0);
  return (Math.abs(bitpix) / 8) * h.getInt('GCOUNT', 1) * (h.getInt('PCOUNT', 0) + n);
}

/**
 * Header with mandatory keywords in standard order for its position: SIMPLE/EXTEND for the primary HDU,
 * XTENSION/PCOUNT/GCOUNT for extensions (TFIELDS for tables), then the caller's other cards.
 */
export function normalizeHeader(input: Header, primary: boolean, withExtensions: boolean): Header {
  const xt = input.has('XTENSION') ? String(input.get('XTENSION')).trim().toUpperCase() : 'IMAGE';
  if (primary && xt !== 'IMAGE') throw new FitsError(`a ${xt} cannot be the primary HDU`);
  const bitpix = input.getInt('BITPIX');
  if (bitpix === undefined || ![8, 16, 32, 64, -32, -64].includes(bitpix)) throw new FitsError(`invalid BITPIX ${bitpix}`);
  const naxis = input.getInt('NAXIS', 0);
  const h = new Header([], input.where);
  if (primary) h.set('SIMPLE', true, 'conforms to FITS standard');
  else h.set('XTENSION', xt, xt === 'IMAGE' ? 'Image extension' : xt === 'BINTABLE' ? 'binary table extension' : '');
  h.set('BITPIX', bitpix, 'array data type');
  h.set('NAXIS', naxis, 'number of array dimensions');
  for (let i = 1; i <= naxis; i++) h.set(`NAXIS${i}`, input.getInt(`NAXIS${i}`) ?? 0);
  if (primary) {
    if (withExtensions) h.set('EXTEND', true);
  } else {
    h.set('PCOUNT', input.getInt('PCOUNT', 0), 'number of parameters');
    h.set('GCOUNT', input.getInt('GCOUNT', 1), 'number of groups');
    if (xt === 'BINTABLE' || xt === 'TABLE') h.set('TFIELDS', input.getInt('TFIELDS', 0), 'number of table fields');
  }
  for (const c of input.cards) if (!STRUCTURAL.test(c.key)) h.add(c);
  return h;
}

function chunksOf(data: HduData | undefined): Iterable<Uint8Array> {
  if (data === undefined) return [];
  return data instanceof Uint8Array ? [data] : data;
}

/** Put CHECKSUM and DATASUM cards at the end of the header. */
function checksumCards(h: Header, datasum: number, checksum: string): void {
  h.delete('CHECKSUM');
  h.delete('DATASUM');
  h.add({ key: 'CHECKSUM', value: checksum, comment: 'HDU checksum' });
  h.add({ key: 'DATASUM', value: datasumString(datasum), comment: 'data unit checksum' });
}

/** Header bytes with CHECKSUM set for a given data sum (the header block count does not change). */
function finalHeaderBytes(h: Header, datasum: number): Uint8Array {
  checksumCards(h, datasum, '0000000000000000');
  const zeroed = h.toBytes();
  const sum = addSums(new Checksum().add(zeroed).value, datasum);
  checksumCards(h, datasum, encodeChecksum(sum));
  return h.toBytes();
}

const PAD = new Uint8Array(BLOCK);

/** Positioned byte output. */
interface Sink {
  write(bytes: Uint8Array, pos: number): void;
}

/** The HDUs actually written: an empty primary HDU is put first when the first input is not an image. */
function withPrimary(hdus: readonly HduInput[]): readonly HduInput[] {
  const first = hdus[0]!.header;
  const xt = first.has('XTENSION') ? String(first.get('XTENSION')).trim().toUpperCase() : 'IMAGE';
  if (xt === 'IMAGE') return hdus;
  const empty = new Header().set('BITPIX', 8).set('NAXIS', 0);
  return [{ header: empty }, ...hdus];
}

/** Write HDUs to a sink; returns the total length. */
function writeHdus(sink: Sink, inputs: readonly HduInput[], opts: WriteOptions): number {
  const hdus = withPrimary(inputs);
  let pos = 0;
  const withExt = hdus.length > 1;
  hdus.forEach((input, index) => {
    const h = normalizeHeader(input.header, index === 0, withExt);
    const expected = dataLength(h);
    const checksum = opts.checksum !== false;
    // Placeholder header (same size as the final one), data streamed and summed, then header rewritten.
    const headerPos = pos;
    if (checksum) checksumCards(h, 0, '0000000000000000');
    let headerBytes = h.toBytes();
    sink.write(headerBytes, pos);
    pos += headerBytes.length;
    const sum = new Checksum();
    let written = 0;
    for (const chunk of chunksOf(input.data)) {
      if (written + chunk.length > expected) throw new FitsError(`data longer than the header's ${expected} bytes`, undefined, index);
      sink.write(chunk, pos);
      if (checksum) sum.add(chunk);
      pos += chunk.length;
      written += chunk.length;
    }
    if (written !== expected) throw new FitsError(`data has ${written} bytes, header requires ${expected}`, undefined, index);
    const pad = (BLOCK - (written % BLOCK)) % BLOCK;
    if (pad) {
      // ASCII tables pad with blanks, everything else with zeros.
      const fill = h.get('XTENSION') === 'TABLE' ? new Uint8Array(pad).fill(0x20) : PAD.subarray(0, pad);
      sink.write(fill, pos);
      if (checksum) sum.add(fill);
      pos += pad;
    }
    if (checksum) {
      headerBytes = finalHeaderBytes(h, sum.value);
      sink.write(headerBytes, headerPos);
    }
  });
  return pos;
}

/**
 * Write a FITS file atomically: temp file in the same directory, fsync, rename. On error the temp
 * file is removed and the target is untouched. A table first in the list gets an empty primary HDU.
 */
export function writeFits(file: string, hdus: readonly HduInput[], opts: WriteOptions = {}): void {
  if (hdus.length === 0) throw new FitsError('nothing to write: no HDUs', file);
  if (opts.overwrite === false && fs.existsSync(file)) throw new FitsError('file exists', file);
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx');
    const out = fd;
    writeHdus({ write: (b, pos) => void fs.writeSync(out, b, 0, b.length, pos) }, hdus, opts);
    if (opts.fsync !== false) fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    if (e instanceof FitsError) throw e.locate(file);
    throw new FitsError(`write failed: ${(e as Error).message}`, file);
  }
}

/** Serialize HDUs to bytes in memory (same layout as writeFits). */
export function fitsBytes(hdus: readonly HduInput[], opts: WriteOptions = {}): Uint8Array {
  if (hdus.length === 0) throw new FitsError('nothing to write: no HDUs');
  const parts = new Map<number, Uint8Array>();
  const size = writeHdus({ write: (b, pos) => void parts.set(pos, b) }, hdus, opts);
  const out = new Uint8Array(size);
  for (const [pos, b] of parts) out.set(b, pos);
  return out;
}

export interface ImageHduOptions extends EncodeOptions {
  /** NAXIS1..NAXISn (NAXIS1 first). Default [width, data.length / width] with `width`. */
  axes?: number[];
  width?: number;
  /** Stored BITPIX. Default from the array type (Float32Array -32, Float64Array -64, Int16Array 16, Uint16Array 16 + BZERO 32768, ...). */
  bitpix?: Bitpix;
  /** Extra cards (WCS etc.); structural and scaling keywords in it are replaced. */
  header?: Header | Card[];
  extname?: string;
}

/** Default BITPIX and BZERO for a typed array. */
function defaultsFor(data: ArrayLike<number> | PixelArray): { bitpix: Bitpix; bzero?: number | bigint } {
  if (data instanceof Uint8Array) return { bitpix: 8 };
  if (data instanceof Int8Array) return { bitpix: 8, bzero: -128 };
  if (data instanceof Int16Array) return { bitpix: 16 };
  if (data instanceof Uint16Array) return { bitpix: 16, bzero: 32768 };
  if (data instanceof Int32Array) return { bitpix: 32 };
  if (data instanceof Uint32Array) return { bitpix: 32, bzero: 2147483648 };
  if (data instanceof BigInt64Array) return { bitpix: 64 };
  if (data instanceof BigUint64Array) return { bitpix: 64, bzero: 9223372036854775808n };
  if (data instanceof Float32Array) return { bitpix: -32 };
  return { bitpix: -64 };
}

/** Build an image HDU (for the primary position or as an IMAGE extension) from pixel values. */
export function imageHdu(data: ArrayLike<number> | PixelArray, opts: ImageHduOptions = {}): HduInput {
  const d = defaultsFor(data);
  const bitpix = opts.bitpix ?? d.bitpix;
  const bzero = opts.bzero ?? (opts.bitpix === undefined || opts.bitpix === d.bitpix ? d.bzero : undefined);
  const axes = opts.axes ?? (opts.width ? [opts.width, data.length / opts.width] : [data.length]);
  const count = axes.length === 0 ? 0 : axes.reduce((a, b) => a * b, 1);
  if (!axes.every((n) => Number.isInteger(n) && n >= 0) || count !== data.length) {
    throw new FitsError(`image axes ${axes.join('x')} do not match ${data.length} pixels`);
  }
  const h = new Header();
  h.set('XTENSION', 'IMAGE');
  h.set('BITPIX', bitpix);
  h.set('NAXIS', axes.length);
  axes.forEach((n, i) => h.set(`NAXIS${i + 1}`, n));
  const extra = opts.header instanceof Header ? opts.header.cards : (opts.header ?? []);
  for (const c of extra) if (!STRUCTURAL.test(c.key) && !/^(BSCALE|BZERO|BLANK)$/.test(c.key)) h.add(c);
  if (opts.extname !== undefined) h.set('EXTNAME', opts.extname);
  if (opts.bscale !== undefined && opts.bscale !== 1) h.set('BSCALE', opts.bscale, undefined, 'float');
  if (bzero !== undefined && Number(bzero) !== 0) h.set('BZERO', bzero, undefined, typeof bzero === 'number' && !Number.isInteger(bzero) ? 'float' : undefined);
  if (opts.blank !== undefined && bitpix > 0) h.set('BLANK', opts.blank);
  return { header: h, data: encodedChunks(data, bitpix, { bscale: opts.bscale, bzero, blank: opts.blank }) };
}

const CHUNK_PIXELS = 1 << 20;

/**
 * Big-endian pixel bytes. Small arrays (and plain arrays) are encoded at once, so conversion errors
 * surface here; large typed arrays are encoded lazily, 1 Mpixel at a time, while being written
 * (re-iterable; a conversion error then aborts the write and leaves no file).
 */
function encodedChunks(data: ArrayLike<number> | PixelArray, bitpix: Bitpix, opts: EncodeOptions): HduData {
  const n = data.length;
  const sub = (data as { subarray?: (a: number, b: number) => ArrayLike<number> | PixelArray }).subarray;
  if (n <= CHUNK_PIXELS || typeof sub !== 'function') return encodePixels(data, bitpix, opts);
  return {
    *[Symbol.iterator]() {
      for (let s = 0; s < n; s += CHUNK_PIXELS) {
        yield encodePixels(sub.call(data, s, Math.min(n, s + CHUNK_PIXELS)), bitpix, { ...opts, firstIndex: s });
      }
    },
  };
}

/** Convenience: write one image (primary HDU) to a file. */
export function writeImage(file: string, data: ArrayLike<number> | PixelArray, opts: ImageHduOptions = {}, wopts: WriteOptions = {}): void {
  writeFits(file, [imageHdu(data, opts)], wopts);
}
