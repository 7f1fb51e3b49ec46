/**
 * Building blocks of the PSF stage against exact or analytic oracles: Lanczos-3 interpolation, the position
 * polynomial (PSFEx term order), the Cholesky solver, unit-sum normalisation, FWHM and adaptive moments of sampled
 * elliptical Gaussians (closed forms), the exponential convolution of SPREAD_MODEL (closed-form Fourier transform of a
 * Gaussian convolved with an exponential, checked through its second moments), star selection on a synthetic
 * catalog, and the degree rule.
 */
import { describe, expect, it } from 'vitest';
import type { Catalog } from '../src/catalog/schema.js';
import { lanczos3, lanczosWeights, Resampler } from '../src/psf/lanczos.js';
import { normaliseCoeffs, PsfEvaluator, type PsfModel } from '../src/psf/model.js';
import { isExtended } from '../src/psf/photometry.js';
import { ccdFrame, evalTerms, nTerms, subTermIndex, termExponents } from '../src/psf/poly.js';
import { hash3, saturationPlateau, selectPsfStars, sortedMode } from '../src/psf/select.js';
import { adaptiveMoments, ShapeMeasurer } from '../src/psf/shape.js';
import { cholesky, choleskySolve, chooseDegree } from '../src/psf/solve.js';
import { exponentialConvolvedCoeffs } from '../src/psf/spread.js';
import { Rng } from '../src/sim/rng.js';

/** Sampled elliptical Gaussian (point samples) with covariance [[sxx, sxy], [sxy, syy]] centred at (cx, cy). */
function gaussGrid(n: number, cx: number, cy: number, sxx: number, syy: number, sxy: number): Float64Array {
  const det = sxx * syy - sxy * sxy;
  const out = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const dx = i - cx;
      const dy = j - cy;
      out[j * n + i] = Math.exp(-0.5 * (syy * dx * dx - 2 * sxy * dx * dy + sxx * dy * dy) / det) / (2 * Math.PI * Math.sqrt(det));
    }
  }
  return out;
}

describe('Lanczos-3', () => {
  it('has the textbook kernel values and unit-sum weights', () => {
    expect(lanczos3(0)).toBe(1);
    expect(lanczos3(1)).toBeCloseTo(0, 15);
    expect(lanczos3(3)).toBe(0);
    // sinc(0.5) sinc(1/6) = (2 / pi) * (sin(pi / 6) / (pi / 6))
    expect(lanczos3(0.5)).toBeCloseTo((2 / Math.PI) * (0.5 / (Math.PI / 6)), 14);
    const w = new Float64Array(6);
    for (const t of [0, 0.1, 0.5, 0.77, 12.25]) {
      const i0 = lanczosWeights(t, w);
      expect(i0).toBe(Math.floor(t) - 2);
      expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    }
  });

  it('returns samples exactly at integer positions and reproduces a linear ramp', () => {
    const n = 20;
    const src = { width: n, height: n, data: Float64Array.from({ length: n * n }, (_, k) => 3 + 0.5 * (k % n) - 0.25 * Math.floor(k / n)) };
    const out = new Float64Array(25);
    const rs = new Resampler();
    rs.resample(src, 5, 1, 5, 6, 1, 5, out);
    for (let j = 0; j < 5; j++) for (let i = 0; i < 5; i++) expect(out[j * 5 + i]).toBe(src.data[(6 + j) * n + 5 + i]);
    const info = rs.resample(src, 5.3, 0.5, 5, 7.7, 0.5, 5, out);
    expect(info.outside).toBe(0);
    // Lanczos-3 with unit-sum weights is exact for constants; on a linear ramp its error is the weights' first
    // moment, at most ~3% of the slope per axis (0.5 and 0.25 here)
    let maxErr = 0;
    for (let j = 0; j < 5; j++) for (let i = 0; i < 5; i++) maxErr = Math.max(maxErr, Math.abs(out[j * 5 + i] - (3 + 0.5 * (5.3 + 0.5 * i) - 0.25 * (7.7 + 0.5 * j))));
    expect(maxErr).toBeGreaterThan(0);
    expect(maxErr).toBeLessThan(0.03 * 0.75);
    const flat = { width: n, height: n, data: new Float64Array(n * n).fill(2.5) };
    rs.resample(flat, 5.37, 0.5, 5, 7.71, 0.5, 5, out);
    for (const v of out) expect(v).toBeCloseTo(2.5, 13);
  });

  it('shifts a Gaussian of FWHM 3.5 px to 1% of its peak (Lanczos-3 ringing) and counts taps off the grid', () => {
    const n = 41;
    const a = gaussGrid(n, 20.3, 19.6, 2.2, 2.2, 0);
    const out = new Float64Array(21 * 21);
    new Resampler().resample({ width: n, height: n, data: a }, 10.3, 1, 21, 9.6, 1, 21, out);
    const b = gaussGrid(21, 10, 10, 2.2, 2.2, 0);
    let err = 0;
    for (let k = 0; k < b.length; k++) err = Math.max(err, Math.abs(out[k] - b[k]));
    expect(err / b[10 * 21 + 10]).toBeLessThan(1e-2);
    const info = new Resampler().resample({ width: n, height: n, data: a }, -1.5, 1, 5, 0.5, 1, 5, new Float64Array(25));
    expect(info.outside).toBeGreaterThan(0);
  });
});

describe('position polynomial', () => {
  it('orders terms as PSFEx (1, u, u^2, v, uv, v^2) and sub-degree indices pick the same monomials', () => {
    expect(Array.from(termExponents(2))).toEqual([0, 0, 1, 0, 2, 0, 0, 1, 1, 1, 0, 2]);
    expect(nTerms(3)).toBe(10);
    const frame = ccdFrame(1000, 500);
    const t3 = evalTerms(frame, 3, 800, 100, new Float64Array(10));
    const t2 = evalTerms(frame, 2, 800, 100, new Float64Array(6));
    const idx = subTermIndex(3, 2);
    for (let k = 0; k < 6; k++) expect(t3[idx[k]]).toBeCloseTo(t2[k], 15);
    const u = (800 - 500.5) / 1000;
    const v = (100 - 250.5) / 500;
    expect(Array.from(t2)).toEqual([1, u, u * u, v, u * v, v * v].map((x) => expect.closeTo(x, 15)));
  });
});

describe('linear algebra and normalisation', () => {
  it('Cholesky solves a random SPD system with several right-hand sides', () => {
    const rng = Rng.stream(7);
    const n = 6;
    const m = 4;
    const g = Float64Array.from({ length: n * n }, () => rng.gaussian());
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += g[i * n + k] * g[j * n + k];
    for (let i = 0; i < n; i++) a[i * n + i] += 0.1;
    const x = Float64Array.from({ length: n * m }, () => rng.gaussian());
    const b = new Float64Array(n * m);
    for (let i = 0; i < n; i++) for (let q = 0; q < m; q++) for (let j = 0; j < n; j++) b[i * m + q] += a[i * n + j] * x[j * m + q];
    const l = Float64Array.from(a);
    expect(cholesky(l, n)).toBe(true);
    choleskySolve(l, n, b, m);
    for (let k = 0; k < x.length; k++) expect(b[k]).toBeCloseTo(x[k], 9);
    expect(cholesky(Float64Array.of(1, 2, 2, 1), 2)).toBe(false);
  });

  it('normalises a model to unit sum at every position', () => {
    const rng = Rng.stream(8);
    const size = 7;
    const npix = size * size;
    const coeffs = Float64Array.from({ length: 6 * npix }, (_, q) => (q < npix ? 1 + rng.uniform() : 0.3 * rng.gaussian()));
    normaliseCoeffs(coeffs, 6, npix);
    const model: PsfModel = { size, step: 1, degree: 2, frame: ccdFrame(100, 100), coeffs, nStars: 1, fwhm: NaN, residual: NaN };
    const ev = new PsfEvaluator(model);
    const img = new Float64Array(npix);
    for (const [x, y] of [[1, 1], [50, 20], [100, 100], [-30, 140]]) {
      ev.imageAt(x, y, img);
      expect(img.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
  });
});

describe('FWHM and adaptive moments', () => {
  it('recovers the FWHM, sigma and ellipticity of sampled elliptical Gaussians (closed forms)', () => {
    const sm = new ShapeMeasurer();
    for (const [sxx, syy, sxy, step] of [[2.0, 2.0, 0, 1], [2.6, 1.9, 0.3, 1], [4.5, 3.1, -0.6, 0.5]]) {
      // covariance in samples; in image pixels it is multiplied by step^2
      const g = { width: 31, height: 31, data: gaussGrid(31, 15.2, 14.7, sxx, syy, sxy) };
      const det = (sxx * syy - sxy * sxy) * step ** 4;
      // FWHM of an elliptical Gaussian, circularised: 2 sqrt(2 ln 2) det^(1/4)
      expect(sm.fwhm(g, step) / (2 * Math.sqrt(2 * Math.LN2) * Math.pow(det, 0.25)) - 1).toBeLessThan(3e-3);
      const mo = adaptiveMoments(g, step, 15, 15, 1.5);
      expect(mo.ok).toBe(true);
      expect(mo.mxx).toBeCloseTo(sxx * step * step, 5);
      expect(mo.myy).toBeCloseTo(syy * step * step, 5);
      expect(mo.mxy).toBeCloseTo(sxy * step * step, 5);
      expect(mo.e1).toBeCloseTo((sxx - syy) / (sxx + syy), 6);
      expect(mo.x).toBeCloseTo(15.2, 6);
    }
  });
});

describe('SPREAD_MODEL kernel', () => {
  it('convolves with a unit-flux exponential: flux kept, second moments grow by 3 h^2 per axis', () => {
    // an exponential exp(-r/h) / (2 pi h^2) has <x^2> = 3 h^2; moments of a convolution add
    const size = 41;
    const npix = size * size;
    const base = gaussGrid(size, 20, 20, 3, 3, 0);
    const model: PsfModel = { size, step: 1, degree: 0, frame: ccdFrame(10, 10), coeffs: base, nStars: 1, fwhm: 16 * 0.5, residual: 0 };
    const g = exponentialConvolvedCoeffs(model);
    let s = 0;
    let sxx = 0;
    for (let k = 0; k < npix; k++) {
      s += g[k];
      sxx += g[k] * ((k % size) - 20) ** 2;
    }
    expect(s).toBeCloseTo(1, 6);
    expect(sxx / s).toBeCloseTo(3 + 3 * 0.5 * 0.5, 3);
    expect(isExtended(0.01, 0.001)).toBe(true);
    expect(isExtended(0.001, 0.001)).toBe(false);
  });
});

describe('star selection', () => {
  /** A synthetic catalog: a stellar locus (FLUX_RADIUS 1.5, growing 10% across x) and galaxies (larger). */
  function catalog(): { cat: Catalog; stars: Set<number> } {
    const rng = Rng.stream(11);
    const n = 400;
    const cols = ['XWIN_IMAGE', 'YWIN_IMAGE', 'FLAGS', 'SNR_WIN', 'ELONGATION', 'FLUX_RADIUS', 'FLUX_AUTO', 'FLUX_MAX', 'BACKGROUND'];
    const cat: Catalog = Object.fromEntries(cols.map((c) => [c, new Float64Array(n)]));
    cat.NUMBER = Int32Array.from({ length: n }, (_, i) => i + 1);
    const stars = new Set<number>();
    for (let i = 0; i < n; i++) {
      const x = 30 + rng.uniform() * 940;
      const y = 30 + rng.uniform() * 940;
      const star = i % 2 === 0;
      cat.XWIN_IMAGE[i] = x;
      cat.YWIN_IMAGE[i] = y;
      cat.FLAGS[i] = i % 17 === 0 ? 2 : 0;
      cat.SNR_WIN[i] = 10 * Math.pow(100, rng.uniform());
      cat.ELONGATION[i] = star ? 1.05 : 1 + rng.uniform();
      cat.FLUX_RADIUS[i] = star ? 1.5 * (1 + (0.1 * x) / 1000) * (1 + 0.01 * rng.gaussian()) : 2.2 + 3 * rng.uniform();
      cat.FLUX_AUTO[i] = 1000 * cat.SNR_WIN[i];
      cat.FLUX_MAX[i] = 0.05 * cat.FLUX_AUTO[i];
      cat.BACKGROUND[i] = 100;
      if (star) stars.add(i);
    }
    return { cat, stars };
  }

  it('selects clean, bright, isolated locus stars and reserves 20% deterministically by position', () => {
    const { cat, stars } = catalog();
    const sel = selectPsfStars(cat, 1000, 1000, { isolation: 10 });
    expect(sel.fwhm).toBeGreaterThan(3.0);
    expect(sel.fwhm).toBeLessThan(3.3);
    const all = [...sel.stars, ...sel.reserved];
    for (const i of all) {
      expect(stars.has(i)).toBe(true);
      expect(cat.FLAGS[i]).toBe(0);
      expect(cat.SNR_WIN[i]).toBeGreaterThanOrEqual(20);
    }
    // every clean bright isolated locus star is taken
    const expected = [...stars].filter((i) => cat.FLAGS[i] === 0 && cat.SNR_WIN[i] >= 20).length;
    expect(all.length).toBeGreaterThan(0.85 * expected);
    expect(sel.reserved.length).toBe(Math.round(0.2 * all.length));
    // reserve depends on position only: the same stars are reserved when the catalog rows are permuted
    const perm = Array.from({ length: 400 }, (_, i) => 399 - i);
    const cat2: Catalog = Object.fromEntries(Object.entries(cat).map(([k, v]) => [k, Float64Array.from(perm, (i) => v[i])]));
    const sel2 = selectPsfStars(cat2, 1000, 1000, { isolation: 10 });
    expect(new Set([...sel2.reserved].map((i) => perm[i]))).toEqual(new Set(sel.reserved));
    expect(hash3(1, 2, 3)).toBe(hash3(1, 2, 3));
    expect(hash3(1, 2, 3)).not.toBe(hash3(1, 2, 4));
  });

  it('finds the densest value and a saturation plateau', () => {
    expect(sortedMode(Float64Array.of(1, 2, 2.01, 2.02, 2.03, 5, 9), 0.05)).toBeCloseTo(2.015, 10);
    const { cat } = catalog();
    const rows = Array.from({ length: 400 }, (_, i) => i);
    expect(saturationPlateau(cat, rows)).toBeNaN();
    // clip the peaks at 9000 above a background of 100: the brightest tenth now shares one raw peak
    for (const i of rows) cat.FLUX_MAX[i] = Math.min(cat.FLUX_MAX[i], 9000);
    expect(saturationPlateau(cat, rows)).toBe(9100);
    const sel = selectPsfStars(cat, 1000, 1000, { isolation: 10 });
    for (const i of [...sel.stars, ...sel.reserved]) expect(cat.FLUX_MAX[i]).toBeLessThanOrEqual(0.5 * 9000);
  });

  it('chooses the polynomial degree from the number of stars', () => {
    expect([5, 9, 10, 29, 30, 99, 100, 5000].map((n) => chooseDegree(n, 3))).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    expect(chooseDegree(5000, 2)).toBe(2);
  });
});
