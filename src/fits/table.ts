/**
 * FITS tables: binary tables read (table-read.ts) and built (table-write.ts), formats and layout
 * (tform.ts), ASCII tables read (ascii-table.ts).
 * This module gathers them and adds file-level helpers.
 */
import { FitsError } from './errors.js';
import type { FitsFile, Hdu } from './file.js';
import { readAsciiTable } from './ascii-table.js';
import { type ReadTableOptions, type Table, readTable } from './table-read.js';

export { readTable, readColumn, type Column, type ColumnData, type HeapCell, type NumericArray, type ReadTableOptions, type Table } from './table-read.js';
export { readAsciiTable } from './ascii-table.js';
export { buildTable, type BuildTableOptions, type BuiltTable, type ColumnSpec } from './table-write.js';
export { parseTForm, formatTForm, tableLayout, findColumn, readDescriptor, type ColumnInfo, type ElemCode, type TForm, type TableLayout } from './tform.js';

/** Read a binary-table or ASCII-table HDU of an open file (by index, EXTNAME, or Hdu). */
export function readTableHdu(file: FitsFile, which: number | string | Hdu, opts: ReadTableOptions = {}): Table {
  const hdu = typeof which === 'object' ? which : file.hdu(which);
  if (hdu.type === 'table') return readAsciiTable(hdu.header, file.readData(hdu));
  if (hdu.type !== 'bintable') throw new FitsError(`HDU is a ${hdu.type}, not a table`, file.name, hdu.index);
  return readTable(hdu.header, file.readData(hdu), opts);
}
