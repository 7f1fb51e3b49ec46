/**
 * Reading FITS ASCII tables (XTENSION = 'TABLE', FITS standard 4.0 section 7.2): fixed-width text
 * fields at TBCOLn (1-based) with TFORMn Aw, Iw, Fw.d, Ew.d, Dw.d.
 * A -> string[] (trailing blanks dropped); I, F, E, D -> Float64Array (TSCAL/TZERO applied; a field
 * equal to TNULLn, or blank, -> NaN). Implicit decimal points of F/E/D fields without a '.' follow
 * the standard: the value is divided by 10^d.
 */
import { FitsError } from './errors.js';
import type { Header } from './header.js';
import type { Column, Table } from './table-read.js';

const latin1 = new TextDecoder('latin1');

interface AsciiField {
  name: string;
  code: 'A' | 'I' | 'F' | 'E' | 'D';
  start: number;
  width: number;
  decimals: number;
  tform: string;
}

/** Read an ASCII table from its header and data unit. Throws FitsError on inconsistent keywords or bad numbers. */
export function readAsciiTable(header: Header, data: Uint8Array): Table {
  const { file, hdu } = header.where;
  const fail = (msg: string): never => {
    throw new FitsError(msg, file, hdu);
  };
  if (header.getString('XTENSION')?.trim() !== 'TABLE') fail('not an ASCII table');
  const rowBytes = header.getInt('NAXIS1', -1);
  const nrows = header.getInt('NAXIS2', -1);
  const tfields = header.getInt('TFIELDS', -1);
  if (rowBytes < 0 || nrows < 0 || tfields < 0 || tfields > 999) fail('invalid ASCII table size keywords');
  if (data.length < rowBytes * nrows) fail(`table data truncated: ${data.length} of ${rowBytes * nrows} bytes`);
  const fields: AsciiField[] = [];
  for (let i = 1; i <= tfields; i++) {
    const tform = (header.getString(`TFORM${i}`) ?? fail(`missing TFORM${i}`)).trim();
    const m = /^([AIFED])(\d+)(?:\.(\d+))?$/i.exec(tform) ?? fail(`invalid ASCII TFORM${i} '${tform}'`);
    const start = header.getInt(`TBCOL${i}`) ?? fail(`missing TBCOL${i}`);
    const width = Number(m[2]);
    if (start < 1 || start - 1 + width > rowBytes) fail(`field ${i} (TBCOL ${start}, width ${width}) lies outside the ${rowBytes}-byte row`);
    fields.push({ name: (header.getString(`TTYPE${i}`) ?? '').trim(), code: m[1].toUpperCase() as AsciiField['code'], start: start - 1, width, decimals: Number(m[3] ?? 0), tform });
  }
  const columns: Column[] = fields.map((f, k) => {
    const n = k + 1;
    const col: Column = { name: f.name, tform: f.tform, repeat: f.width, data: [] };
    const unit = header.getString(`TUNIT${n}`);
    if (unit !== undefined) col.unit = unit;
    const disp = header.getString(`TDISP${n}`);
    if (disp !== undefined) col.disp = disp;
    const texts: string[] = new Array(nrows);
    for (let r = 0; r < nrows; r++) {
      const p = r * rowBytes + f.start;
      texts[r] = latin1.decode(data.subarray(p, p + f.width));
    }
    if (f.code === 'A') {
      col.data = texts.map((t) => t.replace(/\0.*$/s, '').replace(/ +$/, ''));
      return col;
    }
    const tnull = header.get(`TNULL${n}`);
    const nullText = typeof tnull === 'string' ? tnull.trim() : tnull === undefined || tnull === null ? undefined : String(tnull);
    const scale = header.getNumber(`TSCAL${n}`, 1);
    const zero = header.getNumber(`TZERO${n}`, 0);
    const out = new Float64Array(nrows);
    for (let r = 0; r < nrows; r++) {
      const t = texts[r].trim();
      if (t === '' || (nullText !== undefined && t === nullText)) {
        out[r] = NaN;
        continue;
      }
      let v = parseAsciiNumber(t, f);
      if (Number.isNaN(v)) fail(`column ${f.name || n} row ${r + 1}: '${t}' is not a valid ${f.code} value`);
      if (scale !== 1 || zero !== 0) v = v * scale + zero;
      out[r] = v;
    }
    if (scale !== 1 || zero !== 0) col.scaled = true;
    col.data = out;
    return col;
  });
  return { nrows, columns };
}

function parseAsciiNumber(text: string, f: AsciiField): number {
  const s = text.replace(/\s+/g, '');
  if (f.code === 'I') return /^[+-]?\d+$/.test(s) ? Number(s) : NaN;
  const m = /^([+-]?)(\d*)(\.?)(\d*)(?:[EeDd]?([+-]?\d+))?$/.exec(s);
  if (!m || (m[2] === '' && m[4] === '')) return NaN;
  let v = Number(`${m[1]}${m[2] || '0'}.${m[4] || '0'}${m[5] !== undefined ? `e${m[5]}` : ''}`);
  // No explicit decimal point: the last d digits are the fraction (standard 7.2.5).
  if (m[3] === '' && f.decimals > 0) v /= 10 ** f.decimals;
  return v;
}
