/**
 * Background estimation against simulation truth (seeded flat + gradient sky, Gaussian noise, stars),
 * plus the behaviour of the individual stages (bad-mesh filling, median filter threshold, band-wise
 * evaluation, manual mode, input validation) and an interpolation timing on a 4096 x 4096 grid.
 */
import { describe, expect, it } from 'vitest';
import {
  backgroundModel,
  estimateBackground,
  interpolate,
  interpolateRows,
  meshStatistics,
} from '../src/background/index.js';
import { fillBadMeshes, medianFilterMeshes } from '../src/background/filter.js';
import { histogramLayout, histogramMode, binOffset } from '../src/background/mode.js';
import { makePlane, type Plane } from '../src/image/types.js';
import { select } from './helpers/stats.js';

/** Seeded uniform generator (mulberry32). */
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

function gaussian(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}


interface Sim {
  image: Plane;
  sky: Float32Array;
  stars: { x: number; y: number }[];
}

const SIGMA = 10;

/** Sky 1000 + gx x + gy y with Gaussian noise SIGMA and nstars Gaussian stars (PSF sigma 1.5 px). */
function simulate(width: number, height: number, gx: number, gy: number, nstars: number, seed: number): Sim {
  const rnd = mulberry32(seed);
  const sky = new Float32Array(width * height);
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      sky[i] = 1000 + gx * x + gy * y;
      data[i] = sky[i] + SIGMA * gaussian(rnd);
    }
  const stars: { x: number; y: number }[] = [];
  for (let s = 0; s < nstars; s++) {
    const cx = rnd() * width;
    const cy = rnd() * height;
    const peak = 50 * Math.exp(4 * rnd()); // 50 .. 2700 ADU
    stars.push({ x: cx, y: cy });
    for (let y = Math.max(0, Math.floor(cy - 10)); y < Math.min(height, cy + 10); y++)
      for (let x = Math.max(0, Math.floor(cx - 10)); x < Math.min(width, cx + 10); x++)
        data[y * width + x] += peak * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 1.5 * 1.5));
  }
  return { image: makePlane(width, height, data), sky, stars };
}

/**
 * Max and median |estimate - truth| / SIGMA over pixels at least `rmin` px from every star and at least
 * `margin` px from the image edges, and their count.
 */
function errorAwayFromStars(est: Float32Array, truth: Float32Array | number, sim: Sim, rmin: number, margin = 0) {
  const { width, height } = sim.image;
  const near = new Uint8Array(width * height);
  for (const s of sim.stars)
    for (let y = Math.max(0, Math.floor(s.y - rmin)); y <= Math.min(height - 1, s.y + rmin); y++)
      for (let x = Math.max(0, Math.floor(s.x - rmin)); x <= Math.min(width - 1, s.x + rmin); x++)
        if ((x - s.x) ** 2 + (y - s.y) ** 2 < rmin * rmin) near[y * width + x] = 1;
  const errs = new Float64Array(width * height);
  let n = 0;
  let max = 0;
  for (let y = margin; y < height - margin; y++)
    for (let x = margin; x < width - margin; x++) {
      const i = y * width + x;
      if (near[i]) continue;
      const e = Math.abs(est[i] - (typeof truth === 'number' ? truth : truth[i])) / SIGMA;
      if (!(e <= max)) max = e; // NaN propagates
      errs[n++] = e;
    }
  return { max, median: select(errs.subarray(0, n), n >> 1), n };
}

/** Half a mesh: closer to the edges SExtractor's scheme extrapolates from unfiltered edge meshes. */
const MARGIN = 32;

describe('background against simulation truth', () => {
  // 1000 x 900: not a multiple of the 64-px mesh, so the partial edge meshes are exercised too.
  const seeds = [12345, 2024, 7];
  const sims = seeds.map((seed) => simulate(1000, 900, 0.01, -0.008, 60, seed));
  const results = sims.map((sim) => estimateBackground(sim.image));

  it('recovers a flat + gradient sky within 0.1 sigma away from stars', () => {
    sims.forEach((sim, k) => {
      const inner = errorAwayFromStars(results[k].background.data, sim.sky, sim, 12, MARGIN);
      const all = errorAwayFromStars(results[k].background.data, sim.sky, sim, 12);
      console.log(
        `sim seed ${seeds[k]} background error: max ${inner.max.toFixed(3)} sigma (${all.max.toFixed(3)} including the ${MARGIN}-px border), ` +
          `median ${inner.median.toFixed(4)} sigma over ${inner.n} px`,
      );
      expect(inner.n).toBeGreaterThan(700_000);
      expect(inner.max).toBeLessThan(0.1);
      expect(inner.median).toBeLessThan(0.02);
      // At the very edges the estimate extrapolates single (unfiltered, partial) meshes: looser.
      expect(all.max).toBeLessThan(0.25);
    });
  });

  it('recovers the noise level and the global numbers', () => {
    sims.forEach((sim, k) => {
      const res = results[k];
      const inner = errorAwayFromStars(res.rms.data, SIGMA, sim, 12, MARGIN);
      console.log(
        `sim seed ${seeds[k]} rms error: max ${(inner.max * 100).toFixed(2)} %, median ${(inner.median * 100).toFixed(2)} %; ` +
          `global ${res.globalBackground.toFixed(3)} / ${res.globalRms.toFixed(3)}`,
      );
      expect(inner.max).toBeLessThan(0.05);
      expect(inner.median).toBeLessThan(0.02);
      // the median over the 16 x 15 meshes of the sky gradient, i.e. near its value at the image centre
      expect(Math.abs(res.globalBackground - (1000 + 0.01 * 500 - 0.008 * 450))).toBeLessThan(0.5);
      expect(Math.abs(res.globalRms - SIGMA)).toBeLessThan(0.2);
    });
  });

  it('ignores masked and NaN pixels; meshes mostly masked are interpolated from neighbours', () => {
    const flat = simulate(640, 640, 0, 0, 20, 777);
    const { width } = flat.image;
    const data = Float32Array.from(flat.image.data);
    const mask = new Uint8Array(data.length);
    for (let y = 200; y < 420; y++)
      for (let x = 150; x < 400; x++) {
        const i = y * width + x;
        if ((x + y) % 5) {
          mask[i] = 1;
          data[i] = 1e5; // garbage under the mask
        } else data[i] = NaN;
      }
    const r = estimateBackground(makePlane(640, 640, data), {}, { mask: { width, height: 640, data: mask } });
    // meshes [2..6) x [3..6) are fully covered: 4 x 2 (rows 200-420 cover meshes 4-5 fully, 3 and 6 partly)
    expect(r.model.badMeshes).toBeGreaterThanOrEqual(8);
    const e = errorAwayFromStars(r.background.data, 1000, flat, 12, MARGIN);
    console.log(`masked sim: ${r.model.badMeshes} bad meshes, background error max ${e.max.toFixed(3)} sigma`);
    expect(e.max).toBeLessThan(0.1);
  });
});

describe('background stages', () => {
  it('fills a bad mesh with the mean of its nearest good meshes', () => {
    // 3 x 3 grid, centre and one corner bad: the centre takes the mean of its 4 edge neighbours.
    const level = Float32Array.from([1, 2, NaN, 4, NaN, 6, 7, 8, 9]);
    const sigma = Float32Array.from([1, 1, NaN, 3, NaN, 1, 1, 5, 1]);
    expect(fillBadMeshes(level, sigma, 3, 3)).toBe(2);
    expect(level[4]).toBeCloseTo((2 + 4 + 6 + 8) / 4, 6);
    expect(sigma[4]).toBeCloseTo((1 + 3 + 1 + 5) / 4, 6);
    expect(level[2]).toBeCloseTo((2 + 6) / 2, 6);
  });

  it('median-filters meshes, honouring BACK_FILTTHRESH, with windows shrinking at the grid edges', () => {
    const make = () => {
      const level = new Float32Array(25).fill(100);
      const sigma = new Float32Array(25).fill(5);
      level[12] = 130; // centre outlier
      sigma[12] = 50;
      level[0] = 160; // corner outlier: its window shrinks to itself
      return { level, sigma };
    };
    let g = make();
    medianFilterMeshes(g.level, g.sigma, 5, 5, 3, 3, 0);
    expect([g.level[12], g.sigma[12], g.level[0]]).toEqual([100, 5, 160]);
    g = make();
    medianFilterMeshes(g.level, g.sigma, 5, 5, 3, 3, 50);
    expect([g.level[12], g.sigma[12]]).toEqual([130, 50]);
    g = make();
    medianFilterMeshes(g.level, g.sigma, 5, 5, 3, 3, 20);
    expect([g.level[12], g.sigma[12]]).toEqual([100, 5]);
  });

  it('estimates the mode of a Gaussian mesh close to its mean', () => {
    const rnd = mulberry32(99);
    const v = Float64Array.from({ length: 4096 }, () => 500 + 20 * gaussian(rnd));
    const mean = v.reduce((a, b) => a + b) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    const lay = histogramLayout(v.length, mean, sd);
    const off = binOffset(lay);
    const h = new Int32Array(lay.nlevels);
    for (const p of v) {
      const t = Math.fround(Math.fround(p / lay.qscale) + off);
      if (t > -1 && t < lay.nlevels) h[t | 0]++;
    }
    const out = new Float64Array(2);
    histogramMode(h, lay, out);
    expect(Math.abs(out[0] - 500)).toBeLessThan(0.1 * 20);
    expect(Math.abs(out[1] / 20 - 1)).toBeLessThan(0.05);
  });

  it('evaluates row bands identical to the full maps (streaming), and MANUAL gives a constant', () => {
    const sim = simulate(333, 250, 0.05, 0.02, 10, 5);
    const model = backgroundModel(meshStatistics(sim.image, { backSize: [40, 30] }), { backSize: [40, 30] });
    for (const kind of ['background', 'rms'] as const) {
      const full = interpolate(model, kind).data;
      const parts = new Float32Array(full.length);
      let y0 = 0;
      for (const y1 of [1, 37, 38, 150, 250]) {
        parts.set(interpolateRows(model, kind, y0, y1), y0 * 333);
        y0 = y1;
      }
      expect(parts).toEqual(full);
    }
    const manual = estimateBackground(sim.image, { type: 'manual', value: 42.5 });
    expect(manual.background.data.every((v) => v === 42.5)).toBe(true);
    expect(manual.globalBackground).toBe(42.5);
    expect(manual.rms.data).toEqual(estimateBackground(sim.image).rms.data);
  });

  it('rejects invalid options and mismatched inputs', () => {
    const p = makePlane(10, 10);
    expect(() => estimateBackground(p, { backSize: 0 })).toThrow(RangeError);
    expect(() => estimateBackground(p, { filterSize: [3, 1.5] })).toThrow(RangeError);
    expect(() => estimateBackground(p, {}, { weight: makePlane(10, 9) })).toThrow(RangeError);
    expect(() => interpolateRows(backgroundModel(meshStatistics(p)), 'rms', 5, 11)).toThrow(RangeError);
  });

  it('interpolates a 4096 x 4096 map well under a second', () => {
    const big = simulate(4096, 4096, 0.01, 0.01, 0, 3).image;
    const model = backgroundModel(meshStatistics(big));
    const t0 = performance.now();
    interpolate(model, 'background');
    const t1 = performance.now();
    interpolate(model, 'rms');
    const t2 = performance.now();
    console.log(`4096x4096 interpolation: background ${(t1 - t0).toFixed(0)} ms, rms ${(t2 - t1).toFixed(0)} ms`);
    expect(t1 - t0).toBeLessThan(1000);
  });
});
