/**
 * Binary-table column formats (TFORMn) and the table layout described by a BINTABLE header
 * (FITS standard 4.0, section 7.3).
 */
import { FitsError } from './errors.js';
import type { Header } from './header.js';

/** Element type codes of binary-table columns. */
export type ElemCode = 'L' | 'X' | 'B' | 'I' | 'J' | 'K' | 'A' | 'E' | 'D' | 'C' | 'M';

/** A parsed TFORM: repeat count, element type; for heap (P/Q) columns the heap element type and max length. */
export interface TForm {
  /** Repeat count r of "rT" (for X: number of bits). */
  repeat: number;
  /** 'P' / 'Q' for variable-length (heap) columns, else the element type. */
  code: ElemCode | 'P' | 'Q';
  /** Heap element type of a P/Q column. */
  heapCode?: ElemCode;
  /** Declared maximum heap-array length (the "(emax)" of a P/Q TFORM), if given. */
  maxLength?: number;
  /** Bytes the field occupies in each row. */
  width: number;
}

/** Bytes per element (X: per byte of packed bits, handled separately). */
export const ELEM_BYTES: Record<ElemCode, number> = { L: 1, X: 1, B: 1, I: 2, J: 4, K: 8, A: 1, E: 4, D: 8, C: 8, M: 16 };

const TFORM_RE = /^\s*(\d*)\s*([LXBIJKAEDCMPQ])\s*([LXBIJKAEDCM])?\s*(?:\(\s*(\d+)\s*\))?/i;

/** Byte width of `n` elements of type `code` (bits packed 8 per byte for X). */
export function fieldBytes(code: ElemCode, n: number): number {
  return code === 'X' ? Math.ceil(n / 8) : n * ELEM_BYTES[code];
}

/** Parse a binary-table TFORM value ("1E", "20A", "16X", "1PE(100)", "QD"...). Throws RangeError if invalid. */
export function parseTForm(text: string): TForm {
  const m = TFORM_RE.exec(text);
  if (!m) throw new RangeError(`invalid TFORM '${text}'`);
  const repeat = m[1] === '' ? 1 : Number(m[1]);
  if (!Number.isSafeInteger(repeat)) throw new RangeError(`invalid repeat count in TFORM '${text}'`);
  const code = m[2].toUpperCase() as TForm['code'];
  if (code === 'P' || code === 'Q') {
    if (!m[3]) throw new RangeError(`TFORM '${text}' lacks the heap element type`);
    if (repeat > 1) throw new RangeError(`TFORM '${text}': heap descriptors must have repeat 0 or 1`);
    const t: TForm = { repeat, code, heapCode: m[3].toUpperCase() as ElemCode, width: repeat * (code === 'P' ? 8 : 16) };
    if (m[4] !== undefined) t.maxLength = Number(m[4]);
    return t;
  }
  if (m[3]) throw new RangeError(`invalid TFORM '${text}'`);
  return { repeat, code, width: fieldBytes(code, repeat) };
}

/** Format a TFORM value. */
export function formatTForm(t: TForm): string {
  if (t.code === 'P' || t.code === 'Q') return `${t.repeat}${t.code}${t.heapCode}${t.maxLength !== undefined ? `(${t.maxLength})` : ''}`;
  return `${t.repeat}${t.code}`;
}

/** Description of one column of a binary table, from its header keywords. */
export interface ColumnInfo {
  /** 0-based column index. */
  index: number;
  name: string;
  tform: TForm;
  /** Raw TFORMn text. */
  tformText: string;
  /** Byte offset of the field within a row. */
  offset: number;
  unit?: string;
  disp?: string;
  /** TDIMn axes (fastest first), when given. */
  dims?: number[];
  /** TSCALn / TZEROn (absent: 1 / 0). TZERO is exact as bigint when it is an integer beyond 2^53. */
  scale: number;
  zero: number;
  zeroExact?: bigint;
  /** TNULLn for integer columns. */
  tnull?: number | bigint;
}

/** Layout of a binary table: row size, row count, heap position and size, columns. */
export interface TableLayout {
  nrows: number;
  rowBytes: number;
  /** Byte offset of the heap from the start of the data unit (THEAP, default rowBytes*nrows). */
  heapOffset: number;
  /** Bytes of the heap available to descriptors: PCOUNT minus the gap before THEAP. */
  heapSize: number;
  columns: ColumnInfo[];
}

function parseDims(text: string): number[] | undefined {
  const m = /^\s*\(([\d\s,]+)\)\s*$/.exec(text);
  if (!m) return undefined;
  const dims = m[1].split(',').map((s) => Number(s.trim()));
  return dims.every((d) => Number.isSafeInteger(d) && d >= 0) ? dims : undefined;
}

/**
 * Read a BINTABLE header's layout. Throws FitsError (located by `header.where`) on inconsistent
 * keywords: missing TFORMn, fields wider than NAXIS1, THEAP before the end of the table, ...
 */
export function tableLayout(header: Header): TableLayout {
  const { file, hdu } = header.where;
  const fail = (msg: string): never => {
    throw new FitsError(msg, file, hdu);
  };
  const xt = header.getString('XTENSION')?.trim();
  if (xt !== 'BINTABLE' && xt !== 'A3DTABLE') fail(`not a binary table (XTENSION = ${xt ?? 'absent'})`);
  if (header.getInt('NAXIS', 0) !== 2) fail('binary table must have NAXIS = 2');
  const rowBytes = header.getInt('NAXIS1', -1);
  const nrows = header.getInt('NAXIS2', -1);
  const pcount = header.getInt('PCOUNT', 0);
  const tfields = header.getInt('TFIELDS', -1);
  if (rowBytes < 0 || nrows < 0 || pcount < 0 || tfields < 0 || tfields > 999) {
    fail(`invalid table size keywords (NAXIS1=${rowBytes}, NAXIS2=${nrows}, PCOUNT=${pcount}, TFIELDS=${tfields})`);
  }
  const tableBytes = rowBytes * nrows;
  const heapOffset = header.getInt('THEAP', tableBytes);
  if (heapOffset < tableBytes || heapOffset > tableBytes + pcount) fail(`THEAP = ${heapOffset} is outside the data area`);
  const columns: ColumnInfo[] = [];
  let offset = 0;
  for (let i = 1; i <= tfields; i++) {
    const tformText = header.getString(`TFORM${i}`);
    if (tformText === undefined) fail(`missing TFORM${i}`);
    let tform: TForm;
    try {
      tform = parseTForm(tformText!);
    } catch (e) {
      return fail((e as Error).message + ` (column ${i})`);
    }
    const col: ColumnInfo = {
      index: i - 1,
      name: (header.getString(`TTYPE${i}`) ?? '').trim(),
      tform,
      tformText: tformText!.trim(),
      offset,
      scale: header.getNumber(`TSCAL${i}`, 1),
      zero: header.getNumber(`TZERO${i}`, 0),
    };
    const z = header.get(`TZERO${i}`);
    if (typeof z === 'bigint') col.zeroExact = z;
    const unit = header.getString(`TUNIT${i}`);
    if (unit !== undefined) col.unit = unit;
    const disp = header.getString(`TDISP${i}`);
    if (disp !== undefined) col.disp = disp;
    const dimText = header.getString(`TDIM${i}`);
    if (dimText !== undefined) {
      const dims = parseDims(dimText);
      if (dims) col.dims = dims;
    }
    const tnull = header.get(`TNULL${i}`);
    if (typeof tnull === 'number' || typeof tnull === 'bigint') col.tnull = tnull;
    columns.push(col);
    offset += tform.width;
  }
  if (offset > rowBytes) fail(`columns need ${offset} bytes per row but NAXIS1 = ${rowBytes}`);
  return { nrows, rowBytes, heapOffset, heapSize: tableBytes + pcount - heapOffset, columns };
}

/** Find a column by name (case-insensitive, trailing blanks ignored); undefined when absent. */
export function findColumn(layout: TableLayout, name: string): ColumnInfo | undefined {
  const n = name.trim().toUpperCase();
  return layout.columns.find((c) => c.name.toUpperCase() === n);
}

/**
 * The heap descriptor (element count, byte offset within the heap) of a P/Q column in a row.
 * Throws FitsError when the array would extend past the heap.
 */
export function readDescriptor(layout: TableLayout, data: DataView, col: ColumnInfo, row: number): { count: number; offset: number } {
  const pos = row * layout.rowBytes + col.offset;
  let count: number;
  let offset: number;
  if (col.tform.code === 'P') {
    count = data.getInt32(pos, false);
    offset = data.getInt32(pos + 4, false);
  } else {
    count = Number(data.getBigInt64(pos, false));
    offset = Number(data.getBigInt64(pos + 8, false));
  }
  const bytes = fieldBytes(col.tform.heapCode!, count);
  if (count < 0 || offset < 0 || !(offset + bytes <= layout.heapSize)) {
    throw new FitsError(
      `column ${col.name || col.index + 1} row ${row + 1}: heap array of ${count} elements at offset ${offset} lies outside the ${layout.heapSize}-byte heap`,
    );
  }
  return { count, offset };
}
