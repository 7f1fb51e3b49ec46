/**
 * Keywords of a tile-compressed image (ZIMAGE = T binary table): image geometry, tiling, algorithm
 * and its parameters (ZNAMEi / ZVALi), quantization, and the table columns holding the tiles.
 */
import { FitsError } from '../errors.js';
import type { Header } from '../header.js';
import { type ColumnInfo, type TableLayout, findColumn, tableLayout } from '../tform.js';
import { type QuantizeMethod, parseQuantize } from './dither.js';

export type CompressionType = 'RICE_1' | 'GZIP_1' | 'GZIP_2' | 'PLIO_1' | 'HCOMPRESS_1' | 'NOCOMPRESS';

/** A per-tile numeric parameter: a table column, or a header keyword constant for all tiles. */
export interface TileParam {
  col?: ColumnInfo;
  value?: number;
}

export interface CompressedImageInfo {
  /** ZBITPIX of the image. */
  zbitpix: number;
  /** ZNAXIS1..n (fastest first). */
  axes: number[];
  /** ZTILE1..n. */
  tile: number[];
  /** Number of tiles along each axis. */
  tilesPerAxis: number[];
  ntiles: number;
  cmptype: CompressionType;
  /** RICE_1 block size (default 32) and bytes per pixel (default 4). */
  blockSize: number;
  bytePix: number;
  /** HCOMPRESS_1 SMOOTH flag. */
  smooth: boolean;
  /** Float image stored as quantized integers (ZSCALE present and ZQUANTIZ != 'NONE'). */
  quantized: boolean;
  quantize: QuantizeMethod;
  /** ZDITHER0 (default 1). */
  dither0: number;
  zscale: TileParam;
  zzero: TileParam;
  /** Integer marking null pixels in quantized tiles (ZBLANK column or keyword; none when absent). */
  zblank: TileParam;
  compressedCol?: ColumnInfo;
  gzipCol?: ColumnInfo;
  uncompressedCol?: ColumnInfo;
  layout: TableLayout;
}

const ALIASES: Record<string, CompressionType> = {
  RICE_1: 'RICE_1',
  RICE_ONE: 'RICE_1',
  GZIP_1: 'GZIP_1',
  GZIP_2: 'GZIP_2',
  PLIO_1: 'PLIO_1',
  HCOMPRESS_1: 'HCOMPRESS_1',
  NOCOMPRESS: 'NOCOMPRESS',
};

/** True for a ZIMAGE = T binary table. */
export function isCompressedImage(header: Header): boolean {
  return header.getString('XTENSION')?.trim() === 'BINTABLE' && header.getBool('ZIMAGE', false) === true;
}

/** Parse the compression keywords of a ZIMAGE header. Throws FitsError on missing or invalid keywords. */
export function compressedImageInfo(header: Header): CompressedImageInfo {
  const { file, hdu } = header.where;
  const fail = (msg: string): never => {
    throw new FitsError(msg, file, hdu);
  };
  if (!isCompressedImage(header)) fail('not a tile-compressed image (ZIMAGE is not T)');
  const layout = tableLayout(header);
  const zbitpix = header.getInt('ZBITPIX') ?? fail('missing ZBITPIX');
  if (![8, 16, 32, 64, -32, -64].includes(zbitpix)) fail(`invalid ZBITPIX ${zbitpix}`);
  const zn = header.getInt('ZNAXIS') ?? fail('missing ZNAXIS');
  if (zn < 0 || zn > 999) fail(`invalid ZNAXIS ${zn}`);
  const axes: number[] = [];
  const tile: number[] = [];
  const tilesPerAxis: number[] = [];
  let ntiles = zn > 0 ? 1 : 0;
  for (let i = 1; i <= zn; i++) {
    const n = header.getInt(`ZNAXIS${i}`) ?? fail(`missing ZNAXIS${i}`);
    const t = header.getInt(`ZTILE${i}`, i === 1 ? n : 1);
    if (n < 0) fail(`invalid ZNAXIS${i} ${n}`);
    if (t < 1) fail(`invalid ZTILE${i} ${t}`);
    axes.push(n);
    tile.push(t);
    const k = n === 0 ? 0 : Math.ceil(n / t);
    tilesPerAxis.push(k);
    ntiles *= k;
  }
  if (ntiles > layout.nrows) fail(`the image needs ${ntiles} tiles but the table has ${layout.nrows} rows`);
  const typeText = (header.getString('ZCMPTYPE') ?? fail('missing ZCMPTYPE')).trim().toUpperCase();
  const cmptype = ALIASES[typeText] ?? fail(`unsupported compression type ${typeText}`);
  // Algorithm parameters.
  const zval: Record<string, number> = {};
  for (let i = 1; i < 1000; i++) {
    const name = header.getString(`ZNAME${i}`);
    if (name === undefined) break;
    const v = header.get(`ZVAL${i}`);
    if (typeof v === 'number') zval[name.trim().toUpperCase()] = v;
    else if (typeof v === 'bigint') zval[name.trim().toUpperCase()] = Number(v);
  }
  const blockSize = zval.BLOCKSIZE ?? 32;
  const bytePix = zval.BYTEPIX ?? 4;
  if (cmptype === 'RICE_1') {
    if (!(Number.isInteger(blockSize) && blockSize > 0)) fail(`invalid Rice BLOCKSIZE ${blockSize}`);
    if (![1, 2, 4].includes(bytePix)) fail(`unsupported Rice BYTEPIX ${bytePix}`);
  }
  const colOrKey = (name: string): TileParam => {
    const col = findColumn(layout, name);
    if (col) return { col };
    const v = header.get(name);
    if (typeof v === 'number') return { value: v };
    if (typeof v === 'bigint') return { value: Number(v) };
    return {};
  };
  const zscale = colOrKey('ZSCALE');
  const zzero = colOrKey('ZZERO');
  let quantize: QuantizeMethod = 'NO_DITHER';
  const qtext = header.getString('ZQUANTIZ')?.trim().toUpperCase();
  const hasScale = zscale.col !== undefined || zscale.value !== undefined;
  const quantized = zbitpix < 0 && hasScale && qtext !== 'NONE';
  if (quantized) {
    try {
      quantize = parseQuantize(qtext);
    } catch (e) {
      fail((e as Error).message);
    }
  }
  // Without a ZBLANK keyword or column no quantized value means null (as in cfitsio).
  const zblank = colOrKey('ZBLANK');
  const info: CompressedImageInfo = {
    zbitpix,
    axes,
    tile,
    tilesPerAxis,
    ntiles,
    cmptype,
    blockSize,
    bytePix,
    smooth: (zval.SMOOTH ?? 0) !== 0,
    quantized,
    quantize,
    dither0: header.getInt('ZDITHER0', 1),
    zscale,
    zzero,
    zblank,
    layout,
  };
  const heapCol = (name: string): ColumnInfo | undefined => {
    const c = findColumn(layout, name);
    if (c && c.tform.code !== 'P' && c.tform.code !== 'Q') fail(`column ${name} is not a variable-length array`);
    return c;
  };
  const compressedCol = heapCol('COMPRESSED_DATA');
  const gzipCol = heapCol('GZIP_COMPRESSED_DATA');
  const uncompressedCol = heapCol('UNCOMPRESSED_DATA');
  if (!compressedCol && !gzipCol && !uncompressedCol) fail('no COMPRESSED_DATA column');
  if (compressedCol) info.compressedCol = compressedCol;
  if (gzipCol) info.gzipCol = gzipCol;
  if (uncompressedCol) info.uncompressedCol = uncompressedCol;
  return info;
}

const STRUCTURAL = /^(XTENSION|BITPIX|NAXIS\d*|PCOUNT|GCOUNT|TFIELDS|THEAP|T(TYPE|FORM|UNIT|DIM|SCAL|ZERO|NULL|DISP)\d+|CHECKSUM|DATASUM)$/;
const COMPRESSION =
  /^(ZIMAGE|ZSIMPLE|ZTENSION|ZEXTEND|ZBLOCKED|ZPCOUNT|ZGCOUNT|ZBITPIX|ZNAXIS\d*|ZTILE\d+|ZCMPTYPE|ZNAME\d+|ZVAL\d+|ZMASKCMP|ZQUANTIZ|ZDITHER0|ZBLANK|ZSCALE|ZZERO|ZHECKSUM|ZDATASUM)$/;

/**
 * The header of the uncompressed image: BITPIX/NAXISn from ZBITPIX/ZNAXISn, SIMPLE or XTENSION from
 * ZSIMPLE/ZTENSION, table and compression keywords removed, everything else kept in order.
 */
export function imageHeaderFromCompressed(header: Header): Header {
  const out = header.clone();
  out.cards.length = 0;
  const primary = header.getBool('ZSIMPLE', false);
  if (primary) out.set('SIMPLE', true, 'conforms to FITS standard');
  else out.set('XTENSION', (header.getString('ZTENSION') ?? 'IMAGE').trim() || 'IMAGE', 'Image extension');
  out.set('BITPIX', header.getInt('ZBITPIX', 8), 'array data type');
  const zn = header.getInt('ZNAXIS', 0);
  out.set('NAXIS', zn, 'number of array dimensions');
  for (let i = 1; i <= zn; i++) out.set(`NAXIS${i}`, header.getInt(`ZNAXIS${i}`, 0));
  if (primary) {
    if (header.has('ZEXTEND')) out.set('EXTEND', header.getBool('ZEXTEND', true));
  } else {
    out.set('PCOUNT', header.getInt('ZPCOUNT', 0), 'number of parameters');
    out.set('GCOUNT', header.getInt('ZGCOUNT', 1), 'number of groups');
  }
  for (const c of header.cards) {
    if (c.value !== undefined && (STRUCTURAL.test(c.key) || COMPRESSION.test(c.key))) continue;
    if (c.key === 'EXTNAME' && typeof c.value === 'string' && c.value.trim() === 'COMPRESSED_IMAGE') continue;
    out.cards.push({ ...c });
  }
  return out;
}
