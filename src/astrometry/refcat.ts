/**
 * Reference catalogues for astrometric/photometric calibration: FITS binary tables (e.g. the Gaia
 * chunks of the legacypipe tests, SCAMP/LDAC catalogues) or CSV / tab / blank-separated text with a
 * header line. Needed: right ascension and declination (degrees, ICRS/J2000) and one magnitude column;
 * optional proper motions (pmra = mu_alpha * cos(dec) and pmdec, mas/yr, as Gaia) with their epoch
 * (column or fixed Julian year). Columns are found by common names (case-insensitive), or named
 * explicitly. Order is deterministic: files in the order given, rows in file order; selections keep it.
 */
import * as fs from 'node:fs';
import { FitsFile } from '../fits/file.js';
import { FitsError } from '../fits/errors.js';
import { gunzipBytes, isGzip } from '../fits/source.js';
import { readTableHdu, type ColumnData } from '../fits/table.js';
import { UserError } from '../util/errors.js';
import { angularDistance, type Wcs } from './wcs.js';

export interface RefCatalog {
  /** Source file(s), for messages. */
  source: string;
  n: number;
  ra: Float64Array;
  dec: Float64Array;
  mag: Float64Array;
  /** Proper motions (mas/yr; pmra includes cos(dec)), NaN where unknown; absent when the catalogue has none. */
  pmra?: Float64Array;
  pmdec?: Float64Array;
  /** Epoch (Julian year) of the positions, per source; absent when unknown. */
  epoch?: Float64Array;
  /** The column names used. */
  columns: { ra: string; dec: string; mag: string; pmra?: string; pmdec?: string; epoch?: string };
}

export interface RefCatOptions {
  /** Column names (case-insensitive); default: detected from common names. */
  ra?: string;
  dec?: string;
  mag?: string;
  pmra?: string;
  pmdec?: string;
  /** Epoch column name, or a fixed epoch (Julian year) for every row. */
  epoch?: string | number;
  /** FITS: HDU index or EXTNAME; default the first binary table with RA/Dec columns. */
  hdu?: number | string;
}

type Role = 'ra' | 'dec' | 'mag' | 'pmra' | 'pmdec' | 'epoch';

/** Candidate column names per role, in order of preference (compared in lower case). */
export const REFCAT_COLUMN_NAMES: Record<Role, readonly string[]> = {
  ra: ['ra', 'ra_icrs', 'raj2000', '_raj2000', 'ra_j2000', 'ra_deg', 'radeg', 'alpha_j2000', 'x_world', 'raicrs', 'alpha'],
  dec: ['dec', 'de', 'dec_icrs', 'de_icrs', 'dej2000', '_dej2000', 'decj2000', 'dec_j2000', 'dec_deg', 'decdeg', 'dedeg', 'delta_j2000', 'y_world', 'deicrs', 'delta'],
  mag: ['phot_g_mean_mag', 'mag', 'magnitude', 'gmag', 'g_mag', 'rmag', 'r_mag', 'imag', 'i_mag', 'zmag', 'z_mag', 'vmag', 'v_mag', 'bmag', 'jmag', 'hmag', 'kmag', 'ksmag', 'mag_auto', 'mag_best', 'g', 'r', 'i', 'z', 'v'],
  pmra: ['pmra', 'pm_ra', 'pmra_cosdec', 'pm_ra_cosdec', 'pmracosdec', 'pmrac'],
  pmdec: ['pmdec', 'pm_dec', 'pmde', 'pmdecl'],
  epoch: ['ref_epoch', 'epoch', 'refepoch', 'epoch_ra'],
};

const ROLE_TEXT: Record<Role, string> = {
  ra: 'right ascension',
  dec: 'declination',
  mag: 'magnitude',
  pmra: 'proper motion in RA',
  pmdec: 'proper motion in Dec',
  epoch: 'epoch',
};

function fail(file: string, problem: string): never {
  throw new UserError(`${file}: ${problem}`);
}

/** Column name for each role among `names`: explicit ones must exist, required ones must be found. */
function resolveColumns(file: string, names: readonly string[], opts: RefCatOptions): RefCatalog['columns'] {
  const lower = names.map((s) => s.toLowerCase());
  const pick = (role: Role, required: boolean): string | undefined => {
    const explicit = opts[role];
    if (typeof explicit === 'string') {
      const i = lower.indexOf(explicit.trim().toLowerCase());
      if (i < 0) fail(file, `no column '${explicit}' for the ${ROLE_TEXT[role]} (columns: ${names.join(', ')})`);
      return names[i];
    }
    if (role === 'epoch' && typeof explicit === 'number') return undefined;
    for (const cand of REFCAT_COLUMN_NAMES[role]) {
      const i = lower.indexOf(cand);
      if (i >= 0) return names[i];
    }
    if (required) fail(file, `reference catalog has no ${ROLE_TEXT[role]} column (looked for ${REFCAT_COLUMN_NAMES[role].join(', ')}; name it explicitly)`);
    return undefined;
  };
  const cols: RefCatalog['columns'] = { ra: pick('ra', true)!, dec: pick('dec', true)!, mag: pick('mag', true)! };
  const pmra = pick('pmra', opts.pmdec !== undefined);
  const pmdec = pick('pmdec', opts.pmra !== undefined);
  if ((pmra === undefined) !== (pmdec === undefined)) {
    fail(file, `reference catalog has ${pmra ? `'${pmra}'` : `'${pmdec}'`} but no ${ROLE_TEXT[pmra ? 'pmdec' : 'pmra']} column`);
  }
  if (pmra && pmdec) Object.assign(cols, { pmra, pmdec });
  const epoch = pick('epoch', false);
  if (epoch) cols.epoch = epoch;
  return cols;
}

/** Build the catalogue from per-role value arrays. */
function assemble(source: string, cols: RefCatalog['columns'], get: (name: string) => Float64Array, n: number, opts: RefCatOptions): RefCatalog {
  const cat: RefCatalog = { source, n, ra: get(cols.ra), dec: get(cols.dec), mag: get(cols.mag), columns: cols };
  if (cols.pmra && cols.pmdec) {
    cat.pmra = get(cols.pmra);
    cat.pmdec = get(cols.pmdec);
  }
  if (cols.epoch) cat.epoch = get(cols.epoch);
  else if (typeof opts.epoch === 'number') cat.epoch = new Float64Array(n).fill(opts.epoch);
  for (let i = 0; i < n; i++) {
    const d = cat.dec[i]!;
    if (Math.abs(d) > 90) fail(source, `row ${i + 1}: declination ${d} is outside [-90, 90] (column '${cols.dec}' must be in degrees)`);
  }
  return cat;
}

function toFloat64(file: string, name: string, data: ColumnData, n: number, unit: string | undefined, isAngle: boolean): Float64Array {
  if (data.length !== n || typeof data[0] === 'string' || typeof data[0] === 'boolean' || (n > 0 && typeof data[0] === 'object')) {
    fail(file, `column '${name}' is not a numeric scalar column`);
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Number((data as ArrayLike<number | bigint>)[i]!);
  const u = (unit ?? '').trim().toLowerCase();
  if (isAngle && u !== '' && !['deg', 'degree', 'degrees'].includes(u)) {
    if (u !== 'rad') fail(file, `column '${name}' has unit '${unit}', expected degrees`);
    for (let i = 0; i < n; i++) out[i] = (out[i]! * 180) / Math.PI;
  }
  return out;
}

function readFitsCatalog(file: string, bytes: Uint8Array, opts: RefCatOptions): RefCatalog {
  let f: FitsFile;
  try {
    f = FitsFile.fromBytes(bytes, { name: file });
  } catch (e) {
    if (e instanceof FitsError) fail(file, e.problem);
    throw e;
  }
  try {
    let hdu = opts.hdu === undefined ? undefined : f.hdu(opts.hdu);
    if (hdu && hdu.type !== 'bintable') fail(file, `HDU ${hdu.index} is a ${hdu.type}, not a binary table`);
    if (!hdu) {
      const tables = f.hdus.filter((h) => h.type === 'bintable');
      if (tables.length === 0) fail(file, 'no binary table in the file');
      const names = (h: (typeof tables)[number]): string[] => tableNames(h.header);
      hdu = tables.find((h) => {
        const lower = names(h).map((s) => s.toLowerCase());
        const has = (role: Role): boolean =>
          typeof opts[role] === 'string' ? lower.includes(String(opts[role]).toLowerCase()) : REFCAT_COLUMN_NAMES[role].some((c) => lower.includes(c));
        return has('ra') && has('dec');
      }) ?? tables[0]!;
    }
    const cols = resolveColumns(file, tableNames(hdu.header), opts);
    const wanted = [cols.ra, cols.dec, cols.mag, cols.pmra, cols.pmdec, cols.epoch].filter((s): s is string => s !== undefined);
    const table = readTableHdu(f, hdu, { columns: wanted, int64: 'number' });
    const get = (name: string): Float64Array => {
      const c = table.columns.find((x) => x.name.toLowerCase() === name.toLowerCase())!;
      if (c.repeat !== 1) fail(file, `column '${name}' is a vector column (repeat ${c.repeat})`);
      return toFloat64(file, name, c.data, table.nrows, c.unit, name === cols.ra || name === cols.dec);
    };
    return assemble(file, cols, get, table.nrows, opts);
  } catch (e) {
    if (e instanceof FitsError) fail(file, e.problem);
    throw e;
  } finally {
    f.close();
  }
}

function tableNames(h: { getString(k: string): string | undefined; getNumber(k: string, d: number): number }): string[] {
  const n = h.getNumber('TFIELDS', 0);
  const out: string[] = [];
  for (let i = 1; i <= n; i++) out.push((h.getString(`TTYPE${i}`) ?? `col${i}`).trim());
  return out;
}

/** Split one delimited line; double quotes protect delimiters ("" is a quote). `delim` ' ' means runs of blanks. */
function splitLine(line: string, delim: string): string[] {
  if (delim === ' ') return line.trim().split(/\s+/);
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delim) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

const MISSING = new Set(['', 'nan', 'null', 'na', 'n/a', '--', 'none']);

function readTextCatalog(file: string, text: string, opts: RefCatOptions): RefCatalog {
  const lines = text.split(/\r?\n/);
  let li = 0;
  while (li < lines.length && (lines[li]!.trim() === '' || lines[li]!.trimStart().startsWith('#'))) li++;
  if (li >= lines.length) fail(file, 'empty catalog: no header line');
  const head = lines[li]!;
  const delim = head.includes(',') ? ',' : head.includes('\t') ? '\t' : ' ';
  const names = splitLine(head, delim);
  const cols = resolveColumns(file, names, opts);
  const wanted = [cols.ra, cols.dec, cols.mag, cols.pmra, cols.pmdec, cols.epoch].filter((s): s is string => s !== undefined);
  const index = wanted.map((w) => names.indexOf(w));
  const values: number[][] = wanted.map(() => []);
  for (let l = li + 1; l < lines.length; l++) {
    const line = lines[l]!;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const fields = splitLine(line, delim);
    if (fields.length !== names.length) fail(file, `line ${l + 1}: ${fields.length} fields, the header has ${names.length}`);
    for (let k = 0; k < wanted.length; k++) {
      const s = fields[index[k]!]!;
      let v = MISSING.has(s.toLowerCase()) ? NaN : Number(s);
      if (Number.isNaN(v) && !MISSING.has(s.toLowerCase())) fail(file, `line ${l + 1}: column '${wanted[k]}': '${s}' is not a number`);
      if (!Number.isFinite(v)) v = NaN;
      values[k]!.push(v);
    }
  }
  const n = values[0]!.length;
  return assemble(file, cols, (name) => Float64Array.from(values[wanted.indexOf(name)]!), n, opts);
}

/** Read a reference catalogue from a FITS table or a CSV/text file (either possibly gzip-compressed). */
export function readRefCatalog(file: string, opts: RefCatOptions = {}): RefCatalog {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    return fail(file, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const gz = isGzip(bytes);
  const plain = gz ? gunzipOrFail(file, bytes) : bytes;
  if (Buffer.from(plain.subarray(0, 9)).toString('latin1') === 'SIMPLE  =') return readFitsCatalog(file, plain, opts);
  return readTextCatalog(file, Buffer.from(plain).toString('utf8'), opts);
}

function gunzipOrFail(file: string, bytes: Uint8Array): Uint8Array {
  try {
    return gunzipBytes(bytes, file);
  } catch (e) {
    return fail(file, e instanceof FitsError ? e.problem : (e as Error).message);
  }
}

let lastRefcat: { key: string; cat: RefCatalog } | undefined;
/**
 * readRefCatalog, keeping the last catalogue read while its file is unchanged: every CCD of a visit, the visit
 * reducer and `compare` read the same one. Callers must not modify it.
 */
export function cachedRefCatalog(file: string): RefCatalog {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  const key = st ? `${file}\0${st.size}\0${st.mtimeMs}` : '';
  if (key && lastRefcat?.key === key) return lastRefcat.cat;
  const cat = readRefCatalog(file);
  if (key) lastRefcat = { key, cat };
  return cat;
}

/** Read several catalogues (e.g. sky chunks) and concatenate them in the order given. */
export function readRefCatalogs(files: readonly string[], opts: RefCatOptions = {}): RefCatalog {
  if (files.length === 0) throw new UserError('no reference catalog files given');
  const cats = files.map((f) => readRefCatalog(f, opts));
  return concatCatalogs(cats);
}

/** Concatenate catalogues; optional arrays are kept only when every part has them. */
export function concatCatalogs(cats: readonly RefCatalog[]): RefCatalog {
  const n = cats.reduce((s, c) => s + c.n, 0);
  const cat = (key: 'ra' | 'dec' | 'mag' | 'pmra' | 'pmdec' | 'epoch'): Float64Array | undefined => {
    if (!cats.every((c) => c[key])) return undefined;
    const out = new Float64Array(n);
    let o = 0;
    for (const c of cats) {
      out.set(c[key]!, o);
      o += c.n;
    }
    return out;
  };
  const out: RefCatalog = { source: cats.map((c) => c.source).join(', '), n, ra: cat('ra')!, dec: cat('dec')!, mag: cat('mag')!, columns: { ...cats[0]!.columns } };
  const pmra = cat('pmra');
  const pmdec = cat('pmdec');
  const epoch = cat('epoch');
  if (pmra && pmdec) Object.assign(out, { pmra, pmdec });
  if (epoch) out.epoch = epoch;
  return out;
}

/** The rows `idx` (in that order) of a catalogue. */
export function subsetCatalog(cat: RefCatalog, idx: ArrayLike<number>): RefCatalog {
  const take = (a: Float64Array): Float64Array => Float64Array.from({ length: idx.length }, (_, k) => a[idx[k]!]!);
  const out: RefCatalog = { source: cat.source, n: idx.length, ra: take(cat.ra), dec: take(cat.dec), mag: take(cat.mag), columns: cat.columns };
  if (cat.pmra && cat.pmdec) Object.assign(out, { pmra: take(cat.pmra), pmdec: take(cat.pmdec) });
  if (cat.epoch) out.epoch = take(cat.epoch);
  return out;
}

/** Rows within `radius` degrees of (ra, dec), in catalogue order. */
export function selectCone(cat: RefCatalog, ra: number, dec: number, radius: number): RefCatalog {
  return subsetCatalog(cat, coneIndex(cat, ra, dec, radius));
}

/** Indices of the rows within `radius` degrees of (ra, dec), ascending. */
function coneIndex(cat: RefCatalog, ra: number, dec: number, radius: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < cat.n; i++) {
    const d = cat.dec[i]!;
    if (Math.abs(d - dec) <= radius && angularDistance(ra, dec, cat.ra[i]!, d) <= radius) idx.push(i);
  }
  return idx;
}

/** Rows with raMin <= ra <= raMax (through 0 when raMin > raMax) and decMin <= dec <= decMax, in catalogue order. */
export function selectBox(cat: RefCatalog, raMin: number, raMax: number, decMin: number, decMax: number): RefCatalog {
  const wrap = raMin > raMax;
  const idx: number[] = [];
  for (let i = 0; i < cat.n; i++) {
    const r = (((cat.ra[i]! % 360) + 360) % 360);
    const d = cat.dec[i]!;
    if (!(d >= decMin && d <= decMax)) continue;
    if (wrap ? r >= raMin || r <= raMax : r >= raMin && r <= raMax) idx.push(i);
  }
  return subsetCatalog(cat, idx);
}

/**
 * Rows that fall on an image (1-based pixel box [0.5, width + 0.5] grown by `margin` pixels), with their
 * 1-based pixel positions; catalogue order.
 */
export function selectInImage(cat: RefCatalog, wcs: Wcs, margin = 0): { cat: RefCatalog; x: Float64Array; y: Float64Array } {
  const cone = wcs.boundingCone(margin);
  const near = coneIndex(cat, cone.lon, cone.lat, cone.radius * 1.001 + 1e-9);
  const idx: number[] = [];
  const xs: number[] = [];
  const ys: number[] = [];
  for (const i of near) {
    const [x, y] = wcs.skyToPix(cat.ra[i]!, cat.dec[i]!);
    if (x >= 0.5 - margin && x <= wcs.width + 0.5 + margin && y >= 0.5 - margin && y <= wcs.height + 0.5 + margin) {
      idx.push(i);
      xs.push(x);
      ys.push(y);
    }
  }
  return { cat: subsetCatalog(cat, idx), x: Float64Array.from(xs), y: Float64Array.from(ys) };
}

/** Rows sorted by magnitude, brightest first (stable: ties keep catalogue order; NaN magnitudes last). */
export function sortByMag(cat: RefCatalog): RefCatalog {
  const idx = Array.from({ length: cat.n }, (_, i) => i);
  const m = cat.mag;
  idx.sort((a, b) => {
    const ma = m[a]!;
    const mb = m[b]!;
    if (Number.isNaN(ma) || Number.isNaN(mb)) return Number.isNaN(ma) === Number.isNaN(mb) ? a - b : Number.isNaN(ma) ? 1 : -1;
    return ma - mb || a - b;
  });
  return subsetCatalog(cat, idx);
}

/**
 * Positions moved to `epoch` (Julian year) by their proper motions: straight motion on the tangent
 * plane, renormalised to the sphere (parallax and radial velocity ignored). Rows without proper motion
 * (NaN) keep their position. Without proper motions the catalogue is returned as is; with proper
 * motions but no epoch, a UserError.
 */
export function propagateToEpoch(cat: RefCatalog, epoch: number): RefCatalog {
  if (!cat.pmra || !cat.pmdec) return cat;
  if (!cat.epoch) throw new UserError(`${cat.source}: reference catalog has proper motions but no epoch (give an epoch column or value)`);
  const out: RefCatalog = { ...cat, ra: new Float64Array(cat.n), dec: new Float64Array(cat.n), epoch: new Float64Array(cat.n).fill(epoch) };
  const k = Math.PI / 180 / 3.6e6;
  for (let i = 0; i < cat.n; i++) {
    const ra = cat.ra[i]!;
    const dec = cat.dec[i]!;
    const dt = epoch - cat.epoch[i]!;
    const pa = cat.pmra[i]!;
    const pd = cat.pmdec[i]!;
    if (!(Number.isFinite(pa) && Number.isFinite(pd) && Number.isFinite(dt))) {
      out.ra[i] = ra;
      out.dec[i] = dec;
      continue;
    }
    const a = (ra * Math.PI) / 180;
    const d = (dec * Math.PI) / 180;
    const ca = Math.cos(a);
    const sa = Math.sin(a);
    const cd = Math.cos(d);
    const sd = Math.sin(d);
    const ua = pa * dt * k;
    const ud = pd * dt * k;
    const x = cd * ca - ua * sa - ud * sd * ca;
    const y = cd * sa + ua * ca - ud * sd * sa;
    const z = sd + ud * cd;
    let lon = (Math.atan2(y, x) * 180) / Math.PI;
    if (lon < 0) lon += 360;
    out.ra[i] = lon;
    out.dec[i] = (Math.atan2(z, Math.hypot(x, y)) * 180) / Math.PI;
  }
  return out;
}
