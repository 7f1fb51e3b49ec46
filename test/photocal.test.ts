/**
 * Photometric calibration against simulation truth (synthetic catalogues):
 *  - the sigma-clipped weighted mean: recovers the truth in the presence of one-sided outliers (blends), with an
 *    uncertainty whose pulls over many trials have unit scatter; histogram median / MAD against exact values;
 *  - accumulate / merge / solve: per-part accumulations merged (any order) equal one accumulation of everything;
 *  - zero point: truth recovered with flags, SNR and magnitude cuts, the aperture correction applied, and the
 *    optional colour term (off by default, biased when a colour term is present and ignored);
 *  - aperture correction: Gaussian stars with the analytic encircled energy (1 - exp(-r^2 / 2 s^2)) give the
 *    analytic correction; neighbours, faint and flagged stars are left out.
 */
import { describe, expect, it } from 'vitest';
import type { Catalog } from '../src/catalog/schema.js';
import {
  accumulateMean,
  fitApcorr,
  fitZeroPoint,
  histogramMad,
  histogramMedian,
  meanRounds,
  mergeMeans,
  apcorrValues,
  type HistSpec,
} from '../src/photocal/index.js';
import { Rand } from './helpers/astrom-scene.js';

const SPEC: HistSpec = { lo: -5, hi: 5, bin: 0.001 };

function sample(rnd: Rand, n: number, truth: number, outlierFrac: number): { values: Float64Array; weights: Float64Array; good: Uint8Array } {
  const values = new Float64Array(n);
  const weights = new Float64Array(n);
  const good = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const s = 0.005 + 0.05 * rnd.uniform() ** 2;
    const outlier = rnd.uniform() < outlierFrac;
    values[i] = truth + s * rnd.normal() + (outlier ? -(0.3 + 1.5 * rnd.uniform()) : 0);
    weights[i] = 1 / (s * s);
    good[i] = outlier ? 0 : 1;
  }
  return { values, weights, good };
}

describe('sigma-clipped weighted mean', () => {
  it('recovers the truth despite 20 % one-sided outliers, with calibrated uncertainties', () => {
    const rnd = new Rand(4);
    const pulls: number[] = [];
    for (let t = 0; t < 200; t++) {
      const s = sample(rnd, 150, 0.1234, 0.2);
      const r = meanRounds((w) => accumulateMean(s.values, s.weights, SPEC, w));
      expect(r.converged).toBe(true);
      // outliers are clipped (but for the odd mild one within 3 sigma of the truth), few good values are lost
      const nGood = s.good.reduce((a, b) => a + b, 0);
      expect(r.n).toBeLessThanOrEqual(nGood + 2);
      expect(r.n).toBeGreaterThan(0.95 * nGood);
      pulls.push((r.mean - 0.1234) / r.error);
    }
    const mean = pulls.reduce((a, b) => a + b, 0) / pulls.length;
    const sd = Math.sqrt(pulls.reduce((a, b) => a + (b - mean) ** 2, 0) / pulls.length);
    expect(Math.abs(mean)).toBeLessThan(0.25);
    expect(sd).toBeGreaterThan(0.8);
    expect(sd).toBeLessThan(1.25);
    // the plain weighted mean would be biased far beyond the errors
    const s = sample(new Rand(5), 150, 0.1234, 0.2);
    let sw = 0;
    let swx = 0;
    for (let i = 0; i < 150; i++) {
      sw += s.weights[i];
      swx += s.weights[i] * s.values[i];
    }
    expect(Math.abs(swx / sw - 0.1234)).toBeGreaterThan(0.02);
  });

  it('histogram median and MAD agree with the exact values to a bin', () => {
    const s = sample(new Rand(6), 1001, 0.5, 0.1);
    const acc = accumulateMean(s.values, s.weights, SPEC);
    const sorted = Array.from(s.values).sort((a, b) => a - b);
    const med = sorted[500];
    expect(Math.abs(histogramMedian(acc) - med)).toBeLessThan(SPEC.bin);
    const dev = sorted.map((v) => Math.abs(v - med)).sort((a, b) => a - b);
    expect(Math.abs(histogramMad(acc, med) - dev[500])).toBeLessThan(SPEC.bin);
  });

  it('merged part accumulations equal one accumulation of all values, whatever the part order', () => {
    const parts = [0, 1, 2, 3, 4].map((k) => sample(new Rand(40 + k), k === 2 ? 3 : 80 + 10 * k, 27.3, 0.15));
    const all = {
      values: Float64Array.from(parts.flatMap((p) => Array.from(p.values))),
      weights: Float64Array.from(parts.flatMap((p) => Array.from(p.weights))),
    };
    const spec: HistSpec = { lo: 0, hi: 50, bin: 0.005 };
    const merged = (order: number[]) => meanRounds((w) => mergeMeans(order.map((k) => accumulateMean(parts[k].values, parts[k].weights, spec, w, k))));
    const a = merged([0, 1, 2, 3, 4]);
    const b = merged([3, 1, 4, 0, 2]);
    const single = meanRounds((w) => accumulateMean(all.values, all.weights, spec, w));
    expect(b).toEqual(a);
    expect(a.n).toBe(single.n);
    expect(a.rounds).toBe(single.rounds);
    expect(Math.abs(a.mean - single.mean)).toBeLessThan(1e-12);
    expect(Math.abs(a.error - single.error)).toBeLessThan(1e-14);
    expect(Math.abs(a.mean - 27.3)).toBeLessThan(4 * a.error);
  });
});

/** A catalogue of n objects with two apertures (diameters 6 and 30 px) of Gaussian stars (sigma s px). */
function gaussianCatalog(rnd: Rand, n: number, s: number): { cat: Catalog; mag: Float64Array; colour: Float64Array; fracSmall: number; fracLarge: number } {
  const fracSmall = 1 - Math.exp(-(3 * 3) / (2 * s * s));
  const fracLarge = 1 - Math.exp(-(15 * 15) / (2 * s * s));
  const zp = 28.5;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const flags = new Int32Array(n);
  const aper = new Float32Array(2 * n);
  const aperErr = new Float32Array(2 * n);
  const auto = new Float32Array(n);
  const autoErr = new Float32Array(n);
  const mag = new Float64Array(n);
  const colour = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = 50 + rnd.uniform() * 3900;
    y[i] = 50 + rnd.uniform() * 3900;
    mag[i] = 16 + 7 * rnd.uniform();
    colour[i] = 0.2 + 1.5 * rnd.uniform();
    const total = 10 ** (-0.4 * (mag[i] - zp));
    const noise = (area: number) => Math.sqrt(total + area * 400);
    const eS = noise(28);
    const eL = noise(707);
    const fS = total * fracSmall + eS * rnd.normal();
    // the large aperture adds the annulus light and its noise to the small one
    const fL = fS + total * (fracLarge - fracSmall) + Math.sqrt(eL * eL - eS * eS) * rnd.normal();
    aper[2 * i] = fS;
    aper[2 * i + 1] = fL;
    aperErr[2 * i] = eS;
    aperErr[2 * i + 1] = eL;
    auto[i] = total * 0.97 + noise(200) * rnd.normal();
    autoErr[i] = noise(200);
    if (rnd.uniform() < 0.05) flags[i] = 4; // saturated: measured fluxes far too low
    if (flags[i] === 4) {
      aper[2 * i] *= 0.6;
      aper[2 * i + 1] *= 0.7;
    }
  }
  const cat: Catalog = {
    NUMBER: Int32Array.from({ length: n }, (_, i) => i + 1),
    FLAGS: flags,
    XWIN_IMAGE: x,
    YWIN_IMAGE: y,
    FLUX_APER: aper,
    FLUXERR_APER: aperErr,
    FLUX_AUTO: auto,
    FLUXERR_AUTO: autoErr,
  };
  return { cat, mag, colour, fracSmall, fracLarge };
}

describe('aperture correction and zero point', () => {
  it('aperture correction of Gaussian stars equals the analytic encircled-energy ratio', () => {
    const g = gaussianCatalog(new Rand(8), 600, 1.6);
    const truth = -2.5 * Math.log10(g.fracLarge / g.fracSmall);
    // close pairs: the large aperture of each member is contaminated by the other
    const cat = g.cat;
    const x = cat.XWIN_IMAGE as Float64Array;
    const y = cat.YWIN_IMAGE as Float64Array;
    const aper = cat.FLUX_APER as Float32Array;
    for (let i = 0; i < 40; i++) {
      x[2 * i + 1] = x[2 * i] + 8;
      y[2 * i + 1] = y[2 * i] - 5;
      aper[2 * (2 * i) + 1] += 0.3 * aper[2 * (2 * i + 1) + 1];
    }
    const r = fitApcorr(cat, { chosen: { aper: 0 }, large: { aper: 1 }, isolation: 20 });
    expect(r.converged).toBe(true);
    expect(Math.abs(r.apcorr - truth)).toBeLessThan(0.003);
    expect(r.error).toBeLessThan(0.002);
    // left out: the 80 paired stars, the saturated ones and those with SNR < 50 in the large aperture
    const v = apcorrValues(cat, { chosen: { aper: 0 }, large: { aper: 1 }, isolation: 20 });
    for (let i = 0; i < 80; i++) expect(v.weights[i]).toBe(0);
    for (let i = 0; i < 600; i++) {
      const snr = aper[2 * i + 1] / (cat.FLUXERR_APER as Float32Array)[2 * i + 1];
      if ((cat.FLAGS as Int32Array)[i] !== 0 || snr < 50) expect(v.weights[i]).toBe(0);
    }
    expect(v.nStars).toBeGreaterThan(60);
    // a different chosen photometry gets its own correction
    const auto = fitApcorr(cat, { chosen: 'AUTO', large: { aper: 1 }, isolation: 20 });
    expect(Math.abs(auto.apcorr - -2.5 * Math.log10(g.fracLarge / 0.97))).toBeLessThan(0.003);
  });

  it('zero point from matched stars with the aperture correction recovers the truth; colour term optional', () => {
    const rnd = new Rand(9);
    const g = gaussianCatalog(rnd, 500, 1.6);
    const apcorr = -2.5 * Math.log10(g.fracLarge / g.fracSmall);
    // reference magnitudes: truth + noise, a few blends (detections too bright) and a colour term 0.08 colour
    const n = 500;
    const refMag = new Float64Array(n);
    const refErr = new Float64Array(n);
    const aper = g.cat.FLUX_APER as Float32Array;
    for (let i = 0; i < n; i++) {
      refErr[i] = 0.005 + 0.02 * rnd.uniform();
      refMag[i] = g.mag[i] - 0.08 * g.colour[i] + refErr[i] * rnd.normal();
      if (i % 17 === 0) aper[2 * i] *= 1.5;
    }
    // catalog rows i matched to reference rows (n - 1 - i) reversed, to exercise the indexing
    const stars = { source: Array.from({ length: n }, (_, i) => i), ref: Array.from({ length: n }, (_, i) => i) };
    const refRev = Float64Array.from(refMag).reverse();
    const errRev = Float64Array.from(refErr).reverse();
    const colRev = Float64Array.from(g.colour).reverse();
    const starsRev = { source: stars.source, ref: stars.ref.map((i) => n - 1 - i) };
    const flux = Float64Array.from({ length: n }, (_, i) => aper[2 * i]);
    const fluxErr = Float64Array.from({ length: n }, (_, i) => (g.cat.FLUXERR_APER as Float32Array)[2 * i]);
    const withColour = fitZeroPoint(starsRev, flux, fluxErr, g.cat.FLAGS, refRev, { apcorr, refMagErr: errRev, colour: colRev, colourTerm: 0.08 });
    expect(withColour.converged).toBe(true);
    expect(Math.abs(withColour.zeroPoint - 28.5)).toBeLessThan(0.005);
    expect(withColour.error).toBeLessThan(0.003);
    expect(Math.abs(withColour.zeroPoint - 28.5)).toBeLessThan(4 * withColour.error);
    // blends and saturated stars are excluded
    expect(withColour.n).toBeLessThan(n - n / 17 - 10);
    // colour term off (default): biased by 0.08 x the mean colour of the stars
    const noColour = fitZeroPoint(starsRev, flux, fluxErr, g.cat.FLAGS, refRev, { apcorr, refMagErr: errRev });
    expect(Math.abs(noColour.zeroPoint - 28.5 + 0.08 * 0.95)).toBeLessThan(0.02);
    expect(Math.abs(noColour.zeroPoint - 28.5)).toBeGreaterThan(0.05);
    // a magnitude range restricts the stars
    const bright = fitZeroPoint(starsRev, flux, fluxErr, g.cat.FLAGS, refRev, { apcorr, refMagErr: errRev, colour: colRev, colourTerm: 0.08, magRange: [15, 19] });
    expect(bright.n).toBeLessThan(withColour.n - 20);
    expect(bright.n).toBeGreaterThan(50);
    expect(Math.abs(bright.zeroPoint - 28.5)).toBeLessThan(0.01);
  });
});
