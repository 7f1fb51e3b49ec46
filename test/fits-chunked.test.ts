/**
 * Images whose pixels need converting (integers, BSCALE/BZERO, BLANK) are decoded a few rows at a time straight
 * into the output array (src/fits/image.ts, chunks of 1 MiB of stored bytes). Checked against astropy's scaled
 * values on files astropy writes, larger than one chunk and with a last chunk shorter than the others, whole and
 * by row ranges that start and end inside chunks.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FitsFile } from '../src/fits/file.js';
import { readImage, readImageRows } from '../src/fits/image.js';
import { hasAstropy, runPython, warnNoAstropy } from './helpers/astropy.js';

warnNoAstropy('fits-chunked (astropy writes the files and gives the expected values)');
const tmp = mkdtempSync(path.join(tmpdir(), 'fits-chunked-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// width 1500: a 16-bit row is 3000 bytes, 349 rows per chunk, so 700 rows are 3 chunks (349, 349, 2)
const CASES = [
  { name: 'int16 BSCALE 0.5 BZERO 100 BLANK', dtype: 'int16', bitpix: 16, scale: "h.header['BSCALE'] = 0.5; h.header['BZERO'] = 100; h.header['BLANK'] = -32768" },
  { name: 'uint16 (BZERO 32768)', dtype: 'uint16', bitpix: 16, scale: '' },
  { name: 'int32 BSCALE 2.5', dtype: 'int32', bitpix: 32, scale: "h.header['BSCALE'] = 2.5" },
  { name: 'float32 BZERO 3', dtype: 'float32', bitpix: -32, scale: "h.header['BZERO'] = 3.0" },
];

describe.skipIf(!hasAstropy)('chunked decoding of converted pixels', () => {
  for (const c of CASES) {
    it(`${c.name}: whole image and row ranges equal astropy's values`, () => {
      const file = path.join(tmp, `${c.dtype}.fits`);
      const expected = path.join(tmp, `${c.dtype}.f64`);
      runPython(
        `
import sys, numpy as np
from astropy.io import fits
rng = np.random.default_rng(7)
info = np.iinfo(np.${c.dtype}) if np.dtype('${c.dtype}').kind in 'iu' else None
if info is not None:
    d = rng.integers(info.min, info.max, size=(700, 1500), endpoint=True, dtype=np.int64).astype(np.${c.dtype})
else:
    d = rng.normal(0, 1000, size=(700, 1500)).astype(np.${c.dtype})
if '${c.dtype}' == 'int16':
    d[5, 7] = -32768; d[699, 1499] = -32768
h = fits.PrimaryHDU(d)
${c.scale}
h.writeto(sys.argv[1], overwrite=True)
v = fits.getdata(sys.argv[1]).astype(np.float64)  # astropy applies BSCALE/BZERO and turns BLANK into NaN
v.astype('<f8').tofile(sys.argv[2])
`,
        [file, expected],
      );
      const want = new Float64Array(readFileSync(expected).buffer.slice(0));
      expect(want.length).toBe(700 * 1500);
      const f = FitsFile.open(file);
      try {
        const h = f.hdus[0];
        expect(h.bitpix).toBe(c.bitpix);
        const f64 = readImage(f, 0, { as: 'float64' });
        const f32 = readImage(f, 0, { as: 'float32' });
        expect(f64.data.length).toBe(want.length);
        // astropy scales float32 data in float32; we scale into the output's precision
        const tol64 = c.bitpix === -32 ? 2e-7 : 1e-9;
        let bad64 = 0;
        let bad32 = 0;
        for (let i = 0; i < want.length; i++) {
          const w = want[i];
          const a = f64.data[i] as number;
          const b = f32.data[i] as number;
          if (Number.isNaN(w) ? !Number.isNaN(a) : Math.abs(a - w) > tol64 * Math.max(1, Math.abs(w))) bad64++;
          if (Number.isNaN(w) ? !Number.isNaN(b) : Math.abs(b - w) > 2e-7 * Math.max(1, Math.abs(w))) bad32++;
        }
        expect(bad64).toBe(0);
        expect(bad32).toBe(0);
        if (c.dtype === 'int16') expect(Number.isNaN(f64.data[5 * 1500 + 7] as number)).toBe(true);
        // row ranges starting and ending inside chunks: the same values as the whole image's
        for (const [y0, ny] of [[100, 500], [348, 3], [0, 1], [699, 1]]) {
          const part = readImageRows(f, 0, y0, ny, { as: 'float64' });
          expect(part.data.length).toBe(ny * 1500);
          let diff = 0;
          for (let i = 0; i < part.data.length; i++) {
            const a = part.data[i] as number;
            const w = f64.data[y0 * 1500 + i] as number;
            if (!(a === w || (Number.isNaN(a) && Number.isNaN(w)))) diff++;
          }
          expect(diff, `rows ${y0}..${y0 + ny - 1}`).toBe(0);
        }
      } finally {
        f.close();
      }
    }, 60_000);
  }
});
