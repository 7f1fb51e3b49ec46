/**
 * Reading FITS binary tables (XTENSION = 'BINTABLE') column by column into typed arrays.
 *
 * Column data (n = nrows, r = repeat):
 *  L -> boolean[] (n*r; false also for undefined/0 bytes)     X -> Uint8Array of bits 0/1 (n*r)
 *  B -> Uint8Array (Int8Array when TZERO = -128)              I -> Int16Array (Uint16Array when TZERO = 32768)
 *  J -> Int32Array (Uint32Array when TZERO = 2^31)            K -> BigInt64Array (BigUint64Array when TZERO = 2^63),
 *       or Float64Array with { int64: 'number' }
 *  E -> Float32Array  D -> Float64Array  C -> Float32Array (re, im interleaved, 2*n*r)  M -> Float64Array (same)
 *  A -> string[]: one string per row, or n * (r / TDIM1) strings for TDIM string arrays;
 *       an ASCII NUL ends a string and trailing blanks are dropped (as astropy does)
 *  P/Q -> one entry per row: a typed array / string / boolean[] as above for that row's heap array.
 * Other TSCAL/TZERO on numeric columns give Float64Array physical values (stored * TSCAL + TZERO),
 * with TNULL (integers) -> NaN; { scale: false } returns stored values untouched.
 */
import { FitsError } from './errors.js';
import type { Header } from './header.js';
import { gatherBE } from './table-bytes.js';
import { type ColumnInfo, type ElemCode, type TableLayout, readDescriptor, tableLayout } from './tform.js';

export type NumericArray =
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

/** Cell values of a heap (P/Q) column row. */
export type HeapCell = NumericArray | string | boolean[];

export type ColumnData = NumericArray | string[] | boolean[] | HeapCell[];

/** One column read from a table. */
export interface Column {
  name: string;
  /** TFORM text as in the header. */
  tform: string;
  /** Repeat count (bits for X, characters for A). */
  repeat: number;
  unit?: string;
  disp?: string;
  dims?: number[];
  /** TNULL of integer columns (stored value). */
  null?: number | bigint;
  /** True when TSCAL/TZERO were applied to give float64 physical values. */
  scaled?: boolean;
  data: ColumnData;
}

export interface Table {
  nrows: number;
  columns: Column[];
}

export interface ReadTableOptions {
  /** Read K columns as Float64Array instead of BigInt64Array. */
  int64?: 'bigint' | 'number';
  /** Apply TSCAL/TZERO (default true). */
  scale?: boolean;
  /** Only these columns (by name, case-insensitive). */
  columns?: string[];
}

/** Read a binary table from its header and data unit (table rows followed by the heap). */
export function readTable(header: Header, data: Uint8Array, opts: ReadTableOptions = {}): Table {
  const { file, hdu } = header.where;
  const layout = tableLayout(header);
  const need = layout.rowBytes * layout.nrows;
  if (data.length < need) throw new FitsError(`table data truncated: ${data.length} of ${need} bytes`, file, hdu);
  if (data.length < layout.heapOffset + layout.heapSize) {
    throw new FitsError(`table heap truncated: ${data.length} of ${layout.heapOffset + layout.heapSize} bytes`, file, hdu);
  }
  const want = opts.columns?.map((s) => s.trim().toUpperCase());
  const cols = layout.columns.filter((c) => !want || want.includes(c.name.toUpperCase()));
  try {
    return { nrows: layout.nrows, columns: cols.map((c) => readColumn(layout, data, c, opts)) };
  } catch (e) {
    if (e instanceof FitsError) throw e.locate(file, hdu);
    throw e;
  }
}

/** Read one column of a table given its layout (see readTable for the data types). */
export function readColumn(layout: TableLayout, data: Uint8Array, col: ColumnInfo, opts: ReadTableOptions = {}): Column {
  const out: Column = { name: col.name, tform: col.tformText, repeat: col.tform.repeat, data: [] };
  if (col.unit !== undefined) out.unit = col.unit;
  if (col.disp !== undefined) out.disp = col.disp;
  if (col.dims) out.dims = col.dims;
  if (col.tnull !== undefined) out.null = col.tnull;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const { nrows, rowBytes } = layout;
  const t = col.tform;
  if (t.code === 'P' || t.code === 'Q') {
    const cells: HeapCell[] = new Array(nrows);
    const heap = layout.heapOffset;
    for (let r = 0; r < nrows; r++) {
      const { count, offset } = readDescriptor(layout, dv, col, r);
      const cell = decodeField(data, t.heapCode!, count, 1, heap + offset, 0, col, opts, true);
      cells[r] = t.heapCode === 'A' ? (cell as string[])[0] ?? '' : (cell as HeapCell);
    }
    out.data = cells;
  } else {
    out.data = decodeField(data, t.code, t.repeat, nrows, col.offset, rowBytes, col, opts, false);
  }
  const code = t.heapCode ?? (t.code as ElemCode);
  if (opts.scale !== false && hasScaling(col) && !offsetKind(code, col) && 'BIJKED'.includes(code)) out.scaled = true;
  return out;
}

function hasScaling(col: ColumnInfo): boolean {
  return col.scale !== 1 || col.zero !== 0;
}

/** Which unsigned/signed-byte convention a (TSCAL, TZERO) pair selects for an integer type, if any. */
function offsetKind(code: ElemCode, col: ColumnInfo): 'int8' | 'uint16' | 'uint32' | 'uint64' | undefined {
  if (col.scale !== 1) return undefined;
  if (code === 'B' && col.zero === -128) return 'int8';
  if (code === 'I' && col.zero === 32768) return 'uint16';
  if (code === 'J' && col.zero === 2147483648) return 'uint32';
  if (code === 'K' && (col.zeroExact === 9223372036854775808n || (col.zeroExact === undefined && col.zero === 2 ** 63))) return 'uint64';
  return undefined;
}

/**
 * Decode `n` fields of `count` elements of type `code`, the k-th starting at byte base + k*stride.
 * Returns the array for all n*count elements (strings: one per field or per TDIM sub-string).
 */
function decodeField(
  bytes: Uint8Array,
  code: ElemCode,
  count: number,
  n: number,
  base: number,
  stride: number,
  col: ColumnInfo,
  opts: ReadTableOptions,
  heap: boolean,
): ColumnData {
  const total = n * count;
  const doScale = opts.scale !== false;
  switch (code) {
    case 'A':
      return readStrings(bytes, count, n, base, stride, heap ? undefined : col.dims);
    case 'L': {
      const out: boolean[] = new Array(total);
      for (let r = 0, k = 0; r < n; r++) for (let i = 0, p = base + r * stride; i < count; i++) out[k++] = bytes[p + i] === 0x54; // 'T'
      return out;
    }
    case 'X': {
      const out = new Uint8Array(total);
      for (let r = 0, k = 0; r < n; r++) {
        const p = base + r * stride;
        for (let i = 0; i < count; i++) out[k++] = (bytes[p + (i >> 3)] >> (7 - (i & 7))) & 1;
      }
      return out;
    }
    case 'E':
    case 'C': {
      const out = new Float32Array(gatherBE(bytes, 4, n, code === 'C' ? 2 * count : count, base, stride, false));
      return doScale && hasScaling(col) && code === 'E' ? scaleFloat(out, col) : out;
    }
    case 'D':
    case 'M': {
      const out = new Float64Array(gatherBE(bytes, 8, n, code === 'M' ? 2 * count : count, base, stride, false, true));
      if (doScale && hasScaling(col) && code === 'D') for (let i = 0; i < out.length; i++) out[i] = out[i] * col.scale + col.zero;
      return out;
    }
    default:
      return readIntegers(bytes, code, count, n, base, stride, col, opts, doScale);
  }
}

function scaleFloat(v: Float32Array, col: ColumnInfo): Float64Array {
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * col.scale + col.zero;
  return out;
}

function readIntegers(
  bytes: Uint8Array,
  code: ElemCode,
  count: number,
  n: number,
  base: number,
  stride: number,
  col: ColumnInfo,
  opts: ReadTableOptions,
  doScale: boolean,
): NumericArray {
  const kind = doScale ? offsetKind(code, col) : undefined;
  const scaled = doScale && !kind && hasScaling(col);
  const flip = kind !== undefined;
  let raw: NumericArray;
  switch (code) {
    case 'B': {
      const buf = gatherBE(bytes, 1, n, count, base, stride, flip);
      raw = flip ? new Int8Array(buf) : new Uint8Array(buf);
      break;
    }
    case 'I': {
      const buf = gatherBE(bytes, 2, n, count, base, stride, flip);
      raw = flip ? new Uint16Array(buf) : new Int16Array(buf);
      break;
    }
    case 'J': {
      const buf = gatherBE(bytes, 4, n, count, base, stride, flip);
      raw = flip ? new Uint32Array(buf) : new Int32Array(buf);
      break;
    }
    case 'K': {
      const buf = gatherBE(bytes, 8, n, count, base, stride, flip);
      if (flip) return new BigUint64Array(buf);
      raw = new BigInt64Array(buf);
      if (!scaled && opts.int64 === 'number') return int64ToFloat(buf);
      break;
    }
    default:
      throw new FitsError(`unsupported column type ${code}`);
  }
  return scaled ? scaleInts(raw, col) : raw;
}

/** Signed 64-bit integers (host order) to float64 without BigInt: hi * 2^32 + lo, rounded once. */
function int64ToFloat(buf: ArrayBuffer): Float64Array {
  const w = new Int32Array(buf);
  const u = new Uint32Array(buf);
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  const hi = little ? 1 : 0;
  const out = new Float64Array(w.length / 2);
  for (let i = 0, k = 0; i < out.length; i++, k += 2) out[i] = w[k + hi] * 4294967296 + u[k + 1 - hi];
  return out;
}

/** Physical values stored * TSCAL + TZERO in float64; TNULL -> NaN. */
function scaleInts(raw: NumericArray, col: ColumnInfo): Float64Array {
  const out = new Float64Array(raw.length);
  const isBig = raw instanceof BigInt64Array || raw instanceof BigUint64Array;
  const tnull = col.tnull;
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i];
    if (tnull !== undefined && (isBig ? v === BigInt(tnull) : v === Number(tnull))) out[i] = NaN;
    else out[i] = Number(v) * col.scale + col.zero;
  }
  return out;
}

const latin1 = new TextDecoder('latin1');

/** Strings of `count` bytes (or TDIM sub-strings of dims[0] bytes), NUL-terminated, trailing blanks dropped. */
function readStrings(bytes: Uint8Array, count: number, n: number, base: number, stride: number, dims: number[] | undefined): string[] {
  const width = dims && dims.length >= 2 && dims[0] > 0 && count % dims[0] === 0 ? dims[0] : count;
  const per = width > 0 ? count / width : 0;
  const out: string[] = new Array(n * per);
  for (let r = 0, k = 0; r < n; r++) {
    for (let s = 0; s < per; s++) {
      const start = base + r * stride + s * width;
      let end = start;
      const stop = start + width;
      while (end < stop && bytes[end] !== 0) end++;
      while (end > start && bytes[end - 1] === 0x20) end--;
      out[k++] = end === start ? '' : latin1.decode(bytes.subarray(start, end));
    }
  }
  return out;
}
