/**
 * Binary tables (src/fits/table*.ts, tform.ts) against astropy:
 *  - a table astropy writes with every TFORM (L, X, B, I, J, K, A, E, D, C, M, P/Q heap columns,
 *    vectors with TDIM, unsigned / signed-byte TZERO, TSCAL/TZERO/TNULL, strings with leading and
 *    trailing blanks) must read back exactly as astropy reads it;
 *  - a table WE write with every TFORM must be read by astropy exactly as we wrote it;
 *  - the real Gaia catalog chunks in ../shared/data/real/decam against MANIFEST.json and astropy;
 *  - corrupt tables give FitsErrors.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FitsError } from '../src/fits/errors.js';
import { FitsFile } from '../src/fits/file.js';
import { Header } from '../src/fits/header.js';
import { writeFits } from '../src/fits/write.js';
import { buildTable, readTable, readTableHdu, type Column, type ColumnSpec, type Table } from '../src/fits/table.js';
import { parseTForm } from '../src/fits/tform.js';
import { hasAstropy, runPythonFile, warnNoAstropy } from './helpers/astropy.js';
import { hasShared, loadManifest, parsePythonJson, realData, repoRoot, warnNoShared } from './helpers/shared.js';

warnNoAstropy('binary-table tests against astropy');
warnNoShared('binary-table tests on real Gaia chunks');

const SCRIPT = path.join(repoRoot, 'test/fixtures/make_table_fixtures.py');
const scriptHash = createHash('sha256').update(fs.readFileSync(SCRIPT)).digest('hex').slice(0, 12);
const FIX = path.join(repoRoot, 'test/.cache', `table-${scriptHash}`);

type Scalar = number | string | boolean;
interface DumpColumn {
  name: string;
  format: string;
  unit: string | null;
  disp: string | null;
  dim: string | null;
  null: number | null;
  tscal: number | null;
  tzero: string | null;
  rows: (Scalar | Scalar[])[];
}
interface Dump {
  nrows: number;
  columns: DumpColumn[];
}

function astropyDump(file: string, hdu = 1): Dump {
  return parsePythonJson<Dump>(runPythonFile(SCRIPT, ['dump', file, String(hdu)]));
}

/** A column's row r as a flat list of plain JS values (bigints as decimal strings, bits as booleans). */
function rowValues(col: Column, r: number, nrows: number): Scalar[] {
  const d = col.data;
  const plain = (v: unknown, bits: boolean): Scalar => (typeof v === 'bigint' ? v.toString() : bits ? v === 1 : (v as Scalar));
  let t: ReturnType<typeof parseTForm> | undefined;
  try {
    t = parseTForm(col.tform);
  } catch {
    t = undefined; // ASCII-table TFORM
  }
  const isX = t?.code === 'X' || t?.heapCode === 'X';
  if (t && /[PQ]/.test(t.code)) {
    const cell = (d as unknown[])[r];
    if (typeof cell === 'string') return [cell];
    return Array.from(cell as ArrayLike<unknown>, (v) => plain(v, isX));
  }
  const per = d.length / nrows;
  return Array.from({ length: per }, (_, i) => plain((d as ArrayLike<unknown>)[r * per + i], isX));
}

/** Compare our table with astropy's reading; returns mismatch descriptions (empty when identical). */
function compareTables(ours: Table, ref: Dump, special: (name: string, r: number, ours: Scalar[], ref: Scalar[]) => boolean = () => false): string[] {
  const bad: string[] = [];
  if (ours.nrows !== ref.nrows) bad.push(`nrows ${ours.nrows} vs ${ref.nrows}`);
  for (const rc of ref.columns) {
    const col = ours.columns.find((c) => c.name === rc.name);
    if (!col) {
      bad.push(`missing column ${rc.name}`);
      continue;
    }
    for (let r = 0; r < ref.nrows; r++) {
      const o = rowValues(col, r, ours.nrows);
      const e = (Array.isArray(rc.rows[r]) ? rc.rows[r] : [rc.rows[r]]) as Scalar[];
      if (special(rc.name, r, o, e)) continue;
      const same = o.length === e.length && o.every((v, i) => v === e[i] || (Number.isNaN(v) && Number.isNaN(e[i])));
      if (!same) bad.push(`${rc.name}[${r}]: ours ${JSON.stringify(o)} astropy ${JSON.stringify(e)}`);
    }
  }
  return bad;
}

describe.skipIf(!hasAstropy)('astropy-written table read by us', () => {
  let expected: Dump;
  let table: Table;
  let file: FitsFile;
  beforeAll(() => {
    const json = path.join(FIX, 'expected.json');
    if (!fs.existsSync(json)) {
      fs.mkdirSync(FIX, { recursive: true });
      fs.writeFileSync(json, runPythonFile(SCRIPT, ['make', FIX]));
    }
    expected = parsePythonJson<Dump>(fs.readFileSync(json, 'utf8'));
    file = FitsFile.open(path.join(FIX, 'table.fits'));
    table = readTableHdu(file, 'EVERY');
  });

  it('covers every TFORM type', () => {
    const codes = new Set(expected.columns.map((c) => c.format.replace(/^\d*/, '').slice(0, 2).replace(/\(.*$/, '')));
    for (const t of ['L', 'X', 'B', 'I', 'J', 'K', 'A', 'E', 'D', 'C', 'M', 'PE', 'PJ', 'QD', 'PB']) expect(codes, t).toContain(t);
  });

  it('every value equals astropy (TNULL of the scaled column becomes NaN where astropy scales it)', () => {
    const bad = compareTables(table, expected, (name, r, o, e) => {
      if (name !== 'scaled' || r !== 0) return false;
      expect(o).toEqual([NaN]);
      expect(e).toEqual([-999 * 0.5 + 100]);
      return true;
    });
    expect(bad).toEqual([]);
  });

  it('array types follow the unsigned / signed-byte conventions; metadata preserved', () => {
    const by = (n: string): Column => table.columns.find((c) => c.name === n)!;
    expect(by('sbyte').data).toBeInstanceOf(Int8Array);
    expect(by('ushort').data).toBeInstanceOf(Uint16Array);
    expect(by('uint').data).toBeInstanceOf(Uint32Array);
    expect(by('long').data).toBeInstanceOf(BigInt64Array);
    expect(by('ulong').data).toBeInstanceOf(BigUint64Array);
    expect(by('scaled').data).toBeInstanceOf(Float64Array);
    expect(by('scaled').scaled).toBe(true);
    expect(by('bits').data).toBeInstanceOf(Uint8Array);
    expect(by('cplx').data).toBeInstanceOf(Float32Array);
    expect(by('short').unit).toBe('adu');
    expect(by('short').disp).toBe('I6');
    expect(by('vec').dims).toEqual([3, 2]);
    expect(by('int').null).toBe(-2147483643);
    expect(by('text').data).toContain('  lead');
    const k = readTableHdu(file, 1, { int64: 'number', columns: ['long'] });
    expect(k.columns.length).toBe(1);
    expect(k.columns[0].data).toBeInstanceOf(Float64Array);
    expect((k.columns[0].data as Float64Array)[0]).toBe(-(2 ** 63));
    const raw = readTableHdu(file, 1, { scale: false, columns: ['ushort', 'scaled'] });
    expect(raw.columns[0].data).toBeInstanceOf(Int16Array);
    expect((raw.columns[1].data as Int16Array)[0]).toBe(-999);
  });
});

describe.skipIf(!hasAstropy)('astropy-written ASCII table read by us', () => {
  it('every value (I as numbers, F/E/D as doubles, A trimmed) equals astropy', () => {
    const json = path.join(FIX, 'expected.json');
    if (!fs.existsSync(json)) {
      fs.mkdirSync(FIX, { recursive: true });
      fs.writeFileSync(json, runPythonFile(SCRIPT, ['make', FIX]));
    }
    const file = FitsFile.open(path.join(FIX, 'table.fits'));
    const hdu = file.hdu('ASCII');
    expect(hdu.type).toBe('table');
    const t = readTableHdu(file, hdu);
    file.close();
    const ref = astropyDump(path.join(FIX, 'table.fits'), 2);
    // astropy gives I fields as int64 (decimal strings in the dump): compare as numbers.
    for (const c of ref.columns) c.rows = c.rows.map((v) => (typeof v === 'string' && c.format.startsWith('I') ? Number(v) : v));
    expect(compareTables(t, ref)).toEqual([]);
    expect(t.columns.map((c) => c.tform)).toEqual(['I10', 'F12.5', 'E15.7', 'D25.17', 'A12']);
    expect(t.columns[1].unit).toBe('pix');
  });
});

/** Every TFORM, written by us. */
function ourColumns(n: number): ColumnSpec[] {
  let seed = 4242;
  const rnd = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const idx = Array.from({ length: n }, (_, i) => i);
  const f32 = Float32Array.from(idx, () => (rnd() - 0.5) * 1e4);
  f32[1] = NaN;
  f32[2] = Infinity;
  f32[3] = -0;
  f32[4] = 1e-42; // denormal
  const f64 = Float64Array.from(idx, () => (rnd() - 0.5) * 1e300);
  f64[5] = NaN;
  f64[6] = Number.MIN_VALUE;
  const k = BigInt64Array.from(idx, (i) => BigInt(i) * 123456789012345n - 9000000000000000000n);
  k[0] = -(2n ** 63n);
  k[1] = 2n ** 63n - 1n;
  const uk = BigUint64Array.from(idx, (i) => BigInt(i) * 987654321098765n);
  uk[2] = 2n ** 64n - 1n;
  const cells = <T>(f: (i: number) => T): T[] => idx.map(f);
  return [
    { name: 'flag', data: idx.map((i) => (i % 4 === 3 ? null : i % 2 === 0)) },
    { name: 'flags3', data: idx.flatMap((i) => [i % 2 === 0, i % 3 === 0, true]), repeat: 3 },
    { name: 'bits', type: 'X', repeat: 13, data: Uint8Array.from({ length: 13 * n }, (_, j) => ((j * 7919) >> 3) & 1) },
    { name: 'ubyte', data: Uint8Array.from(idx, (i) => (i * 37) % 256) },
    { name: 'sbyte', data: Int8Array.from(idx, (i) => ((i * 37) % 256) - 128) },
    { name: 'short', data: Int16Array.from(idx, (i) => i * 1311 - 32768), unit: 'adu', disp: 'I6' },
    { name: 'ushort', data: Uint16Array.from(idx, (i) => (i * 1311) % 65536) },
    { name: 'int', data: Int32Array.from(idx, (i) => i * 100000007 - 2 ** 31), null: -2147483648 },
    { name: 'uint', data: Uint32Array.from(idx, (i) => (i * 100000007) % 2 ** 32) },
    { name: 'long', data: k },
    { name: 'ulong', data: uk },
    { name: 'text', data: idx.map((i) => (i === 0 ? '' : i % 3 === 0 ? `  s${i}  ` : `name_${i}`)), repeat: 10, unit: 'none' },
    { name: 'flt', data: f32, unit: 'mag', disp: 'F8.3' },
    { name: 'dbl', data: f64 },
    { name: 'vec', data: Float32Array.from({ length: 6 * n }, () => rnd()), repeat: 6, dims: [3, 2] },
    { name: 'cplx', type: 'C', data: Float32Array.from({ length: 2 * n }, () => rnd() - 0.5) },
    { name: 'dcplx', type: 'M', repeat: 2, data: Float64Array.from({ length: 4 * n }, () => rnd() - 0.5) },
    { name: 'scaled', data: Int16Array.from(idx, (i) => i * 3 - 50), scale: 0.25, zero: 1000 },
    { name: 'vla_e', data: cells((i) => Float32Array.from({ length: i % 7 }, () => rnd())) },
    { name: 'vla_j', data: cells((i) => Int32Array.from({ length: (i * 5) % 9 }, () => Math.floor(rnd() * 2 ** 32) - 2 ** 31)) },
    { name: 'vla_d', type: 'Q', data: cells((i) => Float64Array.from({ length: i % 4 }, () => rnd() * 1e10)) },
    { name: 'vla_b', data: cells((i) => Uint8Array.from({ length: i % 3 }, (_, j) => j * 100 + 7)) },
    { name: 'vla_a', type: 'PA', data: cells((i) => `var${'x'.repeat(i % 5)}`) },
  ];
}

describe.skipIf(!hasAstropy)('tables we write, read by astropy', () => {
  const n = 29;
  const specs = ourColumns(n);
  let file: string;
  let dump: Dump;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fits-table-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeAll(() => {
    file = path.join(dir, 'ours.fits');
    const built = buildTable(specs, { extname: 'OURS' });
    const primary = new Header([
      { key: 'BITPIX', value: 8 },
      { key: 'NAXIS', value: 0 },
    ]);
    writeFits(file, [{ header: primary }, built]);
    dump = astropyDump(file, 1);
  });

  /** Expected astropy view of one input column row. */
  const expectedRow = (s: ColumnSpec, r: number): Scalar[] => {
    const d = s.data as unknown[] | ArrayLike<unknown>;
    const plain = (v: unknown): Scalar => (typeof v === 'bigint' ? v.toString() : v === null ? false : (v as Scalar));
    if (s.type?.startsWith('P') || s.type?.startsWith('Q') || (Array.isArray(d) && typeof d[0] === 'object' && d[0] !== null)) {
      const cell = (d as unknown[])[r];
      return typeof cell === 'string' ? [cell] : Array.from(cell as ArrayLike<unknown>, plain);
    }
    if (Array.isArray(d) && typeof d[0] === 'string') return [(d[r] as string).trimEnd()];
    const per = d.length / n;
    return Array.from({ length: per }, (_, i) => {
      const v = plain((d as ArrayLike<unknown>)[r * per + i]);
      if (s.type === 'X') return v === 1;
      if (s.scale !== undefined) return (v as number) * s.scale + (s.zero ?? 0);
      return v;
    });
  };

  it('astropy reads every value we wrote', () => {
    const bad: string[] = [];
    for (const s of specs) {
      const col = dump.columns.find((c) => c.name === s.name);
      if (!col) {
        bad.push(`astropy lacks column ${s.name}`);
        continue;
      }
      for (let r = 0; r < n; r++) {
        const e = expectedRow(s, r);
        const a = (Array.isArray(col.rows[r]) ? col.rows[r] : [col.rows[r]]) as Scalar[];
        const same = a.length === e.length && a.every((v, i) => v === e[i] || (Number.isNaN(v) && Number.isNaN(e[i])));
        if (!same) bad.push(`${s.name}[${r}]: astropy ${JSON.stringify(a)} expected ${JSON.stringify(e)}`);
      }
    }
    expect(bad).toEqual([]);
    expect(dump.nrows).toBe(n);
  });

  it('astropy sees our keywords: TFORM, TUNIT, TDISP, TDIM, TNULL, TSCAL, TZERO', () => {
    const c = (name: string): DumpColumn => dump.columns.find((x) => x.name === name)!;
    expect(c('short').unit).toBe('adu');
    expect(c('flt').disp).toBe('F8.3');
    expect(c('vec').dim).toBe('(3,2)');
    expect(c('int').null).toBe(-2147483648);
    expect(c('scaled').tscal).toBe(0.25);
    expect(c('ulong').tzero).toBe('9223372036854775808');
    expect(c('vla_d').format).toMatch(/^1QD\(3\)$/);
    expect(c('bits').format).toBe('13X');
  });

  it('we read our own file back exactly (strings lose trailing blanks, null logicals read false)', () => {
    const f = FitsFile.open(file);
    const t = readTableHdu(f, 'OURS');
    f.close();
    const bad: string[] = [];
    for (const s of specs) {
      const col = t.columns.find((c) => c.name === s.name)!;
      for (let r = 0; r < n; r++) {
        const o = rowValues(col, r, n);
        const e = expectedRow(s, r);
        const same = o.length === e.length && o.every((v, i) => v === e[i] || (Number.isNaN(v) && Number.isNaN(e[i])));
        if (!same) bad.push(`${s.name}[${r}]: ours ${JSON.stringify(o)} expected ${JSON.stringify(e)}`);
      }
    }
    expect(bad).toEqual([]);
  });
});

describe.skipIf(!hasShared)('real Gaia catalog chunks', () => {
  it('match MANIFEST.json (rows, column names and formats) and astropy values', () => {
    const man = loadManifest();
    let checked = 0;
    for (const [rel, hdus] of Object.entries(man)) {
      for (const m of hdus) {
        if (m.type !== 'BinTableHDU') continue;
        const f = FitsFile.open(path.join(realData, rel));
        const t = readTableHdu(f, m.index);
        f.close();
        expect(t.nrows, rel).toBe(m.nrows);
        expect(t.columns.map((c) => [c.name, c.tform]), rel).toEqual(m.columns);
        if (hasAstropy && t.nrows > 0) expect(compareTables(t, astropyDump(path.join(realData, rel), m.index)), rel).toEqual([]);
        checked++;
      }
    }
    expect(checked).toBe(3);
  });
});

describe('corrupt tables', () => {
  const built = buildTable([
    { name: 'a', data: Float32Array.from([1, 2, 3]) },
    { name: 'v', data: [Int16Array.from([1, 2]), Int16Array.from([3]), new Int16Array(0)] },
  ]);
  const withWhere = (h: Header): Header => {
    h.where = { file: 'x.fits', hdu: 2 };
    return h;
  };

  it('reads the intact table', () => {
    const t = readTable(withWhere(built.header.clone()), built.data);
    expect(Array.from(t.columns[0].data as Float32Array)).toEqual([1, 2, 3]);
    expect((t.columns[1].data as Int16Array[]).map((c) => Array.from(c))).toEqual([[1, 2], [3], []]);
  });

  it('heap descriptor past the heap -> FitsError with file, HDU, column and row', () => {
    const bad = built.data.slice();
    new DataView(bad.buffer).setInt32(1 * built.header.getInt('NAXIS1')! + 4 + 4, 1000, false);
    expect(() => readTable(withWhere(built.header.clone()), bad)).toThrow(/^x\.fits, HDU 2: column v row 2: .*outside/);
    const huge = built.data.slice();
    new DataView(huge.buffer).setInt32(4, 2 ** 30, false); // count claim of 1e9 elements
    expect(() => readTable(withWhere(built.header.clone()), huge)).toThrow(FitsError);
  });

  it('truncated data and inconsistent keywords -> FitsError', () => {
    expect(() => readTable(withWhere(built.header.clone()), built.data.subarray(0, 10))).toThrow(/truncated/);
    const h = withWhere(built.header.clone());
    h.set('NAXIS1', 5);
    expect(() => readTable(h, built.data)).toThrow(/NAXIS1/);
    const h2 = withWhere(built.header.clone());
    h2.set('TFORM1', '1Z');
    expect(() => readTable(h2, built.data)).toThrow(FitsError);
  });
});
