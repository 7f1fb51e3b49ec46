/**
 * Detection options and edge cases: defaults vs `source-extractor -dd`, validation, masks and NaN, thresholds
 * (strict, absolute, per-pixel RMS), DETECT_MINAREA, image-edge flag.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECT_OPTIONS, detectSources, FLAG, resolveDetectOptions } from '../src/detect/index.js';
import { UserError } from '../src/util/errors.js';
import { hasSextractor } from './helpers/oracle.js';

function star(w: number, h: number, x0: number, y0: number, flux: number, sigma = 1.5, into?: Float32Array): Float32Array {
  const d = into ?? new Float32Array(w * h);
  const a = flux / (2 * Math.PI * sigma * sigma);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[y * w + x] += a * Math.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * sigma * sigma));
  return d;
}

describe('options', () => {
  it.skipIf(!hasSextractor)('defaults are source-extractor 2.25 defaults (source-extractor -dd)', () => {
    const dd = spawnSync('source-extractor', ['-dd'], { encoding: 'utf8' }).stdout;
    const val = (k: string) => new RegExp(`^${k}\\s+(\\S+)`, 'm').exec(dd)?.[1];
    expect(Number(val('DETECT_THRESH'))).toBe(DEFAULT_DETECT_OPTIONS.thresh);
    expect(val('THRESH_TYPE')?.toLowerCase()).toBe(DEFAULT_DETECT_OPTIONS.threshType);
    expect(Number(val('DETECT_MINAREA'))).toBe(DEFAULT_DETECT_OPTIONS.minArea);
    expect(Number(val('DEBLEND_NTHRESH'))).toBe(DEFAULT_DETECT_OPTIONS.deblendNthresh);
    expect(Number(val('DEBLEND_MINCONT'))).toBe(DEFAULT_DETECT_OPTIONS.deblendMincont);
    expect(val('CLEAN') === 'Y').toBe(DEFAULT_DETECT_OPTIONS.clean);
    expect(Number(val('CLEAN_PARAM'))).toBe(DEFAULT_DETECT_OPTIONS.cleanParam);
    expect(val('FILTER')).toBe('Y');
    expect(val('FILTER_NAME')).toBe('default.conv');
    expect(DEFAULT_DETECT_OPTIONS.filter).toBe('default');
    // the output-order emulation uses SExtractor's buffer sizes
    expect(Number(val('MEMORY_BUFSIZE'))).toBe(DEFAULT_DETECT_OPTIONS.bufferLines);
    expect(Number(val('MEMORY_OBJSTACK'))).toBe(DEFAULT_DETECT_OPTIONS.objectStack);
  });

  it('rejects nonsense values with a UserError', () => {
    expect(() => resolveDetectOptions({ minArea: 0 })).toThrow(UserError);
    expect(() => resolveDetectOptions({ thresh: NaN })).toThrow(UserError);
    expect(() => resolveDetectOptions({ deblendMincont: 2 })).toThrow(UserError);
    expect(() => resolveDetectOptions({ deblendNthresh: 2.5 })).toThrow(UserError);
    expect(() => resolveDetectOptions({ cleanParam: 0 })).toThrow(UserError);
    expect(() => resolveDetectOptions({ threshType: 'sigma' as never })).toThrow(UserError);
    expect(resolveDetectOptions({ thresh: undefined }).thresh).toBe(1.5);
    const img = { width: 8, height: 8, data: new Float32Array(64) };
    expect(() => detectSources(img, 0)).toThrow(/positive RMS/);
    expect(() => detectSources(img, { width: 4, height: 8, data: new Float32Array(32) })).toThrow(UserError);
    expect(() => detectSources(img, 1, { mask: { width: 8, height: 4, data: new Uint8Array(32) } })).toThrow(UserError);
    expect(() => detectSources({ width: 8, height: 8, data: new Float32Array(10) }, 1)).toThrow(UserError);
  });
});

describe('thresholding and labelling', () => {
  it('needs pixels strictly above threshold, DETECT_MINAREA of them, 8-connected', () => {
    const w = 20;
    const d = new Float32Array(w * w);
    // 2x2 block at exactly 2 (threshold 1.5 x rms 1 = 1.5 -> above) plus a diagonal neighbour: 5 pixels
    for (const [x, y] of [
      [5, 5],
      [6, 5],
      [5, 6],
      [6, 6],
      [7, 7],
    ])
      d[y * w + x] = 2;
    // a plateau exactly at the threshold never detects
    for (let x = 12; x < 18; x++) d[15 * w + x] = 1.5;
    const opts = { filter: 'none', clean: false } as const;
    const res = detectSources({ width: w, height: w, data: d }, 1, opts);
    expect(res.objects.length).toBe(1);
    expect(Array.from(res.objects[0].pixels)).toEqual([5 * w + 5, 5 * w + 6, 6 * w + 5, 6 * w + 6, 7 * w + 7]);
    expect(res.objects[0].threshold).toBe(1.5);
    expect(detectSources({ width: w, height: w, data: d }, 1, { ...opts, minArea: 6 }).objects.length).toBe(0);
    d[7 * w + 7] = 0;
    expect(detectSources({ width: w, height: w, data: d }, 1, opts).objects.length).toBe(0);
    expect(detectSources({ width: w, height: w, data: d }, 1, { ...opts, minArea: 4 }).objects.length).toBe(1);
  });

  it('absolute thresholds ignore the RMS', () => {
    const d = star(40, 40, 20, 20, 1000);
    const a = detectSources({ width: 40, height: 40, data: d }, 1e6, { threshType: 'absolute', thresh: 5 });
    const b = detectSources({ width: 40, height: 40, data: d }, 1, { thresh: 5 });
    expect(a.objects.length).toBe(1);
    expect(a.objects[0].threshold).toBe(5);
    expect(Array.from(a.objects[0].pixels)).toEqual(Array.from(b.objects[0].pixels));
  });

  it('thresholds against a per-pixel RMS plane: the same star is lost where the RMS is high', () => {
    const w = 80;
    const d = star(w, 40, 20, 20, 300);
    star(w, 40, 60, 20, 300, 1.5, d);
    const rms = new Float32Array(w * 40).map((_, p) => (p % w < 40 ? 1 : 20));
    const res = detectSources({ width: w, height: 40, data: d }, { width: w, height: 40, data: rms });
    expect(res.objects.length).toBe(1);
    expect(res.objects[0].moments!.mx).toBeCloseTo(20, 1);
    expect(res.objects[0].threshold).toBe(1.5);
    // zero or NaN RMS never detects
    const bad = detectSources({ width: w, height: 40, data: d }, { width: w, height: 40, data: rms.map((_, p) => (p % w < 40 ? NaN : 0)) });
    expect(bad.objects.length).toBe(0);
  });

  it('masked and NaN pixels never detect and enter the filter as 0', () => {
    const w = 40;
    const d = star(w, w, 20, 20, 2000);
    const full = detectSources({ width: w, height: w, data: d }, 1);
    const mask = new Uint8Array(w * w);
    for (let y = 18; y <= 22; y++) for (let x = 18; x <= 20; x++) mask[y * w + x] = 1;
    const masked = detectSources({ width: w, height: w, data: d }, 1, { mask: { width: w, height: w, data: mask } });
    const nan = d.map((v, p) => (mask[p] ? NaN : v));
    const withNan = detectSources({ width: w, height: w, data: nan }, 1);
    for (const r of [masked, withNan]) {
      const px = r.objects.flatMap((o) => Array.from(o.pixels));
      expect(px.length).toBeGreaterThan(0);
      expect(px.some((p) => mask[p])).toBe(false);
      expect(px.length).toBeLessThan(full.objects[0].pixels.length);
      // filtered next to the mask = the 3x3 mask applied with the bad pixels zeroed
      const p = 20 * w + 21;
      let s = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const q = p + dy * w + dx;
          s += (mask[q] ? 0 : d[q]) * [1, 2, 1][dx + 1] * [1, 2, 1][dy + 1];
        }
      expect(r.filtered![p]).toBeCloseTo(s / 16, 3);
    }
    expect(Array.from(masked.segmentation)).toEqual(Array.from(withNan.segmentation));
    expect(d.every((v) => Number.isFinite(v))).toBe(true); // the input is not modified
  });

  it('flags objects touching the image edge (TRUNCATED) and labels the segmentation map', () => {
    const w = 50;
    const d = star(w, w, 0.5, 25, 3000);
    star(w, w, 25, 25, 3000, 1.5, d);
    const res = detectSources({ width: w, height: w, data: d }, 1);
    expect(res.objects.length).toBe(2);
    const edge = res.objects.find((o) => o.moments!.mx < 5)!;
    const inner = res.objects.find((o) => o.moments!.mx > 20)!;
    expect(edge.flags & FLAG.TRUNCATED).toBe(FLAG.TRUNCATED);
    expect(inner.flags).toBe(0);
    res.objects.forEach((o, k) => {
      for (const p of o.pixels) expect(res.segmentation[p]).toBe(k + 1);
    });
    const labelled = res.segmentation.reduce((n, v) => n + (v > 0 ? 1 : 0), 0);
    expect(labelled).toBe(edge.pixels.length + inner.pixels.length);
    expect(inner.peakIndex).toBe(25 * w + 25);
    expect(inner.peak).toBeCloseTo(res.filtered![25 * w + 25], 6);
  });

  it('handles empty and one-line images', () => {
    expect(detectSources({ width: 30, height: 30, data: new Float32Array(900) }, 1).objects.length).toBe(0);
    const line = new Float32Array(30);
    for (let x = 10; x < 17; x++) line[x] = 10;
    const res = detectSources({ width: 30, height: 1, data: line }, 1);
    expect(res.objects.length).toBe(1);
    expect(res.objects[0].flags & FLAG.TRUNCATED).toBe(FLAG.TRUNCATED);
  });
});
