/**
 * The speed-ups of quick mode (bench/quick.ts) must not change a single output bit. Each fast path is checked
 * here against a straightforward reference implementation of the same arithmetic (the code it replaced):
 *  - histogramMode: prefix sums + binary-searched median split vs the bin-by-bin two-cursor walk;
 *  - subtractBackground (row evaluator, in place or not) vs image - the interpolated map, itself checked
 *    against a per-pixel evaluation of the bicubic spline;
 *  - labelComponents' above-threshold map vs aboveThreshold;
 *  - estimateBackground's lazily interpolated planes vs interpolate().
 * The catalogs themselves are compared with source-extractor in quick-vs-sextractor.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { backgroundModel, estimateBackground, interpolate, meshStatistics, subtractBackground } from '../src/background/index.js';
import { histogramLayout, histogramMode } from '../src/background/mode.js';
import type { SplineGrid } from '../src/background/spline.js';
import { aboveThreshold, labelComponents } from '../src/detect/label.js';
import { makePlane, type Plane } from '../src/image/types.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** SExtractor's backguess, bin by bin: the two cursors walk in from both ends feeding the lighter side. */
function referenceMode(histo: ArrayLike<number>, nlevels: number, mean: number, qzero: number, qscale: number): [number, number] {
  const top = nlevels - 1;
  let lcut = 0;
  let hcut = top;
  let sig = 10 * top;
  let sig1 = 1;
  let mea = mean;
  let med = mean;
  for (let n = 100; n > 0 && sig >= 0.1 && Math.abs(sig / sig1 - 1) > 1e-4; n--) {
    sig1 = sig;
    let sum = 0;
    mea = 0;
    sig = 0;
    let lowsum = 0;
    let highsum = 0;
    let lo = lcut;
    let hi = hcut;
    for (let i = lcut; i <= hcut; i++) {
      if (lowsum < highsum) lowsum += histo[lo++];
      else highsum += histo[hi--];
      sum += histo[i];
      mea += histo[i] * i;
      sig += histo[i] * i * i;
    }
    if (hi >= 0) {
      const a = histo[hi];
      const b = lo <= top ? histo[lo] : 0;
      const peak = a > b ? a : b;
      med = hi + 0.5 + (peak > 0 ? (highsum - lowsum) / (2 * peak) : 0);
    } else med = 0;
    if (sum) {
      mea /= sum;
      sig = sig / sum - mea * mea;
    }
    sig = sig > 0 ? Math.sqrt(sig) : 0;
    const l = med - 3 * sig;
    const h = med + 3 * sig;
    lcut = l > 0 ? Math.trunc(l + 0.5) : 0;
    hcut = h < top ? Math.trunc(h > 0 ? h + 0.5 : h - 0.5) : top;
  }
  let mode: number;
  if (Math.abs(sig) > 0) mode = Math.abs((mea - med) / sig) < 0.3 ? qzero + (2.5 * med - 1.5 * mea) * qscale : qzero + med * qscale;
  else mode = qzero + mea * qscale;
  return [Math.fround(mode), Math.fround(sig * qscale)];
}

/** Per-pixel bicubic spline evaluation (the arithmetic of src/background/spline.ts, written out pixel by pixel). */
function referenceSplinePixel(g: SplineGrid, x: number, y: number): number {
  const { bw, bh, nx, ny, values, d2y } = g;
  const node = new Float64Array(nx);
  if (ny > 1) {
    const v = Math.fround(y / bh) - 0.5;
    let yl = Math.trunc(v);
    let dy = v - yl;
    if (yl >= ny - 1) {
      yl = ny - 2;
      dy += 1;
    }
    const cdy = 1 - dy;
    for (let i = 0; i < nx; i++)
      node[i] = cdy * values[yl * nx + i] + dy * values[(yl + 1) * nx + i] + (cdy * cdy * cdy - cdy) * d2y[yl * nx + i] + (dy * dy * dy - dy) * d2y[(yl + 1) * nx + i];
  } else for (let i = 0; i < nx; i++) node[i] = values[i];
  if (nx < 2) return Math.fround(node[0]);
  // natural spline coefficients along x (SExtractor's scaled back-substitution)
  const d = new Float64Array(nx);
  if (ny > 1) {
    const c = new Float64Array(nx);
    const r = new Float64Array(nx);
    for (let i = 1; i < nx - 1; i++) {
      const t = -1 / (c[i - 1] + 4);
      c[i] = t;
      r[i] = t * (r[i - 1] - 6 * (node[i + 1] + node[i - 1] - 2 * node[i]));
    }
    let next = 0;
    for (let i = nx - 2; i >= 1; i--) d[i] = next = (c[i] * next + r[i]) / 6;
  }
  let k = 0;
  while (k < nx - 2 && x >= (k + 1) * bw + (bw >> 1)) k++;
  const dx = (x + 0.5) * (1 / bw) - 0.5 - k;
  const cdx = 1 - dx;
  return Math.fround(cdx * (node[k] + (cdx * cdx - 1) * d[k]) + dx * (node[k + 1] + (dx * dx - 1) * d[k + 1]));
}

function skyImage(w: number, h: number, seed: number, integer: boolean): Plane {
  const rnd = mulberry32(seed);
  const d = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let v = 1000 + 0.3 * x - 0.2 * y + 20 * Math.sin(x / 37) + 15 * (rnd() + rnd() + rnd() - 1.5);
      if (rnd() < 0.002) v += 5000 * rnd();
      d[y * w + x] = integer ? Math.round(v) : v;
    }
  return makePlane(w, h, d);
}

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let bad = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) bad++;
  return bad + Math.abs(a.length - b.length);
}

describe('fast paths give bit-identical results', () => {
  it('histogramMode equals the bin-by-bin walk on 20,000 random histograms', () => {
    const rnd = mulberry32(7);
    const out = new Float64Array(2);
    let mismatches = 0;
    let lastSigma = 0;
    for (let t = 0; t < 20000; t++) {
      const nl = 1 + Math.floor(rnd() ** 2 * 4096);
      const histo = t % 3 === 2 ? new Array<number>(nl).fill(0) : new Int32Array(nl);
      const mu = rnd() * nl;
      const s = 1 + (rnd() * nl) / 4;
      const npix = Math.floor(rnd() * 6000);
      for (let i = 0; i < npix; i++) {
        const kind = t % 4;
        const v = kind === 0 ? Math.floor(rnd() * nl) : kind === 1 ? Math.floor(mu + 2 * s * (rnd() + rnd() + rnd() - 1.5)) : kind === 2 ? Math.floor(mu) : Math.floor(mu + (rnd() < 0.5 ? -1 : 1) * s * rnd() * rnd());
        if (v >= 0 && v < nl) histo[v]++;
      }
      const lay = { ...histogramLayout(npix, rnd() * 1000, rnd() * 50), nlevels: nl };
      histogramMode(histo, lay, out);
      const [mode, sigma] = referenceMode(histo, nl, lay.mean, lay.qzero, lay.qscale);
      if (!Object.is(out[0], mode) || !Object.is(out[1], sigma)) mismatches++;
      lastSigma = sigma;
    }
    expect(mismatches).toBe(0);
    expect(lastSigma).toBeGreaterThanOrEqual(0);
    // fractional counts take the bin-by-bin loop: same answer as the reference
    const frac = Float64Array.from({ length: 300 }, (_, i) => Math.exp(-((i - 140) ** 2) / 800) * 10.5);
    histogramMode(frac, { ...histogramLayout(3000, 100, 10), nlevels: 300 }, out);
    const lay = histogramLayout(3000, 100, 10);
    expect([out[0], out[1]]).toEqual(referenceMode(frac, 300, lay.mean, lay.qzero, lay.qscale));
  });

  it('subtractBackground equals image minus the interpolated map, in place or not', () => {
    const cases: [Plane, Record<string, unknown>][] = [
      [skyImage(301, 257, 1, true), { backSize: 64 }],
      [skyImage(301, 257, 2, false), { backSize: 32, filterSize: 1 }],
      [skyImage(70, 300, 3, false), { backSize: 64 }], // one mesh column: no spline along x
      [skyImage(300, 70, 4, false), { backSize: 64 }], // one mesh row
      [skyImage(200, 150, 5, false), { type: 'manual', value: 1003.7 }],
    ];
    for (const [img, opts] of cases) {
      const model = backgroundModel(meshStatistics(img, opts), opts);
      const map = interpolate(model, 'background').data;
      const expected = new Float32Array(img.data.length);
      for (let i = 0; i < expected.length; i++) expected[i] = img.data[i] - map[i];
      expect(sameBits(subtractBackground(img, model), expected)).toBe(0);
      const copy = makePlane(img.width, img.height, img.data.slice());
      expect(subtractBackground(copy, model, copy.data)).toBe(copy.data);
      expect(sameBits(copy.data, expected)).toBe(0);
      if (opts.type !== 'manual') {
        // the map itself against a pixel-by-pixel evaluation of the spline
        const rnd = mulberry32(img.width);
        let bad = 0;
        for (let k = 0; k < 2000; k++) {
          const x = Math.floor(rnd() * img.width);
          const y = Math.floor(rnd() * img.height);
          if (!Object.is(map[y * img.width + x], referenceSplinePixel(model.levelGrid, x, y))) bad++;
        }
        expect(bad).toBe(0);
      }
    }
  });

  it('labelComponents marks exactly the pixels aboveThreshold finds', () => {
    const img = skyImage(257, 199, 9, false);
    const d = img.data;
    for (let i = 0; i < d.length; i++) d[i] -= 1000;
    d[1234] = NaN;
    const bad = new Uint8Array(d.length);
    bad[1234] = 1;
    bad[5000] = 1;
    for (const threshold of [{ kind: 'constant' as const, value: 40 }, { kind: 'map' as const, values: Float32Array.from(d, (_, i) => 30 + (i % 17)) }]) {
      const on = new Uint8Array(d.length);
      const comps = labelComponents(d, img.width, img.height, threshold, bad, 5, on);
      const ref = aboveThreshold(d, threshold, bad);
      expect(sameBits(on, ref)).toBe(0);
      expect(comps.count).toBeGreaterThan(0);
      expect(ref.reduce((a, b) => a + b, 0)).toBeGreaterThan(comps.pixels.length);
    }
  });

  it('estimateBackground interpolates its planes on first access, equal to interpolate()', () => {
    const img = skyImage(190, 170, 13, true);
    const bg = estimateBackground(img, { backSize: 32 });
    expect(sameBits(bg.background.data, interpolate(bg.model, 'background').data)).toBe(0);
    expect(sameBits(bg.rms.data, interpolate(bg.model, 'rms').data)).toBe(0);
    expect(bg.background).toBe(bg.background); // made once
    expect(bg.weightedRms).toBeUndefined();
    const w = makePlane(190, 170, new Float32Array(190 * 170).fill(4));
    const bw = estimateBackground(img, { backSize: 32 }, { weight: w, weightType: 'weight' });
    expect(bw.weightedRms!.data[0]).toBeCloseTo(bw.model.weightScale / 2, 6);
  });
});
