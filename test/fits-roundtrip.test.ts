/**
 * Round trips against astropy (/usr/bin/python3):
 *  A. files written by astropy (test/fixtures/make_fits_fixtures.py) are read exactly: every BITPIX,
 *     unsigned via BZERO, BSCALE/BZERO/BLANK, cubes, MEF with a heap table, gzip, all header card forms;
 *  B. files WE write (every BITPIX, unsigned, scaled+BLANK, MEF with a generic table HDU, CONTINUE,
 *     HIERARCH, bigints, checksums) are read back identically by astropy with checksum verification
 *     and warnings turned into errors.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  Checksum,
  FitsFile,
  Header,
  readImage,
  readImageRows,
  verifyChecksum,
  writeFits,
  imageHdu,
  type Card,
  type HduInput,
  type PixelArray,
} from '../src/fits/index.js';
import { repoRoot } from './helpers/shared.js';
import { hasAstropy, runPythonFile, runPythonJson, warnNoAstropy } from './helpers/astropy.js';

warnNoAstropy('FITS round-trip tests against astropy');

const fixtures = path.join(repoRoot, 'test/.cache/fixtures');
const script = path.join(repoRoot, 'test/fixtures/make_fits_fixtures.py');

type AstropyCard = [string, 'bool' | 'int' | 'float' | 'complex' | 'str' | 'undef' | 'commentary', unknown, string];
interface BinRef {
  dtype: string;
  bin: string;
}
interface Expected {
  images: { file: string; hdu: number; axes: number[]; bitpix: number; native: BinRef; physical: BinRef }[];
  headers: Record<string, Record<string, AstropyCard[]>>;
  mef: { file: string; hdus: { index: number; xtension: string; extname: string; naxis: number[]; pcount: number }[] };
}

const CTORS: Record<string, new (b: ArrayBuffer, o: number, n: number) => PixelArray> = {
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  float32: Float32Array,
  float64: Float64Array,
};

function loadBin(dir: string, ref: BinRef): PixelArray {
  const b = fs.readFileSync(path.join(dir, ref.bin));
  const Ctor = CTORS[ref.dtype]!;
  const copy = new Uint8Array(b.length);
  copy.set(b);
  return new Ctor(copy.buffer, 0, b.length / (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT);
}

function bytesOf(a: PixelArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Count of elements that differ (NaN equals NaN; -0 differs from 0). */
function mismatches(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let bad = 0;
  for (let i = 0; i < want.length; i++) {
    const a = got[i]!;
    const b = want[i]!;
    if (!(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)))) bad++;
  }
  return bad;
}

/** Our cards must equal astropy's reading, in order. */
function expectCards(ours: Card[], theirs: AstropyCard[], what: string): void {
  expect(ours.map((c) => c.key), `${what}: keywords`).toEqual(theirs.map((c) => c[0]));
  theirs.forEach(([key, kind, value, comment], i) => {
    const c = ours[i]!;
    const label = `${what}: ${key || '(blank)'} #${i}`;
    switch (kind) {
      case 'commentary':
        expect(c.value, label).toBeUndefined();
        expect(c.comment ?? '', label).toBe(value);
        return;
      case 'bool':
        expect(c.value, label).toBe(value);
        break;
      case 'int':
        expect(typeof c.value === 'number' || typeof c.value === 'bigint', label).toBe(true);
        expect(String(c.value), label).toBe(value);
        expect(typeof c.value === 'bigint', `${label} bigint iff beyond 2^53`).toBe(!Number.isSafeInteger(Number(value)));
        break;
      case 'float':
        expect(c.value, label).toBe(Number(value));
        break;
      case 'complex': {
        expect(c.format, label).toBe('complex');
        const h = new Header([c]);
        expect(h.getComplex(c.key), label).toEqual(value);
        break;
      }
      case 'str':
        expect(c.value, label).toBe(value);
        break;
      case 'undef':
        expect(c.value, label).toBeNull();
        break;
    }
    expect(c.comment ?? '', `${label} comment`).toBe(comment);
  });
}

describe.skipIf(!hasAstropy)('A. astropy-written files read exactly', () => {
  let exp: Expected;
  beforeAll(() => {
    fs.rmSync(fixtures, { recursive: true, force: true });
    runPythonFile(script, [fixtures]);
    exp = JSON.parse(fs.readFileSync(path.join(fixtures, 'expected.json'), 'utf8')) as Expected;
  });

  it('fixture set covers every BITPIX, unsigned and scaled forms', () => {
    const names = exp.images.map((i) => i.file);
    for (const f of ['bitpix8', 'bitpix16', 'bitpix32', 'bitpix64', 'bitpix-32', 'bitpix-64', 'uint16', 'uint32', 'uint64', 'int8', 'scaled16_blank', 'scaled32_blank', 'scaled64_blank']) {
      expect(names).toContain(`${f}.fits`);
    }
  });

  it('native and physical pixels equal astropy for every image', () => {
    const report: string[] = [];
    for (const e of exp.images) {
      const file = FitsFile.open(path.join(fixtures, e.file));
      try {
        const native = readImage(file, e.hdu, { as: 'native' });
        const wantNative = loadBin(fixtures, e.native);
        expect(native.data.constructor.name, `${e.file} native type`).toBe(wantNative.constructor.name);
        expect(Buffer.compare(bytesOf(native.data), bytesOf(wantNative)), `${e.file} native bytes`).toBe(0);
        expect(native.axes).toEqual(e.axes);
        const phys = readImage(file, e.hdu);
        const wantPhys = loadBin(fixtures, e.physical) as Float32Array | Float64Array;
        // Default output is float32 for BITPIX 8/16/-32 and float64 otherwise; astropy's float type must agree when it scales.
        if (wantPhys instanceof Float32Array) expect(phys.data, e.file).toBeInstanceOf(Float32Array);
        const bad = mismatches(phys.data as Float64Array, wantPhys);
        if (bad) report.push(`${e.file}[${e.hdu}]: ${bad} physical mismatches`);
        if (e.bitpix === 64 || e.bitpix === 32 || e.bitpix === -64) {
          const f32 = readImage(file, e.hdu, { as: 'float32' }).data as Float32Array;
          const want32 = Float32Array.from(wantPhys);
          const b32 = mismatches(f32, want32);
          if (b32) report.push(`${e.file}[${e.hdu}]: ${b32} float32 mismatches`);
        }
      } finally {
        file.close();
      }
    }
    expect(report).toEqual([]);
  });

  it('row bands equal the same rows of the whole image (2-D and 3-D)', () => {
    for (const [f, hdu] of [['cube16.fits', 0], ['mef.fits', 1], ['scaled16_blank.fits', 0], ['bitpix64.fits', 0]] as const) {
      const file = FitsFile.open(path.join(fixtures, f));
      try {
        const whole = readImage(file, hdu);
        const band = readImageRows(file, hdu, 5, 6);
        expect(band.height).toBe(6);
        expect(mismatches(band.data as Float64Array, (whole.data as Float64Array).subarray(5 * whole.width, 11 * whole.width))).toBe(0);
      } finally {
        file.close();
      }
    }
  });

  it('every header card (CONTINUE, HIERARCH, bigints, D exponents, complex, commentary order) equals astropy', () => {
    for (const [fname, perHdu] of Object.entries(exp.headers)) {
      const file = FitsFile.open(path.join(fixtures, fname));
      try {
        for (const [hdu, cards] of Object.entries(perHdu)) expectCards(file.hdu(Number(hdu)).header.cards, cards, `${fname}[${hdu}]`);
      } finally {
        file.close();
      }
    }
    const h = FitsFile.open(path.join(fixtures, 'header.fits'));
    expect(h.hdu(0).header.getBigInt('BIGNEG')).toBe(-(2n ** 63n));
    expect(h.hdu(0).header.getNumber('DEXP')).toBe(1500);
    expect(h.hdu(0).header.getBool('TRUEKEY')).toBe(true);
    expect(h.hdu(0).header.getString('HIERARCH ESO DET CHIP NAME')).toBe('CCD-44');
    expect(h.hdu(0).header.getInt('eso det win1 nx')).toBe(2048);
    h.close();
  });

  it('MEF structure, lookup by name, table heap skipped, gzip detected by magic bytes', () => {
    const plain = FitsFile.open(path.join(fixtures, 'mef.fits'));
    const gz = FitsFile.open(path.join(fixtures, 'mef.fits.gz'));
    const noSuffix = FitsFile.open(path.join(fixtures, 'mef_gz_no_suffix.fits'));
    try {
      for (const f of [plain, gz, noSuffix]) {
        expect(f.count).toBe(exp.mef.hdus.length);
        for (const m of exp.mef.hdus) {
          const h = f.hdu(m.index);
          expect(h.xtension).toBe(m.xtension);
          expect(h.name).toBe(m.extname);
          expect([...h.axes]).toEqual(m.naxis);
          expect(h.header.getInt('PCOUNT', 0)).toBe(m.pcount);
        }
        const tab = f.hdu('cat');
        expect(tab.type).toBe('bintable');
        expect(tab.heapOffset).toBe(tab.dataOffset + tab.axes[0]! * tab.axes[1]!);
        expect(tab.heapSize).toBe(tab.header.getInt('PCOUNT'));
        expect(f.hdu('DQ').index).toBe(4);
        expect(f.warnings).toEqual([]);
      }
      for (const name of ['SCI', 'VAR', 'DQ']) {
        const a = readImage(plain, name, { as: 'native' }).data;
        expect(Buffer.compare(bytesOf(readImage(gz, name, { as: 'native' }).data), bytesOf(a))).toBe(0);
        expect(Buffer.compare(bytesOf(readImage(noSuffix, name, { as: 'native' }).data), bytesOf(a))).toBe(0);
      }
    } finally {
      plain.close();
      gz.close();
      noSuffix.close();
    }
  });
});

/** Cards we put in the headers we write (beyond structural ones). */
function richCards(): Card[] {
  return [
    // Quotes followed by blanks and slashes across CONTINUE cards. No two consecutive quotes: astropy 5.2
    // un-escapes long strings twice and would read '' as ' (test/fits-header.test.ts covers those for our reader).
    { key: 'LONGSTR', value: `${"It's a long string with 'quotes' at awkward places / and ' slashes ".repeat(4)}'end`, comment: 'long comment '.repeat(9).trim() },
    { key: 'QUOTEDGE', value: `${'x'.repeat(66)}' '${'y'.repeat(70)}'` },
    { key: 'HIERARCH ESO DET CHIP NAME', value: 'CCD-44', comment: 'hierarch string' },
    { key: 'HIERARCH ESO TEL AIRM START', value: 1.5, comment: 'hierarch float', format: 'float' },
    { key: 'BIGPOS', value: 2n ** 62n + 5n, comment: 'bigint' },
    { key: 'BIGNEG', value: -(2n ** 63n) },
    { key: 'HUGE', value: 2n ** 70n + 1n },
    { key: 'SAFE', value: 2 ** 53 - 1 },
    { key: 'YES', value: true, comment: 'logical' },
    { key: 'NO', value: false },
    { key: 'ESCAPES', value: "O'Brien ''quoted''", comment: "it's" },
    { key: 'EMPTY', value: '' },
    { key: 'LEADSP', value: '   leading' },
    { key: 'FLT', value: 30, format: 'float', comment: 'integral float' },
    { key: 'TINY', value: 5e-324 },
    { key: 'PI', value: Math.PI },
    { key: 'NEGEXP', value: -1.25e-7 },
    { key: 'BIGFLT', value: 1.7976931348623157e308 },
    { key: 'CPLX', value: '(1.5, -2.25)', format: 'complex' },
    { key: 'UNDEF', value: null, comment: 'no value' },
    { key: 'COMMENT', comment: 'first comment' },
    { key: 'HISTORY', comment: 'history one' },
    { key: '', comment: 'blank keyword text' },
    { key: 'COMMENT', comment: 'a comment of exactly seventy-two characters is fine; 72 chars: ---------' },
  ];
}

describe.skipIf(!hasAstropy)('B. files we write are read identically by astropy', () => {
  const dir = path.join(repoRoot, 'test/.cache/written');
  const out = path.join(dir, 'ours.fits');
  const n = 17 * 11;
  const ramp = (f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
  const arrays: Record<string, PixelArray> = {
    U8: Uint8Array.from(ramp((i) => (i * 37) % 256)),
    I8: Int8Array.from(ramp((i) => ((i * 37) % 256) - 128)),
    I16: Int16Array.from(ramp((i) => ((i * 7919) % 65536) - 32768)),
    U16: Uint16Array.from(ramp((i) => (i * 7919) % 65536)),
    I32: Int32Array.from(ramp((i) => ((i * 2654435761) % 4294967296) - 2147483648)),
    U32: Uint32Array.from(ramp((i) => (i * 2654435761) % 4294967296)),
    I64: BigInt64Array.from(ramp((i) => i), (i) => BigInt.asIntN(64, BigInt(i) * 0x9e3779b97f4a7c15n)),
    U64: BigUint64Array.from(ramp((i) => i), (i) => BigInt.asUintN(64, BigInt(i) * 0x9e3779b97f4a7c15n)),
    F32: Float32Array.from(ramp((i) => (i === 3 ? NaN : Math.sin(i) * 1e5))),
    F64: Float64Array.from(ramp((i) => (i === 4 ? -Infinity : Math.cos(i) * 1e-200))),
  };
  const scaledIn = Float64Array.from(ramp((i) => (i % 10 === 0 ? NaN : 10 + 0.5 * ((i * 13) % 2000) - 500)));
  const dtypes: Record<string, string> = { U8: 'uint8', I8: 'int8', I16: 'int16', U16: 'uint16', I32: 'int32', U32: 'uint32', I64: 'int64', U64: 'uint64', F32: 'float32', F64: 'float64' };

  beforeAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const hdus: HduInput[] = [imageHdu(arrays.F32!, { width: 17, header: richCards() })];
    for (const [name, a] of Object.entries(arrays)) hdus.push(imageHdu(a, { width: 17, extname: name }));
    hdus.push(imageHdu(scaledIn, { width: 17, bitpix: 16, bscale: 0.5, bzero: 10, blank: -32768, extname: 'SCALED' }));
    // A generic (hand-made) binary table HDU: one J column, 3 rows.
    const tab = new Header()
      .set('XTENSION', 'BINTABLE')
      .set('BITPIX', 8)
      .set('NAXIS', 2)
      .set('NAXIS1', 4)
      .set('NAXIS2', 3)
      .set('PCOUNT', 0)
      .set('GCOUNT', 1)
      .set('TFIELDS', 1)
      .set('TTYPE1', 'N')
      .set('TFORM1', 'J')
      .set('EXTNAME', 'TAB');
    hdus.push({ header: tab, data: [Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 2), Uint8Array.of(0xff, 0xff, 0xff, 0xfd)] });
    writeFits(out, hdus);
  });

  it('astropy opens it with checksum=True and warnings as errors, and reads our values', () => {
    const py = `
import sys, json, warnings, numpy as np
from astropy.io import fits
warnings.simplefilter('error')
res = {'hdus': []}
with fits.open(sys.argv[1], checksum=True, uint=True, memmap=False) as f:
    f.verify('exception')
    for h in f:
        cards = []
        for c in h.header.cards:
            v = c.value
            if c.keyword in ('COMMENT', 'HISTORY', ''):
                cards.append([c.keyword, 'commentary', str(v), ''])
            elif isinstance(v, bool): cards.append([c.keyword, 'bool', v, c.comment])
            elif isinstance(v, int): cards.append([c.keyword, 'int', str(v), c.comment])
            elif isinstance(v, float): cards.append([c.keyword, 'float', repr(v), c.comment])
            elif isinstance(v, complex): cards.append([c.keyword, 'complex', [v.real, v.imag], c.comment])
            elif isinstance(v, str): cards.append([c.keyword, 'str', v, c.comment])
            else: cards.append([c.keyword, 'undef', None, c.comment])
        d = h.data
        entry = {'name': h.name, 'cards': cards}
        if isinstance(h, fits.BinTableHDU):
            entry['table'] = [int(x) for x in d['N']]
        elif d is not None:
            entry['dtype'] = d.dtype.name
            entry['values'] = [str(x) if d.dtype.kind in 'iu' else repr(float(x)) for x in d.ravel()]
        res['hdus'].append(entry)
print(json.dumps(res))
`;
    const res = runPythonJson<{ hdus: { name: string; cards: AstropyCard[]; dtype?: string; values?: string[]; table?: number[] }[] }>(py, [out]);
    expect(res.hdus.map((h) => h.name)).toEqual(['PRIMARY', ...Object.keys(arrays), 'SCALED', 'TAB']);
    // Headers: astropy's reading equals our cards (structural ones included, as normalized by the writer).
    const ours = FitsFile.open(out);
    try {
      res.hdus.forEach((h, i) => expectCards(ours.hdu(i).header.cards, h.cards, `HDU ${i}`));
      const prim = ours.hdu(0).header;
      for (const c of richCards()) {
        if (c.value !== undefined) expect(prim.get(c.key), c.key).toEqual(c.value);
      }
      expect(prim.commentary('COMMENT')).toEqual(['first comment', 'a comment of exactly seventy-two characters is fine; 72 chars: ---------']);
    } finally {
      ours.close();
    }
    // Pixels: exact, in astropy's dtype.
    Object.entries(arrays).forEach(([name, a], k) => {
      const h = res.hdus[k + 1]!;
      expect(h.dtype, name).toBe(dtypes[name]);
      const want = Array.from(a as ArrayLike<number | bigint>, (v) =>
        typeof v === 'bigint' ? v.toString() : name.startsWith('F') ? String(v) : String(v),
      );
      const got = h.values!.map((s) => (name.startsWith('F') ? String(s === 'nan' ? NaN : s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s)) : s));
      expect(got, name).toEqual(want);
    });
    const scaled = res.hdus[Object.keys(arrays).length + 1]!;
    expect(scaled.dtype).toBe('float32');
    const gotScaled = scaled.values!.map(Number);
    const bad = mismatches(gotScaled, Array.from(scaledIn, (v) => (Number.isNaN(v) ? NaN : Math.fround(v))));
    expect(bad).toBe(0);
    expect(res.hdus.at(-1)!.table).toEqual([1, 2, -3]);
  });

  it('our own checksum verification agrees, and detects a flipped byte', () => {
    const f = FitsFile.open(out);
    try {
      for (const h of f.hdus) expect(verifyChecksum(f, h), `HDU ${h.index}`).toEqual({ checksum: 'ok', datasum: 'ok' });
    } finally {
      f.close();
    }
    const bytes = new Uint8Array(fs.readFileSync(out));
    const probe = FitsFile.fromBytes(bytes);
    const target = probe.hdu(3);
    bytes[target.dataOffset + 10]! ^= 0x10;
    const broken = FitsFile.fromBytes(bytes);
    expect(verifyChecksum(broken, 3)).toEqual({ checksum: 'bad', datasum: 'bad' });
    expect(verifyChecksum(broken, 2)).toEqual({ checksum: 'ok', datasum: 'ok' });
  });

  it('streaming checksum: odd chunk sizes and unaligned buffers give the sum astropy accepted', () => {
    const bytes = new Uint8Array(fs.readFileSync(out));
    const f = FitsFile.fromBytes(bytes);
    const h = f.hdu(4);
    const region = bytes.subarray(h.headerOffset, h.dataOffset + h.paddedDataByteLength);
    expect(new Checksum().add(region).value).toBe(0xffffffff); // a valid HDU sums to -0
    const sizes = [1, 3, 7, 4096, 2, 5, 13];
    const sum = new Checksum();
    for (let p = 0, k = 0; p < region.length; k++) {
      const n = Math.min(sizes[k % sizes.length]!, region.length - p);
      const shifted = new Uint8Array(n + 3).subarray(3); // byteOffset 3: unaligned
      shifted.set(region.subarray(p, p + n));
      sum.add(shifted);
      p += n;
    }
    expect(sum.value).toBe(0xffffffff);
  });

  it('our reader reads our file back exactly', () => {
    const f = FitsFile.open(out);
    try {
      Object.entries(arrays).forEach(([name, a]) => {
        const img = readImage(f, name, { as: 'native' });
        expect(img.data.constructor.name, name).toBe(a.constructor.name);
        expect(Buffer.compare(bytesOf(img.data), bytesOf(a)), name).toBe(0);
      });
      const s = readImage(f, 'SCALED', { as: 'float64' }).data as Float64Array;
      expect(mismatches(s, scaledIn)).toBe(0);
    } finally {
      f.close();
    }
  });
});
