/**
 * Building FITS binary tables (XTENSION = 'BINTABLE') from column arrays: returns the header and the
 * data unit (big-endian rows followed by the heap), unpadded; the file writer pads to 2880 bytes.
 *
 * Column type from the data unless `type` says otherwise:
 *  Float32Array -> E ('C': re/im pairs)    Float64Array -> D ('M': re/im pairs)
 *  Int16Array -> I   Int32Array -> J   BigInt64Array -> K   Uint8Array -> B ('X': one 0/1 per bit)
 *  Int8Array -> B + TZERO -128   Uint16Array -> I + TZERO 32768   Uint32Array -> J + TZERO 2^31
 *  BigUint64Array -> K + TZERO 2^63   string[] -> A (width = longest string unless `repeat`)
 *  (boolean | null)[] -> L (null = undefined value; 'X' packs booleans as bits)
 *  an array with one typed array / boolean[] / string per row -> variable-length P column
 *  ('Q' or e.g. 'QJ' for 64-bit descriptors, 'PA' for variable strings).
 * Flat data hold nrows * repeat values (times 2 for C/M).
 */
import { FitsError } from './errors.js';
import { Header } from './header.js';
import type { HeapCell, NumericArray } from './table-read.js';
import { scatterBE } from './table-bytes.js';
import { type ElemCode, ELEM_BYTES, fieldBytes } from './tform.js';

/** Input column for buildTable. */
export interface ColumnSpec {
  name: string;
  data: NumericArray | string[] | (boolean | null)[] | HeapCell[];
  /** Type override: 'X', 'C', 'M', 'L', 'A', or a heap type 'P' / 'Q' / 'PE' / 'QD' / 'PA'... */
  type?: string;
  /** Elements per row (bits for X, characters for A). Default: 1, or the longest string for A. */
  repeat?: number;
  unit?: string;
  disp?: string;
  /** TDIMn axes, fastest first. */
  dims?: number[];
  /** TNULLn (integer columns; the stored value). */
  null?: number | bigint;
  /** TSCALn / TZEROn to record (data are the stored values). Not allowed with the unsigned types' implicit TZERO. */
  scale?: number;
  zero?: number;
}

export interface BuiltTable {
  header: Header;
  /** Rows then heap, NAXIS1 * NAXIS2 + PCOUNT bytes (not padded to 2880). */
  data: Uint8Array;
}

export interface BuildTableOptions {
  extname?: string;
  /** Row count when it cannot be inferred (e.g. no columns). */
  nrows?: number;
}

type Offset = 'int8' | 'uint16' | 'uint32' | 'uint64' | undefined;

interface Plan {
  spec: ColumnSpec;
  code: ElemCode;
  heap?: 'P' | 'Q';
  repeat: number;
  width: number;
  offset: Offset;
  offsetCol: number;
  nrows: number;
  /** For heap columns: per-row element counts and byte offsets within the heap. */
  counts?: Float64Array;
  heapPos?: Float64Array;
  maxLen?: number;
}

const isCellArray = (d: ColumnSpec['data']): boolean =>
  Array.isArray(d) && d.some((c) => c !== null && typeof c === 'object');

function numericCode(d: NumericArray): { code: ElemCode; offset: Offset } {
  if (d instanceof Float32Array) return { code: 'E', offset: undefined };
  if (d instanceof Float64Array) return { code: 'D', offset: undefined };
  if (d instanceof Int16Array) return { code: 'I', offset: undefined };
  if (d instanceof Int32Array) return { code: 'J', offset: undefined };
  if (d instanceof BigInt64Array) return { code: 'K', offset: undefined };
  if (d instanceof Uint8Array) return { code: 'B', offset: undefined };
  if (d instanceof Int8Array) return { code: 'B', offset: 'int8' };
  if (d instanceof Uint16Array) return { code: 'I', offset: 'uint16' };
  if (d instanceof Uint32Array) return { code: 'J', offset: 'uint32' };
  if (d instanceof BigUint64Array) return { code: 'K', offset: 'uint64' };
  throw new RangeError('unsupported column array type');
}

/** Element type of a heap cell (or of a flat column). */
function cellCode(cell: unknown, override: string | undefined): { code: ElemCode; offset: Offset } {
  if (override && /^[LXBIJKAEDCM]$/.test(override)) {
    const code = override as ElemCode;
    const offset = ArrayBuffer.isView(cell) ? numericCode(cell as NumericArray).offset : undefined;
    return { code, offset };
  }
  if (typeof cell === 'string') return { code: 'A', offset: undefined };
  if (Array.isArray(cell)) return { code: 'L', offset: undefined };
  return numericCode(cell as NumericArray);
}

function plan(spec: ColumnSpec): Plan {
  const type = spec.type?.toUpperCase();
  const heapMatch = type ? /^([PQ])([LXBIJKAEDCM])?$/.exec(type) : null;
  if (heapMatch || (!type && isCellArray(spec.data))) {
    const cells = spec.data as HeapCell[];
    const first = cells.find((c) => c !== null && c !== undefined && (typeof c === 'string' || c.length > 0)) ?? cells[0];
    const { code, offset } = cellCode(first ?? new Float32Array(0), heapMatch?.[2]);
    return { spec, code, heap: heapMatch ? (heapMatch[1] as 'P' | 'Q') : 'P', repeat: 1, width: heapMatch?.[1] === 'Q' ? 16 : 8, offset, offsetCol: 0, nrows: cells.length };
  }
  const d = spec.data;
  let code: ElemCode;
  let offset: Offset = undefined;
  if (Array.isArray(d)) {
    code = d.length && typeof d[0] === 'string' ? 'A' : type === 'X' ? 'X' : type === 'A' ? 'A' : 'L';
  } else {
    ({ code, offset } = numericCode(d));
    if (type === 'X' || type === 'C' || type === 'M') {
      code = type;
      offset = undefined;
    } else if (type && type !== code) throw new RangeError(`column ${spec.name}: type ${type} does not match its ${d.constructor.name}`);
  }
  let repeat = spec.repeat ?? 1;
  if (code === 'A' && spec.repeat === undefined) repeat = Math.max(1, ...(d as string[]).map((s) => s.length));
  const perRow = code === 'A' ? (spec.dims && spec.dims.length >= 2 ? repeat / spec.dims[0] : 1) : (code === 'C' || code === 'M' ? 2 : 1) * repeat;
  const nrows = perRow > 0 ? Math.floor(d.length / perRow) : 0;
  if (nrows * perRow !== d.length) throw new RangeError(`column ${spec.name}: ${d.length} values is not a multiple of ${perRow} per row`);
  return { spec, code, repeat, width: fieldBytes(code, repeat), offset, offsetCol: 0, nrows };
}

const latin1Bytes = (s: string, where: string): Uint8Array => {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) throw new RangeError(`${where}: character U+${c.toString(16)} cannot be stored in a FITS string`);
    b[i] = c;
  }
  return b;
};

/** Build a binary table (header + data unit) from columns. Throws FitsError on inconsistent input. */
export function buildTable(columns: ColumnSpec[], opts: BuildTableOptions = {}): BuiltTable {
  let plans: Plan[];
  try {
    plans = columns.map(plan);
  } catch (e) {
    throw new FitsError((e as Error).message);
  }
  const nrows = plans.length ? plans[0].nrows : (opts.nrows ?? 0);
  for (const p of plans) if (p.nrows !== nrows) throw new FitsError(`column ${p.spec.name} has ${p.nrows} rows, expected ${nrows}`);
  let rowBytes = 0;
  for (const p of plans) {
    p.offsetCol = rowBytes;
    rowBytes += p.width;
  }
  // Heap layout.
  let heapSize = 0;
  for (const p of plans) {
    if (!p.heap) continue;
    const cells = p.spec.data as HeapCell[];
    p.counts = new Float64Array(nrows);
    p.heapPos = new Float64Array(nrows);
    let maxLen = 0;
    for (let r = 0; r < nrows; r++) {
      const c = cells[r];
      const n = c === null || c === undefined ? 0 : p.code === 'C' || p.code === 'M' ? (c as NumericArray).length / 2 : c.length;
      p.counts[r] = n;
      p.heapPos[r] = heapSize;
      heapSize += fieldBytes(p.code, n);
      if (n > maxLen) maxLen = n;
    }
    p.maxLen = maxLen;
  }
  const tableBytes = rowBytes * nrows;
  if (!Number.isSafeInteger(tableBytes + heapSize) || tableBytes + heapSize > 2 ** 53) throw new FitsError('table too large');
  const data = new Uint8Array(tableBytes + heapSize);
  const dv = new DataView(data.buffer);
  for (const p of plans) {
    if (p.heap) writeHeapColumn(dv, data, p, rowBytes, tableBytes);
    else encodeField(data, p.code, p.offset, p.spec.data, p.repeat, nrows, p.offsetCol, rowBytes, p.spec);
  }
  return { header: tableHeader(plans, rowBytes, nrows, heapSize, opts), data };
}

function writeHeapColumn(dv: DataView, data: Uint8Array, p: Plan, rowBytes: number, heapStart: number): void {
  const cells = p.spec.data as HeapCell[];
  const nrows = p.nrows;
  for (let r = 0; r < nrows; r++) {
    const n = p.counts![r];
    const off = p.heapPos![r];
    const pos = r * rowBytes + p.offsetCol;
    if (p.heap === 'P') {
      if (off + fieldBytes(p.code, n) > 2 ** 31 - 1) throw new FitsError(`column ${p.spec.name}: heap exceeds 2 GiB; use a Q column`);
      dv.setInt32(pos, n, false);
      dv.setInt32(pos + 4, off, false);
    } else {
      dv.setBigInt64(pos, BigInt(n), false);
      dv.setBigInt64(pos + 8, BigInt(off), false);
    }
    const c = cells[r];
    if (n === 0 || c === null || c === undefined) continue;
    const src = p.code === 'A' ? [c as string] : (c as NumericArray | boolean[]);
    const { offset } = p.code === 'A' || Array.isArray(c) ? { offset: undefined } : numericCode(c as NumericArray);
    encodeField(data, p.code, p.code === 'X' || p.code === 'C' || p.code === 'M' ? undefined : offset, src, n, 1, heapStart + off, 0, p.spec);
  }
}

/** Write n fields of `count` elements, field k at base + k*stride, from the flat array `src`. */
function encodeField(
  bytes: Uint8Array,
  code: ElemCode,
  offset: Offset,
  src: ColumnSpec['data'],
  count: number,
  n: number,
  base: number,
  stride: number,
  spec: ColumnSpec,
): void {
  switch (code) {
    case 'A': {
      const strs = src as string[];
      const width = spec.dims && spec.dims.length >= 2 && stride > 0 ? spec.dims[0] : count;
      const per = width > 0 ? count / width : 0;
      for (let r = 0, k = 0; r < n; r++) {
        for (let s = 0; s < per; s++, k++) {
          const b = latin1Bytes(strs[k] ?? '', `column ${spec.name}`);
          if (b.length > width) throw new FitsError(`column ${spec.name}: string of ${b.length} characters exceeds width ${width}`);
          const start = base + r * stride + s * width;
          bytes.set(b, start);
          bytes.fill(0x20, start + b.length, start + width);
        }
      }
      return;
    }
    case 'L': {
      const v = src as (boolean | null)[];
      for (let r = 0, k = 0; r < n; r++)
        for (let i = 0, p = base + r * stride; i < count; i++, k++) bytes[p + i] = v[k] === null || v[k] === undefined ? 0 : v[k] ? 0x54 : 0x46;
      return;
    }
    case 'X': {
      const v = src as ArrayLike<number | boolean | null>;
      for (let r = 0, k = 0; r < n; r++) {
        const p = base + r * stride;
        bytes.fill(0, p, p + Math.ceil(count / 8));
        for (let i = 0; i < count; i++, k++) if (v[k]) bytes[p + (i >> 3)] |= 0x80 >> (i & 7);
      }
      return;
    }
    default:
      encodeNumbers(bytes, code, offset, src as NumericArray, code === 'C' || code === 'M' ? 2 * count : count, n, base, stride);
  }
}

function encodeNumbers(bytes: Uint8Array, code: ElemCode, offset: Offset, v: NumericArray, m: number, n: number, base: number, stride: number): void {
  const size = code === 'C' ? 4 : code === 'M' ? 8 : ELEM_BYTES[code];
  if (v.length < n * m) throw new FitsError(`column data too short: ${v.length} values for ${n * m}`);
  scatterBE(v, size, n, m, bytes, base, stride, offset !== undefined);
}

const IMPLICIT_ZERO: Record<string, number | bigint> = { int8: -128, uint16: 32768, uint32: 2147483648, uint64: 9223372036854775808n };

function tableHeader(plans: Plan[], rowBytes: number, nrows: number, heapSize: number, opts: BuildTableOptions): Header {
  const h = new Header();
  h.set('XTENSION', 'BINTABLE', 'binary table extension');
  h.set('BITPIX', 8, 'array data type');
  h.set('NAXIS', 2, 'number of array dimensions');
  h.set('NAXIS1', rowBytes, 'length of dimension 1');
  h.set('NAXIS2', nrows, 'length of dimension 2');
  h.set('PCOUNT', heapSize, 'number of group parameters');
  h.set('GCOUNT', 1, 'number of groups');
  h.set('TFIELDS', plans.length, 'number of table fields');
  plans.forEach((p, i) => {
    const n = i + 1;
    const s = p.spec;
    h.set(`TTYPE${n}`, s.name);
    h.set(`TFORM${n}`, p.heap ? `1${p.heap}${p.code}(${p.maxLen ?? 0})` : `${p.repeat}${p.code}`);
    if (s.unit !== undefined) h.set(`TUNIT${n}`, s.unit);
    if (s.disp !== undefined) h.set(`TDISP${n}`, s.disp);
    if (s.dims !== undefined) h.set(`TDIM${n}`, `(${s.dims.join(',')})`);
    if (s.null !== undefined) h.set(`TNULL${n}`, s.null);
    if (p.offset && (s.scale !== undefined || s.zero !== undefined)) {
      throw new FitsError(`column ${s.name}: TSCAL/TZERO cannot be combined with an unsigned or signed-byte array`);
    }
    if (s.scale !== undefined) h.set(`TSCAL${n}`, s.scale, undefined, 'float');
    if (p.offset) h.set(`TSCAL${n}`, 1);
    if (s.zero !== undefined) h.set(`TZERO${n}`, s.zero, undefined, 'float');
    if (p.offset) h.set(`TZERO${n}`, IMPLICIT_ZERO[p.offset]);
  });
  if (opts.extname !== undefined) h.set('EXTNAME', opts.extname, 'extension name');
  return h;
}
