/**
 * Every file under ../shared/data/real against the astropy oracle real/MANIFEST.json: HDU types,
 * names, shapes, scaling keywords, and pixel statistics (sum with relative tolerance 1e-9, everything
 * else exact). When astropy is available, every pixel is also compared with astropy's own array.
 */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FitsFile, readImage, compressedImagesSupported, type Hdu } from '../src/fits/index.js';
import { hasShared, loadManifest, realData, repoRoot, warnNoShared, type ManifestHdu } from './helpers/shared.js';
import { hasAstropy, runPython, warnNoAstropy } from './helpers/astropy.js';

warnNoShared('FITS manifest tests');
warnNoAstropy('FITS per-pixel comparison with astropy on real files');

/**
 * Tile-compressed HDUs are decoded by the compression module (src/fits/compress); until it registers
 * its reader with readImage, their pixel checks are skipped with a message.
 */
const CHECK_COMPRESSED = compressedImagesSupported();
if (!CHECK_COMPRESSED) console.warn('SKIPPED manifest pixel checks of tile-compressed HDUs: no compressed-image reader registered yet');

const TYPE_MAP: Record<string, Hdu['type']> = {
  PrimaryHDU: 'image',
  ImageHDU: 'image',
  CompImageHDU: 'compressed-image',
  BinTableHDU: 'bintable',
  TableHDU: 'table',
};

/** Statistics as the manifest defines them: over finite pixels; first/last/pixel(2,2) raw. */
function stats(data: ArrayLike<number>, width: number) {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  let nonfinite = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) {
      nonfinite++;
      continue;
    }
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { sum, min, max, nonfinite, first: data[0]!, last: data[data.length - 1]!, p22: data[width + 1]! };
}

/** Exact equality that treats NaN as equal to NaN. */
function same(a: number, b: number | undefined): boolean {
  return b !== undefined && (Number.isNaN(b) ? Number.isNaN(a) : a === b);
}

const manifest = hasShared ? loadManifest() : {};
const entries = Object.entries(manifest).sort(([a], [b]) => (a < b ? -1 : 1));

describe.skipIf(!hasShared)('real files vs MANIFEST.json', () => {
  it('manifest lists every FITS file present under real/', () => {
    const files = fs
      .readdirSync(realData, { recursive: true })
      .map(String)
      .filter((f) => /\.fits(\.gz)?$/.test(f))
      .sort();
    expect(files.length).toBeGreaterThan(20);
    expect(entries.map(([f]) => f)).toEqual(files);
  });

  for (const [rel, hdus] of entries) {
    describe(rel, () => {
      it('HDU structure (count, types, names, shapes, scaling keywords)', () => {
        const file = FitsFile.open(path.join(realData, rel));
        try {
          expect(file.count).toBe(hdus.length);
          for (const m of hdus) {
            const h = file.hdu(m.index);
            expect(h.type, `HDU ${m.index} type`).toBe(TYPE_MAP[m.type]);
            if (m.index > 0) expect(h.name).toBe(m.name);
            if (m.shape) expect([...h.shape]).toEqual(m.shape);
            else if (m.type === 'PrimaryHDU') expect(h.dataByteLength).toBe(0);
            if (m.nrows !== undefined && m.columns) {
              expect(h.axes[1]).toBe(m.nrows);
              expect(h.header.getInt('TFIELDS')).toBe(m.columns.length);
              m.columns.forEach(([name, form], i) => {
                expect(h.header.getString(`TTYPE${i + 1}`)).toBe(name);
                expect(h.header.getString(`TFORM${i + 1}`)!.trim().replace(/^1(?=\D)/, '')).toBe(form);
              });
            }
            if (m.bitpix !== undefined && m.type !== 'CompImageHDU') checkScalingKeywords(h, m);
          }
        } finally {
          file.close();
        }
      });

      for (const m of hdus.filter((e) => e.shape && e.sum !== undefined)) {
        const compressed = m.type === 'CompImageHDU';
        it.skipIf(compressed && !CHECK_COMPRESSED)(`HDU ${m.index} pixels${compressed ? ` (${m.compression})` : ''}`, () => {
          const file = FitsFile.open(path.join(realData, rel));
          try {
            const img = readImage(file, m.index);
            expect([img.height, img.width]).toEqual(m.shape);
            const d = img.data as Float32Array | Float64Array;
            const s = stats(d, img.width);
            expect(s.nonfinite).toBe(m.n_nonfinite);
            expect(Math.abs(s.sum - m.sum!) / Math.max(1, Math.abs(m.sum!))).toBeLessThan(1e-9);
            expect(same(s.min, m.min), `min ${s.min} vs ${m.min}`).toBe(true);
            expect(same(s.max, m.max), `max ${s.max} vs ${m.max}`).toBe(true);
            expect(same(s.first, m.first), `first ${s.first} vs ${m.first}`).toBe(true);
            expect(same(s.last, m.last), `last ${s.last} vs ${m.last}`).toBe(true);
            expect(same(s.p22, m.pixel_2_2), `pixel(2,2) ${s.p22} vs ${m.pixel_2_2}`).toBe(true);
          } finally {
            file.close();
          }
        });
      }
    });
  }
});

/**
 * The manifest records the header after astropy loaded the data: for scaled 8/16-bit (or float)
 * data astropy rewrites BITPIX to -32 and drops BSCALE/BZERO. Either our header shows the same
 * BITPIX/BZERO/BSCALE, or it holds a scaling that explains astropy's float BITPIX.
 */
function checkScalingKeywords(h: Hdu, m: ManifestHdu): void {
  const bzero = h.header.has('BZERO') ? h.header.getNumber('BZERO')! : null;
  const bscale = h.header.has('BSCALE') ? h.header.getNumber('BSCALE')! : null;
  if (h.bitpix === m.bitpix) {
    expect(bzero).toBe(m.bzero ?? null);
    expect(bscale).toBe(m.bscale ?? null);
  } else {
    const scaled = (bscale !== null && bscale !== 1) || (bzero !== null && bzero !== 0);
    expect(scaled, `BITPIX ${h.bitpix} vs astropy ${m.bitpix} without scaling`).toBe(true);
    expect(m.bitpix).toBe(Math.abs(h.bitpix) <= 16 ? -32 : -64);
  }
}

const cacheDir = path.join(repoRoot, 'test/.cache/real-pixels');

describe.skipIf(!hasShared || !hasAstropy)('real files: every pixel equals astropy', () => {
  const images = entries.flatMap(([rel, hdus]) =>
    hdus.filter((m) => m.shape && m.sum !== undefined && m.type !== 'CompImageHDU').map((m) => ({ rel, index: m.index })),
  );

  it('dumps astropy arrays', () => {
    fs.mkdirSync(cacheDir, { recursive: true });
    const py = `
import sys, json, os, numpy as np
from astropy.io import fits
root, out, items = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
for i, (rel, idx) in enumerate(items):
    with fits.open(os.path.join(root, rel), memmap=False) as f:
        np.asarray(f[idx].data, dtype='<f8').tofile(os.path.join(out, f'{i}.bin'))
print(len(items))
`;
    const n = runPython(py, [realData, cacheDir, JSON.stringify(images.map((e) => [e.rel, e.index]))]);
    expect(Number(n)).toBe(images.length);
  });

  images.forEach(({ rel, index }, i) => {
    it(`${rel} HDU ${index}`, () => {
      const buf = fs.readFileSync(path.join(cacheDir, `${i}.bin`));
      const want = new Float64Array(buf.buffer, buf.byteOffset, buf.length / 8);
      const file = FitsFile.open(path.join(realData, rel));
      try {
        const got = readImage(file, index).data as Float32Array | Float64Array;
        expect(got.length).toBe(want.length);
        let bad = 0;
        let firstBad = -1;
        for (let k = 0; k < want.length; k++) {
          if (!same(got[k]!, want[k])) {
            if (firstBad < 0) firstBad = k;
            bad++;
          }
        }
        expect(bad, `first mismatch at ${firstBad}: ${got[firstBad]} vs ${want[firstBad]}`).toBe(0);
      } finally {
        file.close();
      }
    });
  });
});
