/**
 * The PSF fit as ACCUMULATE -> MERGE -> SOLVE:
 *  - stars of one simulated CCD split into 4 groups ("CCDs"), accumulated separately and merged, give the same
 *    model as one accumulation over all of them (first pass and refining pass), whatever the merge order, and the
 *    summaries survive the production record codec;
 *  - production's flow over a 2 x 2 mosaic of simulated CCDs in a focal-plane frame (millimetres): per-CCD summaries
 *    merged centrally, the solved model broadcast for the refining pass; the model's FWHM matches the truth across
 *    the focal plane and FLUX_PSF on every CCD is unbiased against the true fluxes.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord } from '../src/pipeline/codec.js';
import { accumulatePsf, mergePsfSummaries, reducePsfSummaries, type PsfSummary } from '../src/psf/accumulate.js';
import { psfGeometry, starsOf, type CcdPsfInput } from '../src/psf/fit.js';
import { psfImageAt, type PsfModel } from '../src/psf/model.js';
import { psfPhotometry } from '../src/psf/photometry.js';
import { ccdFrame, focalFrame } from '../src/psf/poly.js';
import { selectPsfStars, type StarSelection } from '../src/psf/select.js';
import { ShapeMeasurer } from '../src/psf/shape.js';
import { solvePsf } from '../src/psf/solve.js';
import type { MoffatPsf } from '../src/sim/profiles.js';
import { effectiveFwhm, makeScene, runCore, varyingField } from './helpers/psf-scene.js';

const CACHE = path.resolve(__dirname, '.cache/psf');

const maxAbs = (a: Float64Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k])), 0);

describe('merging PSF summaries', () => {
  let input: CcdPsfInput;
  let sel: StarSelection;
  beforeAll(async () => {
    mkdirSync(CACHE, { recursive: true });
    const W = 1024;
    const scene = makeScene({ width: W, height: W, field: varyingField(W, W, 4), nStars: 600, nGalaxies: 200, seed: 5 });
    const core = await runCore(scene, path.join(CACHE, 'merge-1k.fits'));
    input = { image: core.maps.image, rms: core.maps.rms, gain: core.ccd.gain, segmentation: core.det.segmentation, catalog: core.catalog };
    sel = selectPsfStars(core.catalog, W, W);
  }, 60_000);

  it('gives the same model from 4 merged summaries as from one accumulation, in any merge order', () => {
    const W = input.image.width;
    const geometry = psfGeometry(sel.fwhm, ccdFrame(W, W));
    const cat = input.catalog;
    const quadrant = (i: number) => (cat.XWIN_IMAGE[i] > W / 2 ? 1 : 0) + (cat.YWIN_IMAGE[i] > W / 2 ? 2 : 0);
    const groups = [0, 1, 2, 3].map((q) => sel.stars.filter((i) => quadrant(i) === q));
    expect(groups.every((g) => g.length > 10)).toBe(true);
    let prior: PsfModel | undefined;
    for (let pass = 0; pass < 2; pass++) {
      const whole = accumulatePsf(geometry, starsOf(input, sel.stars), { prior }).summary;
      const parts = groups.map((g) => accumulatePsf(geometry, starsOf(input, g), { prior }).summary);
      const merged = mergePsfSummaries(parts);
      expect(merged.nStars).toBe(whole.nStars);
      expect(merged.rejected).toEqual(whole.rejected);
      const a = solvePsf(whole);
      const b = solvePsf(merged);
      expect(b.degree).toBe(a.degree);
      // sums in a different order: equal to float64 rounding
      const rel = maxDiff(a.coeffs, b.coeffs) / maxAbs(a.coeffs);
      console.log(`psf-merge: pass ${pass + 1}: ${whole.nStars} stars, 4 merged summaries vs one: max |coefficient difference| / max |coefficient| = ${rel.toExponential(2)}`);
      expect(rel).toBeLessThan(1e-9);
      // the reducer sorts by detector: any arrival order gives a bit-identical model
      const entries = parts.map((summary, detector) => ({ detector, summary }));
      const r1 = solvePsf(reducePsfSummaries(entries));
      const r2 = solvePsf(reducePsfSummaries([entries[2], { detector: 9, summary: { failed: true as const } }, entries[0], entries[3], entries[1]]));
      expect(Array.from(r2.coeffs)).toEqual(Array.from(r1.coeffs));
      // a summary is small and survives the production record codec
      const bytes = encodeRecord(parts[0]);
      expect(bytes.length).toBeLessThan(64 * 1024);
      const back = decodeRecord<PsfSummary>(bytes);
      expect(Array.from(back.atb)).toEqual(Array.from(parts[0].atb));
      expect(back.geometry).toEqual(parts[0].geometry);
      prior = b;
    }
  });
});

describe('production flow over a 2 x 2 mosaic in focal-plane millimetres', () => {
  const N = 1024;
  const GAP = 40;
  const PIX = 0.015; // mm per pixel
  const span = 2 * N + GAP;
  const centre = (span - 1) / 2;
  /** focal-plane mm of 0-based pixel (x, y) of CCD k (2 x 2 layout, same orientation) */
  const toMm = (k: number, x: number, y: number): [number, number] => [((k % 2) * (N + GAP) + x - centre) * PIX, (Math.floor(k / 2) * (N + GAP) + y - centre) * PIX];
  const rMax = Math.hypot(centre, centre) * PIX;
  /** PSF over the focal plane: FWHM 3 px at one corner to 4 px at the opposite one, ellipticity up to 0.1 */
  const fpField = (fx: number, fy: number): MoffatPsf => varyingField(span, span, 4)(fx / PIX + centre, fy / PIX + centre);
  const ccds: { input: CcdPsfInput; sel: StarSelection; fx: Float64Array; fy: Float64Array; truth: ReturnType<typeof makeScene>['truth'] }[] = [];

  beforeAll(async () => {
    mkdirSync(CACHE, { recursive: true });
    for (let k = 0; k < 4; k++) {
      const scene = makeScene({ width: N, height: N, field: (x, y) => fpField(...toMm(k, x, y)), nStars: 500, nGalaxies: 150, seed: 20 + k });
      const core = await runCore(scene, path.join(CACHE, `mosaic-${k}.fits`));
      const cat = core.catalog;
      const n = cat.NUMBER.length;
      const fx = new Float64Array(n);
      const fy = new Float64Array(n);
      for (let i = 0; i < n; i++) [fx[i], fy[i]] = toMm(k, cat.XWIN_IMAGE[i] - 1, cat.YWIN_IMAGE[i] - 1);
      const input: CcdPsfInput = { image: core.maps.image, rms: core.maps.rms, gain: core.ccd.gain, segmentation: core.det.segmentation, catalog: cat, fx, fy };
      ccds.push({ input, sel: selectPsfStars(cat, N, N, { seed: k }), fx, fy, truth: scene.truth });
    }
  }, 120_000);

  it('fits one model across the CCDs whose FWHM follows the truth within 2% and measures unbiased fluxes', () => {
    // the geometry must be common: from the median of the per-CCD FWHM estimates (a tiny gather in production)
    const fwhms = ccds.map((c) => c.sel.fwhm).sort((a, b) => a - b);
    const geometry = psfGeometry(0.5 * (fwhms[1] + fwhms[2]), focalFrame(rMax));
    let model: PsfModel | undefined;
    for (let pass = 0; pass < 2; pass++) {
      // per CCD: accumulate (the summary is what a CCD posts to the gather); centrally: merge and solve
      const entries = ccds.map((c, detector) => ({ detector, summary: accumulatePsf(geometry, starsOf(c.input, c.sel.stars), { prior: model }).summary }));
      model = solvePsf(reducePsfSummaries(entries));
    }
    const m = model!;
    expect(m.degree).toBe(3);
    expect(m.frame.names).toEqual(['FOCAL_X', 'FOCAL_Y']);
    const sm = new ShapeMeasurer();
    const errs: number[] = [];
    for (const u of [-0.95, -0.5, 0, 0.5, 0.95]) {
      for (const v of [-0.95, -0.5, 0, 0.5, 0.95]) {
        const fx = u * centre * PIX;
        const fy = v * centre * PIX;
        const f = sm.fwhm({ width: m.size, height: m.size, data: psfImageAt(m, fx, fy) }, m.step);
        errs.push(f / effectiveFwhm(fpField(fx, fy)) - 1);
      }
    }
    console.log(`psf-merge: focal-plane model from ${m.nStars} stars on 4 CCDs, degree ${m.degree}: FWHM / truth - 1 max |err| ${(100 * Math.max(...errs.map(Math.abs))).toFixed(2)}%`);
    for (const e of errs) expect(Math.abs(e)).toBeLessThan(0.02);
    // photometry on each CCD with the focal-plane model
    for (const c of ccds) {
      const cat = c.input.catalog;
      const rows = Int32Array.from({ length: cat.NUMBER.length }, (_, i) => i);
      const cols = psfPhotometry(m, starsOf(c.input, rows), { shapes: false, spread: false });
      const ratios: number[] = [];
      for (let i = 0; i < rows.length; i++) {
        if ((cat.FLAGS[i] & 7) !== 0 || !(cols.FLUX_PSF[i] / cols.FLUXERR_PSF[i] > 50)) continue;
        const x = cat.XWIN_IMAGE[i] - 1;
        const y = cat.YWIN_IMAGE[i] - 1;
        const near = c.truth.filter((t) => (t.x - x) ** 2 + (t.y - y) ** 2 < 64);
        if (near.length !== 1 || near[0].type !== 'star' || (near[0].x - x) ** 2 + (near[0].y - y) ** 2 > 2.25) continue;
        ratios.push(cols.FLUX_PSF[i] / near[0].flux - 1);
      }
      ratios.sort((a, b) => a - b);
      const med = ratios[ratios.length >> 1];
      console.log(`psf-merge: CCD ${ccds.indexOf(c)}: FLUX_PSF / truth - 1 median ${(100 * med).toFixed(3)}% over ${ratios.length} stars (SNR > 50)`);
      expect(ratios.length).toBeGreaterThan(50);
      expect(Math.abs(med)).toBeLessThan(0.005);
    }
  });
});
