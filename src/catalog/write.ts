/**
 * Catalog writers: FITS (one BINTABLE per input image HDU), FITS_LDAC (readable by scamp and psfex),
 * CSV, ECSV (astropy's format) and Parquet. Every format writes to a temporary name and renames.
 * Columns and their order come from the selection (default: every column of the schema that the catalog holds).
 */
import { writeFileAtomic } from '../util/atomic.js';
import { Header, type Card } from '../fits/header.js';
import { buildTable, type ColumnSpec as TableColumn } from '../fits/table-write.js';
import { writeFits, type HduInput } from '../fits/write.js';
import { CATALOG_SCHEMA, catalogRows, vectorWidth, type Catalog, type ColumnSpec, type ParamSelection, type VectorSizes } from './schema.js';

export type CatalogFormat = 'fits' | 'ldac' | 'csv' | 'ecsv' | 'parquet';

/** The catalog of one input image HDU. */
export interface HduCatalog {
  /** EXT_NUMBER: 1-based index of the image HDU among the input's image HDUs (SExtractor convention) */
  extNumber: number;
  catalog: Catalog;
  sizes: VectorSizes;
  /** header of the input image (for LDAC_IMHEAD and provenance) */
  imageHeader?: Header;
  /** extra cards for this HDU's table header (fitted WCS, zero point); also merged into LDAC_IMHEAD */
  tableCards?: readonly Card[];
}

export interface WriteCatalogOptions {
  select?: readonly ParamSelection[];
  /** provenance cards (software, version, config, input path, checksum) for FITS headers / ECSV meta */
  provenance?: Readonly<Record<string, string>>;
}

interface OutColumn {
  spec: ColumnSpec;
  /** values per row */
  width: number;
  /** per HDU: the source array and its full width */
  get(h: HduCatalog): { data: ArrayLike<number>; stride: number } | undefined;
}

/** The columns to write, in order: EXT_NUMBER first, then the selection (or all available). */
function plan(hdus: readonly HduCatalog[], select?: readonly ParamSelection[]): OutColumn[] {
  const sel: ParamSelection[] = select ? [...select] : CATALOG_SCHEMA.filter((s) => hdus.some((h) => s.name in h.catalog)).map((spec) => ({ spec }));
  const sizes = hdus[0]?.sizes ?? { nApertures: 1, nFluxFrac: 1 };
  const out: OutColumn[] = [];
  for (const { spec, count } of sel) {
    if (spec.name === 'EXT_NUMBER') continue;
    const full = vectorWidth(spec, sizes);
    const width = spec.vector === 'scalar' ? 1 : Math.min(count ?? full, full);
    out.push({
      spec,
      width,
      get: (h) => (h.catalog[spec.name] ? { data: h.catalog[spec.name], stride: vectorWidth(spec, h.sizes) } : undefined),
    });
  }
  return out;
}

/** One column's values over the rows of one HDU, width values per row (NaN / 0 where the column is absent). */
function gatherColumn(col: OutColumn, h: HduCatalog, n: number): Float64Array | Int32Array | Float32Array {
  const isInt = col.spec.tform === 'J' || col.spec.tform === 'I';
  const out = isInt ? new Int32Array(n * col.width) : col.spec.tform === 'E' ? new Float32Array(n * col.width) : new Float64Array(n * col.width);
  const src = col.get(h);
  if (!src) {
    if (!isInt) out.fill(NaN);
    return out;
  }
  if (src.stride === col.width) {
    out.set(src.data as ArrayLike<number>);
    return out;
  }
  for (let i = 0; i < n; i++) for (let k = 0; k < col.width; k++) out[i * col.width + k] = src.data[i * src.stride + k];
  return out;
}

function tableColumns(cols: OutColumn[], h: HduCatalog): TableColumn[] {
  const n = catalogRows(h.catalog);
  const ext = new Int16Array(n).fill(h.extNumber);
  const out: TableColumn[] = [{ name: 'EXT_NUMBER', data: ext }];
  for (const c of cols) {
    let data: TableColumn['data'] = gatherColumn(c, h, n);
    if (c.spec.tform === 'I') data = Int16Array.from(data as Int32Array);
    out.push({ name: c.spec.name, data, repeat: c.width, unit: c.spec.unit || undefined, disp: c.spec.tdisp || undefined });
  }
  return out;
}

function provenanceHeader(prov: Readonly<Record<string, string>> | undefined): Header {
  const h = new Header();
  for (const [k, v] of Object.entries(prov ?? {})) h.set(k, v);
  return h;
}

function primaryHdu(prov?: Readonly<Record<string, string>>): HduInput {
  const h = provenanceHeader(prov);
  h.set('BITPIX', 8);
  h.set('NAXIS', 0);
  return { header: h };
}

function tableHdu(columns: TableColumn[], extname: string, extra?: (h: Header) => void, nrows?: number): HduInput {
  const t = buildTable(columns, { extname, nrows });
  extra?.(t.header);
  return { header: t.header, data: t.data };
}

function writeFitsCatalog(file: string, hdus: readonly HduCatalog[], o: WriteCatalogOptions): void {
  const cols = plan(hdus, o.select);
  const out: HduInput[] = [primaryHdu(o.provenance)];
  for (const h of hdus) {
    out.push(
      tableHdu(tableColumns(cols, h), 'OBJECTS', (hd) => {
        hd.set('EXTVER', h.extNumber, 'input image HDU (EXT_NUMBER)');
        for (const c of h.tableCards ?? []) hd.add({ ...c });
      }, catalogRows(h.catalog)),
    );
  }
  writeFits(file, out);
}

/** LDAC: per HDU an LDAC_IMHEAD table (the image header as one string cell) then LDAC_OBJECTS. */
function writeLdacCatalog(file: string, hdus: readonly HduCatalog[], o: WriteCatalogOptions): void {
  const cols = plan(hdus, o.select);
  const out: HduInput[] = [primaryHdu(o.provenance)];
  for (const h of hdus) {
    const img = h.imageHeader?.clone() ?? new Header();
    for (const c of h.tableCards ?? []) if (c.value !== undefined) img.set(c.key, c.value, c.comment);
    const cards = img.toCardImages().filter((c) => !/^END\s*$/.test(c));
    cards.push('END'.padEnd(80));
    out.push(tableHdu([{ name: 'Field Header Card', data: cards, repeat: cards.length * 80, dims: [80, cards.length] }], 'LDAC_IMHEAD', undefined, 1));
    out.push(tableHdu(tableColumns(cols, h).filter((c) => c.name !== 'EXT_NUMBER'), 'LDAC_OBJECTS', undefined, catalogRows(h.catalog)));
  }
  writeFits(file, out);
}

/** Shortest decimal text that reads back as the same float32 / float64 value. */
function fmt(v: number, f32: boolean): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (!f32) return String(v);
  for (let p = 6; p < 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(Number(v.toPrecision(9)));
}

interface FlatColumn {
  name: string;
  spec: ColumnSpec;
  datatype: 'int16' | 'int32' | 'float32' | 'float64';
  values: (h: HduCatalog, n: number) => ArrayLike<number>;
}

/** Columns flattened for text and Parquet: vector columns become NAME_1..NAME_k. */
function flatColumns(hdus: readonly HduCatalog[], o: WriteCatalogOptions): FlatColumn[] {
  const cols = plan(hdus, o.select);
  const ext: FlatColumn = {
    name: 'EXT_NUMBER',
    spec: CATALOG_SCHEMA.find((s) => s.name === 'EXT_NUMBER')!,
    datatype: 'int16',
    values: (h, n) => new Int32Array(n).fill(h.extNumber),
  };
  const out: FlatColumn[] = [ext];
  for (const c of cols) {
    const datatype = c.spec.tform === 'D' ? 'float64' : c.spec.tform === 'E' ? 'float32' : c.spec.tform === 'I' ? 'int16' : 'int32';
    for (let k = 0; k < c.width; k++) {
      out.push({
        name: c.spec.vector === 'scalar' ? c.spec.name : `${c.spec.name}_${k + 1}`,
        spec: c.spec,
        datatype,
        values: (h, n) => {
          const all = gatherColumn(c, h, n);
          if (c.width === 1) return all;
          const v = all instanceof Int32Array ? new Int32Array(n) : new Float64Array(n);
          for (let i = 0; i < n; i++) v[i] = all[i * c.width + k];
          return v;
        },
      });
    }
  }
  return out;
}

function textRows(cols: FlatColumn[], hdus: readonly HduCatalog[], sep: string): string[] {
  const lines: string[] = [];
  for (const h of hdus) {
    const n = catalogRows(h.catalog);
    const vals = cols.map((c) => c.values(h, n));
    for (let i = 0; i < n; i++) {
      lines.push(cols.map((c, j) => (c.datatype.startsWith('int') ? String(vals[j][i]) : fmt(vals[j][i], c.datatype === 'float32'))).join(sep));
    }
  }
  return lines;
}

function yamlString(s: string): string {
  return JSON.stringify(s);
}

function csvText(hdus: readonly HduCatalog[], o: WriteCatalogOptions): string {
  const cols = flatColumns(hdus, o);
  return [cols.map((c) => c.name).join(','), ...textRows(cols, hdus, ',')].join('\n') + '\n';
}

/** ECSV 1.0 (astropy): YAML header with datatypes, units and descriptions, then space-separated values. */
function ecsvText(hdus: readonly HduCatalog[], o: WriteCatalogOptions): string {
  const cols = flatColumns(hdus, o);
  const head = ['# %ECSV 1.0', '# ---', '# datatype:'];
  for (const c of cols) {
    const parts = [`name: ${c.name}`];
    if (c.spec.unit) parts.push(`unit: ${yamlString(c.spec.unit)}`);
    parts.push(`datatype: ${c.datatype}`);
    if (c.spec.format) parts.push(`format: ${yamlString(c.spec.format)}`);
    parts.push(`description: ${yamlString(c.spec.description)}`);
    head.push(`# - {${parts.join(', ')}}`);
  }
  const prov = Object.entries(o.provenance ?? {});
  if (prov.length) {
    head.push('# meta:');
    for (const [k, v] of prov) head.push(`#   ${k}: ${yamlString(v)}`);
  }
  head.push('# schema: astropy-2.0');
  return [...head, cols.map((c) => c.name).join(' '), ...textRows(cols, hdus, ' ')].join('\n') + '\n';
}

async function parquetBytes(hdus: readonly HduCatalog[], o: WriteCatalogOptions): Promise<Uint8Array> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const cols = flatColumns(hdus, o);
  const total = hdus.reduce((a, h) => a + catalogRows(h.catalog), 0);
  const columnData = cols.map((c) => {
    const isInt = c.datatype.startsWith('int');
    const all = isInt ? new Int32Array(total) : c.datatype === 'float32' ? new Float32Array(total) : new Float64Array(total);
    let off = 0;
    for (const h of hdus) {
      const n = catalogRows(h.catalog);
      all.set(c.values(h, n), off);
      off += n;
    }
    return { name: c.name, data: Array.from(all), type: isInt ? 'INT32' : c.datatype === 'float32' ? 'FLOAT' : 'DOUBLE' } as const;
  });
  const kv = Object.entries(o.provenance ?? {}).map(([key, value]) => ({ key, value }));
  return new Uint8Array(parquetWriteBuffer({ columnData, kvMetadata: kv } as Parameters<typeof parquetWriteBuffer>[0]));
}

/**
 * Text for a FITS header card (printable ASCII only): other characters become JSON-style \\uXXXX escapes,
 * so a non-ASCII path or config value cannot make a catalog unwritable (and JSON stays valid JSON).
 */
export function asciiText(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export { writeFileAtomic };

export async function writeCatalog(file: string, format: CatalogFormat, hdus: readonly HduCatalog[], o: WriteCatalogOptions = {}): Promise<void> {
  switch (format) {
    case 'fits':
      return writeFitsCatalog(file, hdus, o);
    case 'ldac':
      return writeLdacCatalog(file, hdus, o);
    case 'csv':
      return writeFileAtomic(file, csvText(hdus, o));
    case 'ecsv':
      return writeFileAtomic(file, ecsvText(hdus, o));
    case 'parquet':
      return writeFileAtomic(file, await parquetBytes(hdus, o));
  }
}
