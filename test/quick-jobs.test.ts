/**
 * lsst-quick --jobs N over a multi-extension file: this thread plus N - 1 workers share the HDUs, and the catalog
 * is byte-identical to the one-thread run whatever N (every HDU's result lands in its own slot).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Header } from '../src/fits/header.js';
import { imageHdu, writeFits } from '../src/fits/write.js';
import { defaultConfig } from '../src/pipeline/config.js';
import { runQuick } from '../src/quick/run.js';
import { simulateCcd } from '../src/sim/index.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'quick-jobs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('lsst-quick --jobs over HDUs', () => {
  it('writes the same bytes with 1, 2 and 3 lanes, and the HDUs in file order', async () => {
    const mef = path.join(tmp, 'mef.fits');
    const ccds = [3, 5, 8, 13, 21].map((seed) => simulateCcd({ seed, width: 400, height: 360, stars: { count: 60 + 20 * seed, magMin: 16, magMax: 22, slope: 0.12 }, galaxies: { count: 20, magMin: 19, magMax: 23 } }));
    writeFits(mef, [{ header: new Header().set('BITPIX', 8).set('NAXIS', 0) }, ...ccds.map((c, k) => imageHdu(c.image.data, { width: c.image.width, extname: `CCD${k}` }))]);
    const bytes: Buffer[] = [];
    const counts: number[][] = [];
    for (const jobs of [1, 2, 3]) {
      // the same catalog name every time: it is part of the recorded configuration
      const out = path.join(tmp, 'mef.cat.fits');
      const s = await runQuick({ input: mef, config: { ...defaultConfig(), CATALOG_NAME: out }, jobs });
      bytes.push(readFileSync(out));
      counts.push(s.hdus.map((h) => h.objects));
    }
    // independent check of the order: each HDU alone
    const alone: number[] = [];
    for (const [k, c] of ccds.entries()) {
      const one = path.join(tmp, `one${k}.fits`);
      writeFits(one, [imageHdu(c.image.data, { width: c.image.width })]);
      alone.push((await runQuick({ input: one, config: { ...defaultConfig(), CATALOG_NAME: path.join(tmp, `one${k}.cat.fits`) } })).hdus[0].objects);
    }
    expect(counts[0]).toEqual(alone);
    expect(alone.every((n) => n > 10)).toBe(true);
    expect(new Set(alone).size).toBeGreaterThan(1);
    expect(counts[1]).toEqual(counts[0]);
    expect(counts[2]).toEqual(counts[0]);
    expect(bytes[1].equals(bytes[0])).toBe(true);
    expect(bytes[2].equals(bytes[0])).toBe(true);
  }, 120_000);
});
