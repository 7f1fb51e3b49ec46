/**
 * Tile compression we write (src/fits/compress/compress-image.ts), decoded by independent readers:
 * astropy and cfitsio's funpack must give exactly the pixels our decoder gives (astropy 5.2 ignores
 * the ZBLANK keyword, so at NaN pixels of quantized images only funpack is checked), which are the input
 * pixels for integer and lossless float images, and within half a quantization step (NaN and, with
 * SUBTRACTIVE_DITHER_2, zeros exact) for quantized floats.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { FitsFile } from '../src/fits/file.js';
import { Header } from '../src/fits/header.js';
import { writeFits } from '../src/fits/write.js';
import { compressImage, type CompressImageOptions, type ImageArray } from '../src/fits/compress/compress-image.js';
import { decompressImage } from '../src/fits/compress/tiled.js';
import { hasAstropy, runPythonFile, warnNoAstropy } from './helpers/astropy.js';
import { repoRoot } from './helpers/shared.js';

warnNoAstropy('tile-compression writer tests (astropy/funpack oracles)');
const hasFunpack = spawnSync('sh', ['-c', 'command -v funpack'], { encoding: 'utf8' }).status === 0;
if (!hasFunpack) console.warn('SKIPPED tile-compression writer tests: funpack not found');
const SCRIPT = path.join(repoRoot, 'test/fixtures/make_compressed_fixtures.py');

let seed = 2024;
const rnd = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
const gauss = (): number => Math.sqrt(-2 * Math.log(Math.max(rnd(), 1e-12))) * Math.cos(2 * Math.PI * rnd());

function sky(w: number, h: number, noise: number): Float64Array {
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = 500 + 0.1 * x + 0.05 * y + noise * gauss() + (((x - 60) ** 2 + (y - 40) ** 2 < 30) ? 5000 : 0);
  return out;
}

interface WriteCase {
  name: string;
  data: ImageArray;
  axes: number[];
  opts: CompressImageOptions;
  lossy?: boolean;
}

function cases(): WriteCase[] {
  const w = 211;
  const h = 97;
  const base = sky(w, h, 8);
  const f32 = Float32Array.from(base);
  for (let i = 0; i < 200; i++) f32[Math.floor(rnd() * f32.length)] = NaN;
  const f32special = f32.slice();
  f32special.fill(Infinity, 0, w); // row 1 cannot be quantized -> lossless tile
  f32special.fill(NaN, 5 * w, 6 * w); // row 6 all NaN
  const f32zeros = f32.slice();
  f32zeros.fill(0, 20 * w, 25 * w);
  const i32 = Int32Array.from(base, (v) => Math.round(v * 1e5) - 50_000_000);
  i32[3] = -2147483648;
  i32[4] = 2147483647;
  return [
    { name: 'rice_i16', data: Int16Array.from(base, (v) => Math.round(v - 600)), axes: [w, h], opts: {} },
    { name: 'rice_i16_tiles', data: Int16Array.from(base, (v) => Math.round(v)), axes: [w, h], opts: { tile: [64, 30], blockSize: 16 } },
    { name: 'rice_u16', data: Uint16Array.from(base, (v) => Math.round(v * 10)), axes: [w, h], opts: {} },
    { name: 'rice_u8', data: Uint8Array.from(base, (v) => Math.min(255, Math.round(v / 4))), axes: [w, h], opts: {} },
    { name: 'gzip1_i8', data: Int8Array.from(base, (v) => Math.max(-128, Math.min(127, Math.round(v / 4) - 128))), axes: [w, h], opts: { type: 'GZIP_1' } },
    { name: 'rice_i32', data: i32, axes: [w, h], opts: { tile: [50, 50] } },
    { name: 'gzip2_i32', data: i32, axes: [w, h], opts: { type: 'GZIP_2' } },
    { name: 'gzip2_u32', data: Uint32Array.from(base, (v) => Math.round(v * 1e6)), axes: [w, h], opts: { type: 'GZIP_2', tile: [w, 10] } },
    { name: 'rice_cube', data: Int16Array.from({ length: 40 * 30 * 4 }, (_, i) => (i * 37) % 1000 - 500), axes: [40, 30, 4], opts: { tile: [16, 16, 3] } },
    { name: 'rice_f32_d1', data: f32, axes: [w, h], opts: { quantizeLevel: 4, dither0: 77 }, lossy: true },
    { name: 'rice_f32_special', data: f32special, axes: [w, h], opts: { quantizeLevel: 8, dither0: 9999 }, lossy: true },
    { name: 'gzip2_f32_d2', data: f32zeros, axes: [w, h], opts: { type: 'GZIP_2', quantizeMethod: 'SUBTRACTIVE_DITHER_2', dither0: 3 }, lossy: true },
    // Multi-row tiles without NaN: cfitsio 4.2's funpack misplaces pixels of multi-row quantized
    // tiles that contain null pixels (its own fpack -t 100,20 output of such an image does not
    // round-trip either), so NaNs are kept to row tiles here.
    { name: 'rice_f32_nodither_tiles', data: Float32Array.from(base), axes: [w, h], opts: { quantizeMethod: 'NO_DITHER', tile: [100, 20] }, lossy: true },
    { name: 'gzip1_f32_d1_tiles', data: Float32Array.from(base), axes: [w, h], opts: { type: 'GZIP_1', tile: [64, 64], dither0: 10000 }, lossy: true },
    { name: 'rice_f64_d1_abs', data: Float64Array.from(base), axes: [w, h], opts: { quantizeLevel: -0.5, dither0: 1234 }, lossy: true },
    { name: 'gzip1_f32_lossless', data: f32, axes: [w, h], opts: { type: 'GZIP_1', quantizeLevel: 0 } },
    { name: 'gzip2_f64_lossless', data: Float64Array.from(base), axes: [w, h], opts: { type: 'GZIP_2', quantizeLevel: 0, tile: [100, 50] } },
  ];
}

function readLE(file: string, dtype: string): ArrayLike<number> {
  const b = fs.readFileSync(file);
  const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  const ctor = ({ '|u1': Uint8Array, '|i1': Int8Array, '<i2': Int16Array, '<u2': Uint16Array, '<i4': Int32Array, '<u4': Uint32Array, '<f4': Float32Array, '<f8': Float64Array } as Record<string, new (b: ArrayBuffer) => ArrayLike<number>>)[dtype];
  if (!ctor) throw new Error(`dtype ${dtype}`);
  return new ctor(ab);
}

const same = (a: number, b: number): boolean => a === b || (Number.isNaN(a) && Number.isNaN(b));

describe.skipIf(!hasAstropy || !hasFunpack)('compressed images we write', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fits-cwrite-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const c of cases()) {
    it(`${c.name}: astropy and funpack decode exactly what we decode`, () => {
      const hdu = compressImage(c.data, c.axes, { ...c.opts, extname: 'SCI', header: new Header([{ key: 'OBJECT', value: c.name }]) });
      const file = path.join(dir, `${c.name}.fits`);
      writeFits(file, [{ header: new Header([{ key: 'BITPIX', value: 8 }, { key: 'NAXIS', value: 0 }]) }, hdu]);
      const f = FitsFile.open(file);
      const h = f.hdu(1);
      expect(h.type).toBe('compressed-image');
      const dec = decompressImage(h.header, f.readData(h));
      f.close();
      const bzero = h.header.getNumber('BZERO', 0);
      const ours = Float64Array.from(dec.data as ArrayLike<number>, (v) => v + bzero);
      // Against the input.
      if (!c.lossy) {
        let bad = 0;
        for (let i = 0; i < ours.length; i++) if (!same(ours[i], c.data[i])) bad++;
        expect(bad).toBe(0);
      } else {
        let worst = 0;
        for (let i = 0; i < ours.length; i++) {
          const x = c.data[i];
          if (!Number.isFinite(x)) {
            expect(same(ours[i], x) || Number.isNaN(x), `pixel ${i}`).toBe(true);
            continue;
          }
          worst = Math.max(worst, Math.abs(ours[i] - x));
        }
        // Quantization error is at most half a step; steps are about noise / level (noise 8).
        const level = c.opts.quantizeLevel ?? 4;
        const step = level > 0 ? 8 / level : -level;
        expect(worst).toBeLessThanOrEqual(0.75 * step);
        if (c.opts.quantizeMethod === 'SUBTRACTIVE_DITHER_2') for (let i = 20 * 211; i < 25 * 211; i++) expect(ours[i]).toBe(0);
        if (c.name === 'rice_f32_special') for (let i = 0; i < 211; i++) expect(ours[i]).toBe(Infinity);
      }
      // Independent decoders.
      const prefix = path.join(dir, c.name);
      const meta = JSON.parse(runPythonFile(SCRIPT, ['decode', file, prefix])) as { dtype: string; funpack_dtype: string; shape: number[] };
      expect(meta.shape).toEqual([...c.axes].reverse());
      for (const [which, dtype] of [
        ['astropy', meta.dtype],
        ['funpack', meta.funpack_dtype],
      ] as const) {
        const ref = readLE(`${prefix}.${which}.bin`, dtype);
        let bad = 0;
        let first = -1;
        for (let i = 0; i < ref.length; i++) {
          const o = dtype === '<f4' ? Math.fround(ours[i]) : ours[i];
          // astropy 5.2 ignores ZBLANK, so at null (NaN) pixels only funpack is an oracle; cfitsio
          // returns every IEEE special value (here +Inf of a lossless tile) as undefined (NaN).
          if (which === 'astropy' && c.lossy && Number.isNaN(c.data[i]) && Number.isNaN(o)) continue;
          if (which === 'funpack' && !Number.isFinite(c.data[i]) && Number.isNaN(ref[i])) continue;
          if (!same(o, ref[i])) {
            bad++;
            if (first < 0) first = i;
          }
        }
        expect(bad, `${which}: first difference at ${first}: ours ${ours[first]} vs ${ref[first]}`).toBe(0);
      }
    });
  }
});
