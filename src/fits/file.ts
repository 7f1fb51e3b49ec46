/**
 * Opening FITS files and locating their HDUs. Opening reads nothing but the first header; further
 * headers are scanned on demand (header blocks only: data are skipped by offsets computed from
 * BITPIX, NAXISn, PCOUNT and GCOUNT), so HDU 100 of a 3 GB file is reached without reading any data.
 */
import { BLOCK, CARD, Header } from './header.js';
import { FitsError } from './errors.js';
import { MemorySource, memorySource, openSource, type ByteSource, type OpenSourceOptions } from './source.js';

export type HduType = 'image' | 'bintable' | 'table' | 'compressed-image' | 'other';

/** One HDU's header and the location of its parts. Offsets are absolute byte positions in the (decompressed) file. */
export interface Hdu {
  readonly index: number;
  readonly header: Header;
  readonly type: HduType;
  /** XTENSION value ('' for the primary HDU). */
  readonly xtension: string;
  /** EXTNAME ('' if absent). */
  readonly name: string;
  readonly headerOffset: number;
  /** Header length in bytes (whole 2880-byte blocks). */
  readonly headerByteLength: number;
  readonly dataOffset: number;
  /** Data length in bytes without the block padding: |BITPIX|/8 * GCOUNT * (PCOUNT + NAXIS1*...*NAXISn). */
  readonly dataByteLength: number;
  /** Data length padded to whole blocks (may reach past the end of a file whose final padding is missing). */
  readonly paddedDataByteLength: number;
  /** Tables: absolute offset and size of the heap (THEAP .. end of PCOUNT area); 0, 0 otherwise. */
  readonly heapOffset: number;
  readonly heapSize: number;
  readonly bitpix: number;
  /** NAXIS1..NAXISn as written (FITS order: NAXIS1 first, varies fastest). */
  readonly axes: readonly number[];
  /**
   * Logical shape, slowest axis first (numpy order: [NAXIS2, NAXIS1] for a 2-D image). For compressed
   * images this is the image shape from ZNAXISn; for tables [rows, bytes per row].
   */
  readonly shape: readonly number[];
}

export interface OpenOptions extends OpenSourceOptions {
  /** Name for error messages when opening from bytes. */
  name?: string;
}

/** Most header blocks accepted for one HDU (10,000 blocks = 360,000 cards). */
const MAX_HEADER_BLOCKS = 10_000;
const BITPIX_VALUES = new Set([8, 16, 32, 64, -32, -64]);

function isBlankBlock(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0 && bytes[i] !== 0x20) return false;
  return true;
}

function startsWith(bytes: Uint8Array, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (bytes[i] !== text.charCodeAt(i)) return false;
  return true;
}

/** A FITS file open for reading. Call close() when done (or use FitsFile.read... helpers that close for you). */
export class FitsFile {
  /** Non-fatal anomalies found while scanning (e.g. bytes after the last HDU). */
  readonly warnings: string[] = [];
  private readonly scanned: Hdu[] = [];
  private nextOffset = 0;
  private complete = false;

  constructor(readonly source: ByteSource) {
    if (source.size < BLOCK) {
      throw new FitsError(`not a FITS file: ${source.size} bytes, less than one 2880-byte block`, source.name);
    }
    if (!startsWith(source.read(0, 10), 'SIMPLE  = ')) {
      throw new FitsError('not a FITS file: does not start with SIMPLE', source.name);
    }
    this.scanNext();
  }

  /** Open a file on disk (gzip detected by magic bytes and decompressed into memory). */
  static open(path: string, opts: OpenOptions = {}): FitsFile {
    const src = openSource(path, opts);
    try {
      return new FitsFile(src);
    } catch (e) {
      src.close();
      throw e;
    }
  }

  /** Open FITS bytes held in memory (gzip-compressed bytes are decompressed). */
  static fromBytes(bytes: Uint8Array, opts: OpenOptions = {}): FitsFile {
    return new FitsFile(memorySource(bytes, opts.name ?? '<memory>', opts));
  }

  /** File name used in messages. */
  get name(): string {
    return this.source.name;
  }

  /** Number of HDUs (scans all headers). */
  get count(): number {
    this.scanAll();
    return this.scanned.length;
  }

  /** All HDUs (scans all headers). */
  get hdus(): readonly Hdu[] {
    this.scanAll();
    return this.scanned;
  }

  /** HDU by 0-based index, or by EXTNAME (case-insensitive; optional EXTVER). Scans only as far as needed. */
  hdu(which: number | string, extver?: number): Hdu {
    if (typeof which === 'number') {
      if (!Number.isInteger(which) || which < 0) throw new FitsError(`invalid HDU index ${which}`, this.name);
      while (this.scanned.length <= which && !this.complete) this.scanNext();
      const h = this.scanned[which];
      if (!h) throw new FitsError(`no HDU ${which}: the file has ${this.scanned.length}`, this.name);
      return h;
    }
    const want = which.trim().toUpperCase();
    for (let i = 0; ; i++) {
      while (this.scanned.length <= i && !this.complete) this.scanNext();
      const h = this.scanned[i];
      if (!h) break;
      if (h.name.toUpperCase() === want && (extver === undefined || h.header.getInt('EXTVER', 1) === extver)) return h;
    }
    throw new FitsError(`no HDU named ${which}${extver === undefined ? '' : ` (EXTVER ${extver})`}`, this.name);
  }

  /** Raw data bytes of an HDU (unpadded, big-endian as stored). */
  readData(hdu: Hdu | number): Uint8Array {
    const h = typeof hdu === 'number' ? this.hdu(hdu) : hdu;
    return this.readRange(h, h.dataOffset, h.dataByteLength);
  }

  /** Raw header bytes of an HDU (whole blocks, as stored). */
  readHeaderBytes(hdu: Hdu | number): Uint8Array {
    const h = typeof hdu === 'number' ? this.hdu(hdu) : hdu;
    return this.readRange(h, h.headerOffset, h.headerByteLength);
  }

  /** Bytes [offset, offset+length) of the file, with errors located at the HDU. */
  readRange(h: Hdu, offset: number, length: number): Uint8Array {
    try {
      return this.source.read(offset, length);
    } catch (e) {
      if (e instanceof FitsError) throw e.locate(this.name, h.index);
      if (e instanceof RangeError) throw new FitsError(`cannot allocate ${length} bytes: ${e.message}`, this.name, h.index);
      throw e;
    }
  }

  /** Release the underlying file. */
  close(): void {
    this.source.close();
  }

  private scanAll(): void {
    while (!this.complete) this.scanNext();
  }

  /** Scan the header at nextOffset and record its HDU, or mark the scan complete. */
  private scanNext(): void {
    const index = this.scanned.length;
    const off = this.nextOffset;
    const size = this.source.size;
    if (off >= size) {
      this.complete = true;
      return;
    }
    let head: Uint8Array | undefined;
    if (index > 0) {
      const avail = Math.min(BLOCK, size - off);
      head = this.source.read(off, avail);
      // A (possibly partial) block starting with XTENSION is an extension, truncated or not: scan it.
      if (!startsWith(head, 'XTENSION= ')) {
        if (!isBlankBlock(head) || avail < BLOCK) {
          this.warnings.push(`${size - off} bytes after HDU ${index - 1} are not a FITS extension; ignored`);
        }
        this.complete = true;
        return;
      }
    }
    try {
      const h = this.scanHdu(index, off, head && head.length === BLOCK ? head : undefined);
      this.scanned.push(h);
      this.nextOffset = h.dataOffset + h.paddedDataByteLength;
    } catch (e) {
      if (e instanceof FitsError) throw e.locate(this.name, index);
      throw e;
    }
  }

  /** Read header blocks from `off` up to END (`first`: the first block, if already read) and describe the HDU. */
  private scanHdu(index: number, off: number, first?: Uint8Array): Hdu {
    const where = { file: this.name, hdu: index };
    const size = this.source.size;
    const blocks: Uint8Array[] = [];
    let pos = off;
    let found = false;
    while (!found) {
      if (pos + BLOCK > size) throw new FitsError('missing END card: header runs to the end of the file', this.name, index);
      if (blocks.length >= MAX_HEADER_BLOCKS) throw new FitsError(`header longer than ${MAX_HEADER_BLOCKS} blocks without END`, this.name, index);
      const block = blocks.length === 0 && first ? first : this.source.read(pos, BLOCK);
      blocks.push(block);
      for (let c = 0; c < BLOCK && !found; c += CARD) found = startsWith(block.subarray(c, c + 8), 'END     ');
      pos += BLOCK;
    }
    const headerByteLength = pos - off;
    const bytes = blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks);
    const header = Header.parse(bytes, where);
    return describeHdu(header, index, off, headerByteLength, size, this.name);
  }
}

/** Compute type, sizes and offsets of an HDU from its header; checks the claimed data fit in the file. */
export function describeHdu(header: Header, index: number, headerOffset: number, headerByteLength: number, fileSize: number, file?: string): Hdu {
  const fail = (problem: string): never => {
    throw new FitsError(problem, file, index);
  };
  const xtension = index === 0 ? '' : (header.getString('XTENSION') ?? fail('missing XTENSION')).trim().toUpperCase();
  const bitpix = header.getInt('BITPIX') ?? fail('missing BITPIX');
  if (!BITPIX_VALUES.has(bitpix)) fail(`invalid BITPIX ${bitpix}`);
  const naxis = header.getInt('NAXIS') ?? fail('missing NAXIS');
  if (naxis < 0 || naxis > 999) fail(`invalid NAXIS ${naxis}`);
  // Sizes may exceed 2^53 in a corrupt header: take them as (approximate) numbers, rejected below by size.
  const size = (key: string, dflt?: number): number => {
    const v = header.getBigInt(key);
    if (v === undefined) return dflt ?? fail(`missing ${key}`);
    return Number(v);
  };
  const axes: number[] = [];
  for (let i = 1; i <= naxis; i++) {
    const n = size(`NAXIS${i}`);
    if (n < 0) fail(`invalid NAXIS${i} ${n}`);
    axes.push(n);
  }
  const groups = index === 0 && naxis > 0 && axes[0] === 0 && header.getBool('GROUPS', false);
  const hasPG = index > 0 || groups;
  const pcount = hasPG ? size('PCOUNT', 0) : 0;
  const gcount = hasPG ? size('GCOUNT', 1) : 1;
  if (pcount < 0) fail(`invalid PCOUNT ${pcount}`);
  if (gcount < 0) fail(`invalid GCOUNT ${gcount}`);
  const dataOffset = headerOffset + headerByteLength;
  const available = Math.max(0, fileSize - dataOffset);
  // Element count: any zero axis (or GCOUNT 0) means no data; huge claims become large or infinite
  // numbers (never NaN) and are rejected below before anything is allocated.
  const bytesPer = Math.abs(bitpix) / 8;
  const dims = groups ? axes.slice(1) : axes;
  let elements = naxis === 0 || dims.includes(0) ? 0 : 1;
  if (elements) for (const n of dims) elements *= n;
  const total = gcount === 0 ? 0 : (pcount + elements) * gcount * bytesPer;
  if (!(total <= available)) {
    const claim = Number.isSafeInteger(total) ? `${total} bytes` : `about ${total.toPrecision(3)} bytes`;
    fail(`data truncated: header (BITPIX ${bitpix}, NAXIS ${axes.join('x') || 0}) claims ${claim} but the file holds ${available} after the header`);
  }
  let type: HduType;
  if (index === 0 || xtension === 'IMAGE') type = 'image';
  else if (xtension === 'BINTABLE') type = header.getBool('ZIMAGE', false) ? 'compressed-image' : 'bintable';
  else if (xtension === 'TABLE') type = 'table';
  else type = 'other';
  let heapOffset = 0;
  let heapSize = 0;
  let shape = [...axes].reverse();
  if (type === 'bintable' || type === 'compressed-image') {
    const main = (axes[0] ?? 0) * (axes[1] ?? 0);
    const theap = header.getInt('THEAP', main);
    if (theap < main || theap > main + pcount) fail(`THEAP ${theap} outside the data area`);
    heapOffset = dataOffset + theap;
    heapSize = main + pcount - theap;
  }
  if (type === 'compressed-image') {
    const zn = header.getInt('ZNAXIS') ?? fail('compressed image without ZNAXIS');
    if (zn < 0 || zn > 999) fail(`invalid ZNAXIS ${zn}`);
    const zaxes: number[] = [];
    for (let i = 1; i <= zn; i++) {
      const n = header.getInt(`ZNAXIS${i}`) ?? fail(`missing ZNAXIS${i}`);
      if (n < 0) fail(`invalid ZNAXIS${i} ${n}`);
      zaxes.push(n);
    }
    shape = zaxes.reverse();
  }
  const name = header.has('EXTNAME') ? String(header.get('EXTNAME')).trim() : '';
  return {
    index,
    header,
    type,
    xtension,
    name,
    headerOffset,
    headerByteLength,
    dataOffset,
    dataByteLength: total,
    paddedDataByteLength: Math.ceil(total / BLOCK) * BLOCK,
    heapOffset,
    heapSize,
    bitpix,
    axes,
    shape,
  };
}

/** Open a FITS file from bytes already in memory, without copying. */
export function fitsFromBuffer(bytes: Uint8Array, name = '<memory>'): FitsFile {
  return new FitsFile(new MemorySource(bytes, name));
}
