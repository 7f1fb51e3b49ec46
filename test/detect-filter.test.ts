/**
 * Detection filter: .conv parsing, Gaussian kernels vs SExtractor's distributed gauss_*.conv files, and the
 * filtered image (edges included) and detections vs source-extractor's FILTERED/SEGMENTATION check images.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { convolve, detectSources, gaussianKernel, loadConv, parseConv, resolveFilter } from '../src/detect/index.js';
import { UserError } from '../src/util/errors.js';
import { CACHE, REPO, astropyImage, hasAstropy, hasSextractor, runSextractor } from './helpers/oracle.js';

const SHARED = path.resolve(REPO, '../shared/data');
const hasShared = existsSync(path.join(SHARED, 'real'));
const CONF = '/usr/share/source-extractor';
const hasConf = existsSync(path.join(CONF, 'gauss_2.0_3x3.conv'));
if (!hasConf) console.warn(`detect-filter.test: ${CONF} (source-extractor's filters) absent: kernel-file comparisons SKIPPED`);
if (!hasShared || !hasAstropy || !hasSextractor)
  console.warn('detect-filter.test: ../shared, astropy or source-extractor missing: FILTERED comparisons SKIPPED');

describe('convolution masks', () => {
  it('parses CONV NORM / NONORM / bare CONV files and rejects bad ones', () => {
    const d = parseConv('CONV NORM\n# comment\n1 2 1\n2 4 2\n1 2 1\n');
    expect([d.width, d.height]).toEqual([3, 3]);
    expect(Array.from(d.data)).toEqual([1, 2, 1, 2, 4, 2, 1, 2, 1].map((v) => Math.fround(v / 16)));
    expect(Array.from(resolveFilter('default')!.data)).toEqual(Array.from(d.data));
    expect(Array.from(parseConv('CONV NONORM\n1 -2\n3 4 # trailing comment\n').data)).toEqual([1, -2, 3, 4]);
    // a bare CONV header normalises (as SExtractor assumes); NORM divides by the sum of absolute values
    expect(Array.from(parseConv('CONV\n2 2\n').data)).toEqual([0.5, 0.5]);
    expect(Array.from(parseConv('CONV NORM\n-1 3\n').data)).toEqual([-0.25, 0.75]);
    expect(() => parseConv('1 2 1\n')).toThrow(UserError);
    expect(() => parseConv('CONV NORM\n1 2 1\n2 4\n')).toThrow(/rectangle/);
    expect(() => parseConv('CONV NORM\n1 x 1\n')).toThrow(/bad mask value/);
    expect(resolveFilter('none')).toBeNull();
    expect(() => resolveFilter('gaussian:-1')).toThrow(UserError);
    expect(() => loadConv(path.join(CACHE, 'no-such.conv'))).toThrow(UserError);
  });

  it.skipIf(!hasConf)("gaussian:FWHM has the size and shape of SExtractor's gauss_FWHM_NxN.conv", () => {
    const files = readdirSync(CONF).filter((f) => /^gauss_[0-9.]+_\d+x\d+\.conv$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(6);
    const smallest = new Map<number, string>();
    for (const f of files) {
      const [, fw, n] = /^gauss_([0-9.]+)_(\d+)x/.exec(f)!;
      const cur = smallest.get(Number(fw));
      if (!cur || Number(n) < Number(/_(\d+)x/.exec(cur)![1])) smallest.set(Number(fw), f);
    }
    for (const [fwhm, f] of smallest) {
      const ref = loadConv(path.join(CONF, f));
      const k = gaussianKernel(fwhm);
      expect([k.width, k.height]).toEqual([ref.width, ref.height]);
      for (let i = 0; i < k.data.length; i++) expect(Math.abs(k.data[i] / ref.data[i] - 1)).toBeLessThan(0.025);
      expect(k.data.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
    }
  });

  it('convolve() is a zero-padded correlation (brute-force reference, odd and even, separable or not)', () => {
    const w = 23;
    const h = 17;
    const img = new Float32Array(w * h).map((_, i) => Math.sin(i * 0.37) * 100 + (i % 7));
    const kernels = [
      parseConv('CONV NONORM\n1 2 3\n4 5 6\n7 8 10\n'),
      parseConv('CONV NONORM\n1 2\n3 4\n5 6\n'),
      parseConv('CONV NONORM\n1 2 1\n2 4 2\n1 2 1\n'),
      parseConv('CONV NONORM\n1\n2\n3\n2\n1\n'),
      gaussianKernel(4),
    ];
    for (const k of kernels) {
      const out = convolve(img, w, h, k);
      const h2 = Math.floor(k.height / 2);
      const w2 = Math.floor(k.width / 2);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          let s = 0;
          for (let r = 0; r < k.height; r++)
            for (let c = 0; c < k.width; c++) {
              const yy = y + r - h2;
              const xx = x + c - w2;
              if (yy >= 0 && yy < h && xx >= 0 && xx < w) s += k.data[r * k.width + c] * img[yy * w + xx];
            }
          expect(Math.abs(out[y * w + x] - s)).toBeLessThan(1e-4 * (1 + Math.abs(s)));
        }
    }
  });
});

describe.skipIf(!hasShared || !hasAstropy || !hasSextractor || !hasConf)('filters vs source-extractor (galaxies.fits)', () => {
  const file = path.join(SHARED, 'real/sextractor/galaxies.fits');
  const PARAMS = ['NUMBER', 'X_IMAGE', 'Y_IMAGE', 'THRESHOLD', 'FLAGS'];
  let img: { width: number; height: number; data: Float32Array };
  beforeAll(() => {
    img = astropyImage(file);
  });

  const cases: [string, Record<string, string>, string][] = [
    ['gauss_4.0_7x7.conv (separable 7x7)', { FILTER_NAME: path.join(CONF, 'gauss_4.0_7x7.conv') }, path.join(CONF, 'gauss_4.0_7x7.conv')],
    ['mexhat_2.5_7x7.conv (not separable, negative lobes)', { FILTER_NAME: path.join(CONF, 'mexhat_2.5_7x7.conv') }, path.join(CONF, 'mexhat_2.5_7x7.conv')],
    ['tophat_3.0_3x3.conv', { FILTER_NAME: path.join(CONF, 'tophat_3.0_3x3.conv') }, path.join(CONF, 'tophat_3.0_3x3.conv')],
    ['FILTER N', { FILTER: 'N' }, 'none'],
  ];
  for (const [label, config, spec] of cases) {
    it(`${label}: same filtered image and same detections`, () => {
      const sx = runSextractor(file, PARAMS, config, ['BACKGROUND', 'FILTERED', 'SEGMENTATION']);
      const back = astropyImage(sx.checkImages.BACKGROUND).data;
      const filt = astropyImage(sx.checkImages.FILTERED).data;
      const seg = astropyImage(sx.checkImages.SEGMENTATION).data;
      const sub = new Float32Array(img.data.length);
      for (let i = 0; i < sub.length; i++) sub[i] = img.data[i] - back[i];
      const col = sx.columns as Record<string, number[]>;
      const sig = col.THRESHOLD[0] / 1.5;
      const res = detectSources({ width: img.width, height: img.height, data: sub }, sig, { filter: spec });
      let maxRel = 0;
      for (let p = 0; p < sub.length; p++) maxRel = Math.max(maxRel, Math.abs(res.filtered![p] - filt[p]) / (Math.abs(filt[p]) + sig));
      // SExtractor sums the mask terms in float: up to ~1e-6 relative for 49 terms
      expect(maxRel).toBeLessThan(2e-5);
      expect(res.objects.length).toBe(sx.nrows);
      res.objects.forEach((o, i) => {
        expect(o.moments!.mx + 1).toBeCloseTo(col.X_IMAGE[i], 3);
        expect(o.moments!.my + 1).toBeCloseTo(col.Y_IMAGE[i], 3);
      });
      let same = 0;
      for (let p = 0; p < sub.length; p++) if (seg[p] === res.segmentation[p]) same++;
      expect(same / sub.length).toBeGreaterThan(0.99999);
    });
  }

  it('a .conv file path and the equivalent kernel give the same result', () => {
    const dir = path.join(CACHE, 'detect-sim');
    mkdirSync(dir, { recursive: true });
    const conv = path.join(dir, 'block.conv');
    writeFileSync(conv, readFileSync(path.join(CONF, 'block_3x3.conv'), 'utf8'));
    const a = detectSources(img, 100, { filter: conv, clean: false, deblendNthresh: 1 });
    const b = detectSources(img, 100, { filter: loadConv(conv), clean: false, deblendNthresh: 1 });
    expect(a.objects.length).toBe(b.objects.length);
    expect(Buffer.compare(Buffer.from(a.segmentation.buffer), Buffer.from(b.segmentation.buffer))).toBe(0);
  });
});
