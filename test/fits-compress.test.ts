/**
 * Tile-compressed images (src/fits/compress) against independent decoders:
 *  - fixtures made at test time by test/fixtures/make_compressed_fixtures.py: astropy CompImageHDU
 *    (RICE_1, GZIP_1, GZIP_2, PLIO_1, HCOMPRESS_1; int8..int32, uint8/uint16, float32/float64;
 *    dithers 1, 2 and none, lossless floats, NaNs, odd sizes, 1-D / 3-D, non-default tiles) decoded by
 *    astropy, and cfitsio's fpack (-r, -g, -g2, -p, -h, -s, -d, -q, -qz, -q0, -w, -i2f) decoded by
 *    cfitsio's funpack. Every pixel must be bit-identical (NaN-aware);
 *  - the real RICE_1 files in ../shared/data/real against MANIFEST.json (astropy statistics);
 *  - corrupt inputs give located FitsErrors, never hangs.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FitsError } from '../src/fits/errors.js';
import { FitsFile } from '../src/fits/file.js';
import { Header } from '../src/fits/header.js';
import { readImage, readImageRows } from '../src/fits/image.js';
import { readCompressedImage } from '../src/fits/compress/reader.js';
import { decompressImage, type TilePixels } from '../src/fits/compress/tiled.js';
import { imageHeaderFromCompressed } from '../src/fits/compress/params.js';
import { ditherSequence } from '../src/fits/compress/dither.js';
import { riceDecode, riceEncode } from '../src/fits/compress/rice.js';
import { plioDecode } from '../src/fits/compress/plio.js';
import { hasAstropy, runPythonFile, warnNoAstropy } from './helpers/astropy.js';
import { hasShared, loadManifest, realData, repoRoot, warnNoShared } from './helpers/shared.js';

warnNoAstropy('tile-compression fixture tests');
warnNoShared('tile-compressed real-data tests');

const SCRIPT = path.join(repoRoot, 'test/fixtures/make_compressed_fixtures.py');
const scriptHash = createHash('sha256').update(fs.readFileSync(SCRIPT)).digest('hex').slice(0, 12);
const FIX = path.join(repoRoot, 'test/.cache', `compressed-${scriptHash}`);

interface Case {
  name: string;
  file: string;
  hdu: number;
  dtype: string;
  shape: number[];
  source: string;
  zcmptype: string;
  zquantiz: string | null;
  bzero: number | null;
  bscale: number | null;
  astropy_bin?: string;
}

function loadCases(): Case[] {
  const man = path.join(FIX, 'manifest.json');
  return fs.existsSync(man) ? (JSON.parse(fs.readFileSync(man, 'utf8')) as Case[]) : [];
}

const DTYPES: Record<string, new (b: ArrayBuffer) => ArrayLike<number>> = {
  '|u1': Uint8Array,
  '|i1': Int8Array,
  '<i2': Int16Array,
  '<u2': Uint16Array,
  '<i4': Int32Array,
  '<u4': Uint32Array,
  '<f4': Float32Array,
  '<f8': Float64Array,
};

function readBin(file: string, dtype: string): ArrayLike<number> {
  const b = fs.readFileSync(file);
  const ctor = DTYPES[dtype];
  if (!ctor) throw new Error(`dtype ${dtype} not handled`);
  return new ctor(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Physical values of decoded stored pixels, in the oracle's dtype (float32 rounding when it is float32). */
function physical(data: TilePixels, c: Case): Float64Array {
  const s = c.bscale ?? 1;
  const z = c.bzero ?? 0;
  const f32 = c.dtype === '<f4';
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]) * s + z;
    out[i] = f32 ? Math.fround(v) : v;
  }
  return out;
}

/** Count of differing pixels (bitwise for floats via ===, NaN equal to NaN) and the first difference. */
function compare(ours: ArrayLike<number>, ref: ArrayLike<number>): { bad: number; first: number } {
  let bad = 0;
  let first = -1;
  for (let i = 0; i < ref.length; i++) {
    const a = ours[i];
    const b = ref[i];
    if (!(a === b || (Number.isNaN(a) && Number.isNaN(b)))) {
      if (first < 0) first = i;
      bad++;
    }
  }
  return { bad, first };
}

function open(c: Case): { file: FitsFile; header: Header; data: Uint8Array } {
  const file = FitsFile.open(path.join(FIX, c.file));
  const h = file.hdu(c.hdu);
  return { file, header: h.header, data: file.readData(h) };
}

const cases = loadCases();

describe.skipIf(!hasAstropy)('tile-compressed fixtures vs astropy / funpack', () => {
  let all: Case[] = cases;
  beforeAll(() => {
    if (all.length === 0) {
      runPythonFile(SCRIPT, [FIX], 240_000);
      all = loadCases();
    }
  });

  it('covers every algorithm, both oracles and all pixel types', () => {
    const types = new Set(all.map((c) => c.zcmptype.replace('RICE_ONE', 'RICE_1')));
    expect([...types].sort()).toEqual(['GZIP_1', 'GZIP_2', 'HCOMPRESS_1', 'NOCOMPRESS', 'PLIO_1', 'RICE_1']);
    expect(new Set(all.map((c) => c.source))).toEqual(new Set(['astropy', 'fpack']));
    expect(new Set(all.map((c) => c.zquantiz))).toEqual(new Set([null, 'SUBTRACTIVE_DITHER_1', 'SUBTRACTIVE_DITHER_2', 'NO_DITHER', 'NONE']));
    expect(all.length).toBeGreaterThanOrEqual(50);
  });

  it('decodes every fixture bit-identically to its oracle', () => {
    const failures: string[] = [];
    for (const c of all) {
      const { file, header, data } = open(c);
      try {
        const img = decompressImage(header, data);
        const ref = readBin(path.join(FIX, `${c.name}.bin`), c.dtype);
        expect(img.data.length, c.name).toBe(ref.length);
        const { bad, first } = compare(physical(img.data, c), ref);
        if (bad) failures.push(`${c.name}: ${bad} pixels differ, first at ${first} (ours ${img.data[first]}, oracle ${ref[first]})`);
      } finally {
        file.close();
      }
    }
    expect(failures).toEqual([]);
  });

  it('null pixels: ZBLANK-flagged (fpack) and lossless fallback tiles (NaN / Inf rows) survive', () => {
    const get = (name: string): { c: Case; data: Float32Array } => {
      const c = all.find((x) => x.name === name)!;
      const { file, header, data } = open(c);
      const img = decompressImage(header, data);
      file.close();
      return { c, data: img.data as Float32Array };
    };
    const q4 = get('fpack_q4_f32');
    const ref = readBin(path.join(FIX, `${q4.c.name}.bin`), q4.c.dtype);
    let nanOurs = 0;
    let nanRef = 0;
    for (let i = 0; i < ref.length; i++) {
      if (Number.isNaN(q4.data[i])) nanOurs++;
      if (Number.isNaN(ref[i])) nanRef++;
    }
    expect(nanRef).toBeGreaterThan(300);
    expect(nanOurs).toBe(nanRef);
    const sp = get('rice_f32_special_tiles');
    const w = sp.c.shape[1];
    for (let x = 0; x < w; x++) {
      expect(sp.data[x]).toBeNaN();
      expect(sp.data[40 * w + x]).toBe(Infinity);
    }
  });

  it('astropy 5.2 itself differs from funpack only at the null pixels of fpack files (known astropy limitation)', () => {
    const c = all.find((x) => x.name === 'fpack_q4_f32')!;
    const ref = readBin(path.join(FIX, `${c.name}.bin`), c.dtype);
    const ap = readBin(path.join(FIX, c.astropy_bin!), c.dtype);
    let nanOnly = true;
    let diff = 0;
    for (let i = 0; i < ref.length; i++) {
      if (ref[i] === ap[i]) continue;
      diff++;
      if (!Number.isNaN(ref[i])) nanOnly = false;
    }
    expect(diff).toBeGreaterThan(0);
    expect(nanOnly).toBe(true);
  });

  it('SUBTRACTIVE_DITHER_2 restores exact zeros', () => {
    const c = all.find((x) => x.name === 'rice_f32_d2')!;
    const { file, header, data } = open(c);
    const img = decompressImage(header, data).data as Float32Array;
    file.close();
    const w = c.shape[1];
    for (let y = 30; y < 50; y++) for (let x = 30; x < 80; x++) expect(img[y * w + x]).toBe(0);
  });

  it('row bands decode only the needed tiles and equal the whole-image rows', () => {
    for (const name of ['rice_i16_tile100', 'rice_f32_d1_tile100', 'rice_i16_cube_tile3d', 'hcomp_i16', 'fpack_w_f32', 'plio_i16_tile']) {
      const c = all.find((x) => x.name === name)!;
      const { file, header, data } = open(c);
      const whole = decompressImage(header, data);
      const rows = whole.height;
      for (const [r0, r1] of [
        [0, 1],
        [37, 151],
        [rows - 3, rows],
        [5, 5],
      ]) {
        if (r1 > rows) continue;
        const band = decompressImage(header, data, { rows: [r0, r1] });
        expect(band.height).toBe(r1 - r0);
        const w = whole.width;
        expect(compare(physical(band.data, c), physical(whole.data.subarray(r0 * w, r1 * w), c)).bad, `${name} ${r0}..${r1}`).toBe(0);
      }
      file.close();
    }
  });

  it('readImage / readImageRows decode compressed HDUs with BZERO applied like astropy', () => {
    const c = all.find((x) => x.name === 'rice_u16')!;
    const file = FitsFile.open(path.join(FIX, c.file));
    const ref = readBin(path.join(FIX, `${c.name}.bin`), c.dtype);
    const img = readCompressedImage(file, file.hdu(1), 0, c.shape[0], { as: 'native' });
    expect(img.data).toBeInstanceOf(Uint16Array);
    expect(compare(img.data as Uint16Array, ref).bad).toBe(0);
    expect(img.header.getInt('BITPIX')).toBe(16);
    expect(img.header.getInt('NAXIS1')).toBe(c.shape[1]);
    expect(img.header.has('ZIMAGE')).toBe(false);
    const f = readImage(file, 1, { as: 'float32' });
    expect(compare(f.data as Float32Array, ref).bad).toBe(0);
    const band = readImageRows(file, 1, 10, 20, { as: 'float64' });
    expect(compare(band.data as Float64Array, Array.from(ref).slice(10 * c.shape[1], 30 * c.shape[1])).bad).toBe(0);
    file.close();
  });

  it('reconstructs the image header', () => {
    const c = all.find((x) => x.name === 'rice_i16_cube')!;
    const { file, header } = open(c);
    const h = imageHeaderFromCompressed(header);
    file.close();
    expect(h.getString('XTENSION')).toBe('IMAGE');
    expect([h.getInt('NAXIS'), h.getInt('NAXIS1'), h.getInt('NAXIS2'), h.getInt('NAXIS3')]).toEqual([3, 70, 60, 5]);
    expect(h.keys().filter((k) => /^(Z|T(FORM|TYPE))/.test(k))).toEqual([]);
  });

  it('corrupt tiles give a FitsError naming file, HDU and tile, never a hang', () => {
    const c = all.find((x) => x.name === 'fpack_r_i16')!;
    const { file, header, data } = open(c);
    header.where = { file: c.file, hdu: 1 };
    file.close();
    // Truncated heap.
    expect(() => decompressImage(header, data.subarray(0, data.length - 100))).toThrow(FitsError);
    // Garbage in every compressed byte of tile 3 (after its first pixel).
    const info = decompressImage(header, data).info;
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const row = 2 * info.layout.rowBytes + info.compressedCol!.offset;
    const count = dv.getInt32(row, false);
    const offset = dv.getInt32(row + 4, false);
    const bad = data.slice();
    bad.fill(0xff, info.layout.heapOffset + offset + 2, info.layout.heapOffset + offset + count);
    let err: unknown;
    try {
      decompressImage(header, bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FitsError);
    expect((err as FitsError).message).toMatch(new RegExp(`^${c.file}, HDU 1: tile 3: `));
    // Descriptor pointing past the heap.
    const bad2 = data.slice();
    new DataView(bad2.buffer).setInt32(row + 4, info.layout.heapSize, false);
    expect(() => decompressImage(header, bad2)).toThrow(/tile 3: .*outside/);
    // Random corruption: always either a FitsError or a finished decode.
    let seed = 12345;
    const rand = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let k = 0; k < 30; k++) {
      const b = data.slice();
      for (let j = 0; j < 20; j++) b[info.layout.heapOffset + Math.floor(rand() * info.layout.heapSize)] = Math.floor(rand() * 256);
      try {
        decompressImage(header, b);
      } catch (e) {
        expect(e).toBeInstanceOf(FitsError);
      }
    }
  });

  it('refuses headers claiming far more pixels than the data can hold', () => {
    const c = all.find((x) => x.name === 'rice_i32_1d')!;
    const { file, header, data } = open(c);
    file.close();
    const h = header.clone();
    h.set('ZNAXIS1', 4_000_000_000);
    h.set('ZTILE1', 4_000_000_000);
    expect(() => decompressImage(h, data)).toThrow(/implausibly large/);
    // A band of one row of an image whose single tile claims 333 x 1e12 pixels.
    const h2 = header.clone();
    h2.set('ZNAXIS', 2);
    h2.set('ZNAXIS2', 1e12);
    h2.set('ZTILE2', 1e12);
    expect(() => decompressImage(h2, data, { rows: [0, 1] })).toThrow(/implausibly large/);
  });
});

describe.skipIf(!hasShared)('real tile-compressed files vs MANIFEST.json', () => {
  it('decam N6 and mosaic3 RICE_1 HDUs match astropy statistics exactly', () => {
    const man = loadManifest();
    let checked = 0;
    for (const [rel, hdus] of Object.entries(man)) {
      for (const m of hdus) {
        if (m.type !== 'CompImageHDU') continue;
        const file = FitsFile.open(path.join(realData, rel));
        const img = readCompressedImage(file, file.hdu(m.index), 0, m.shape![0], { as: 'float64' });
        file.close();
        const d = img.data as Float64Array;
        expect([img.height, img.width], rel).toEqual(m.shape);
        let sum = 0;
        let min = Infinity;
        let max = -Infinity;
        let nonfinite = 0;
        for (const v of d) {
          if (!Number.isFinite(v)) {
            nonfinite++;
            continue;
          }
          sum += v;
          if (v < min) min = v;
          if (v > max) max = v;
        }
        expect(nonfinite, rel).toBe(m.n_nonfinite);
        expect(Math.abs(sum - m.sum!), rel).toBeLessThanOrEqual(1e-12 * Math.abs(m.sum!) + 1e-9);
        expect([min, max, d[0], d[d.length - 1], d[img.width + 1]], rel).toEqual([m.min, m.max, m.first, m.last, m.pixel_2_2]);
        checked++;
      }
    }
    expect(checked).toBe(6);
  });
});

describe('codec units', () => {
  it('dither sequence: Park-Miller from seed 1 reaches 1043618065 after 10000 draws', () => {
    const r = ditherSequence(); // throws if the final seed is wrong
    expect(r.length).toBe(10000);
    expect(r[0]).toBe(Math.fround(16807 / 2147483647));
    expect(r[1]).toBe(Math.fround(282475249 / 2147483647));
  });

  it('Rice: encode/decode round trip for BYTEPIX 1, 2, 4 incl. low- and high-entropy blocks', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (const bytepix of [1, 2, 4]) {
      const n = 1000;
      const v = new Int32Array(n);
      const span = bytepix === 1 ? 256 : bytepix === 2 ? 65536 : 2 ** 32;
      for (let i = 0; i < n; i++) {
        if (i < 100) v[i] = 5; // constant: low entropy
        else if (i < 300) v[i] = Math.floor(rnd() * span) - (bytepix === 1 ? 0 : span / 2); // full range: high entropy
        else v[i] = (bytepix === 1 ? 100 : 1000) + Math.floor(rnd() * 20);
      }
      for (const bs of [16, 32]) {
        const enc = riceEncode(v, n, bytepix, bs);
        const dec = new Int32Array(n);
        riceDecode(enc, n, bytepix, bs, dec);
        expect(Array.from(dec)).toEqual(Array.from(v));
        expect(() => riceDecode(enc.subarray(0, enc.length >> 1), n, bytepix, bs, dec)).toThrow(RangeError);
      }
    }
  });

  it('PLIO: decodes a hand-written line list (header, runs, set/increment high value)', () => {
    // 7-word header (total length 7 + 7 = 14 words), then: ZN 3, SH pv = 2*4096 + 5, HN 2, IS +1, PN 3, DS -2
    const words = [0, 7, -100, 14, 0, 0, 0, 0x0003, 0x1005, 2, 0x4002, 0x6001, 0x5003, 0x7002];
    const bytes = new Uint8Array(words.length * 2);
    words.forEach((w, i) => new DataView(bytes.buffer).setInt16(2 * i, w, false));
    const out = new Int32Array(14);
    plioDecode(bytes, 14, out);
    const pv = 2 * 4096 + 5;
    expect(Array.from(out)).toEqual([0, 0, 0, pv, pv, pv + 1, 0, 0, pv + 1, pv - 1, 0, 0, 0, 0]);
  });
});
