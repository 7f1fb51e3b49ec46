/** Reading back a catalog table written by writeCatalog (FITS): numeric columns as typed arrays. */
import type { Header } from '../fits/header.js';
import { FitsFile } from '../fits/index.js';
import { readTable } from '../fits/table-read.js';
import type { Catalog } from './schema.js';

/**
 * The table of HDU 1 of a FITS catalog file as a Catalog (EXT_NUMBER left out; float and int32 columns as read,
 * other numeric columns as Int32Array, non-numeric ones skipped), and the table's header.
 */
export function readCatalogFits(file: string): { catalog: Catalog; header: Header } {
  const f = FitsFile.open(file);
  try {
    const header = f.hdu(1).header;
    const t = readTable(header, f.readData(1));
    const catalog: Catalog = {};
    for (const col of t.columns) {
      if (col.name === 'EXT_NUMBER') continue;
      const d = col.data as ArrayLike<number>;
      if (d instanceof Float32Array || d instanceof Float64Array || d instanceof Int32Array) catalog[col.name] = d;
      else if (d.length === 0 || typeof d[0] === 'number') catalog[col.name] = Int32Array.from(d);
    }
    return { catalog, header };
  } finally {
    f.close();
  }
}
