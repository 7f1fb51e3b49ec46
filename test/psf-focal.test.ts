/**
 * The focal-plane PSF model (src/psf/focal.ts) on simulated visits with truth:
 *  - LSSTCam (scale 0.125, all 189 CCDs, incl. the star-poor cloud CCD): per CCD, the reserve-star size residual of
 *    the focal model against quick mode's per-CCD fit (fitPsfCcd), the model FWHM against the truth on a grid of
 *    positions, FLUX_PSF against the true fluxes, and merging the summaries in different groupings;
 *  - the 'test' camera (CCDs rotated by 90 / 180 degrees and one flipped): the per-CCD model's e1, e2 against the
 *    truth's pixel-frame e1, e2 (the dihedral re-orientation).
 * Truth: the simulator's PSF pattern (truePsfAt) and truth tables; reserve stars are kept only when they match a true,
 * unsaturated star (a galaxy picked as a "star" would measure the selection, not the model).
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cameraFromHdus } from '../src/camera/from-wcs.js';
import { detectorById, pixelToFocal } from '../src/camera/geometry.js';
import type { Camera, DetectorGeom } from '../src/camera/types.js';
import { backgroundStep, detectStep, filterStep, mapsStep, measureStep } from '../src/pipeline/ccd.js';
import { defaultConfig } from '../src/pipeline/config.js';
import { loadCcd } from '../src/pipeline/load.js';
import { mergePsfSummaries } from '../src/psf/accumulate.js';
import { fitPsfCcd, type CcdPsfResult } from '../src/psf/fit.js';
import { fitVisitPsf, reduceFocalModel, type FocalCcd, type VisitPsfResult } from '../src/psf/focal.js';
import { psfImageAt } from '../src/psf/model.js';
import { psfShapeAt } from '../src/psf/shape.js';
import { solvePsf } from '../src/psf/solve.js';
import { loadVisitTruth, simulateVisit, truePsfAt } from '../src/sim/visit.js';
import type { VisitModel } from '../src/sim/visit-model.js';
import { effectiveFwhm } from './helpers/psf-scene.js';
import { readTruth, type TruthTable } from './helpers/sim-visit.js';

const CACHE = path.resolve(__dirname, '.cache/fp-psf');

interface FocalVisit {
  root: string;
  model: VisitModel;
  /** raw files in detector order, with the detector ids */
  raws: { file: string; id: number }[];
}

/** Simulate (or reuse) a visit under test/.cache/fp-psf/<camera>-<visit>-<scale>-<seed>[-d<densityFactor>]. */
async function cachedVisit(cacheRoot: string, camera: string, visit: number, scale: number, seed: number, densityFactor?: number): Promise<FocalVisit> {
  const key = `${camera}-${visit}-${scale}-${seed}${densityFactor ? '-d' + densityFactor : ''}`;
  const root = path.join(cacheRoot, key);
  const truthFile = path.join(root, 'truth', String(visit), 'visit.json');
  if (!existsSync(truthFile)) {
    mkdirSync(root, { recursive: true });
    await simulateVisit({ camera, visit, outDir: root, scale, seed, densityFactor, jobs: 2 });
  }
  const model = loadVisitTruth(truthFile);
  const dir = path.join(root, 'raw', String(visit));
  const files = readdirSync(dir).filter((f) => f.endsWith('.fits')).sort();
  const ids = new Set(model.camera.detectors.map((d) => d.id));
  const raws = files.map((f) => ({ file: path.join(dir, f), id: Number(/_(\d+)\.fits$/.exec(f)![1]) }));
  for (const r of raws) if (!ids.has(r.id)) throw new Error(`unknown detector in ${r.file}`);
  return { root, model, raws };
}

/** The production camera (from the raw headers' WCS) of a visit's raw files. */
function productionCamera(v: FocalVisit): Camera {
  return cameraFromHdus(v.raws.map((r) => ({ file: r.file, hdu: 0, id: r.id }))).camera;
}

/** Run the per-CCD core of quick mode up to measurement and return the PSF stage's inputs. */
function ccdInputs(file: string, detector: DetectorGeom): FocalCcd {
  const c = defaultConfig();
  const ccd = loadCcd({ image: { file, hdu: 0 } }, c);
  const bg = backgroundStep(ccd, c);
  const maps = mapsStep(ccd, bg.model);
  let filtered: Float32Array | undefined;
  const det = detectStep(maps, ccd, c, bg.globalRms, (f) => (filtered = f));
  const cat = measureStep(det, filtered ?? filterStep(maps, ccd, c), maps, ccd, c, bg);
  return { detector, input: { image: maps.image, rms: maps.weightedRms ?? maps.rms, gain: ccd.gain, mask: ccd.mask, segmentation: det.segmentation, catalog: cat } };
}

const median = (a: number[]): number => {
  const s = a.filter(Number.isFinite).sort((x, y) => x - y);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
};
const rms = (a: number[]): number => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);

/** Truth row of the nearest true object within r pixels of a 1-based position, or -1. */
function nearestTruth(t: TruthTable, x: number, y: number, r = 1.5): number {
  let best = -1;
  let bd = r * r;
  for (let i = 0; i < t.n; i++) {
    const d = (t.x[i] - x) ** 2 + (t.y[i] - y) ** 2;
    if (d < bd) {
      bd = d;
      best = i;
    }
  }
  return best;
}

/** dT/T (second-moment size T = 2 sigma^2) of the reserve stars that are true, unsaturated stars (truth match within 1.5 px). */
function reserveSizes(ccd: FocalCcd, reserved: Int32Array, size: Float64Array | undefined, truth: TruthTable, minSnr = 0): number[] {
  const out: number[] = [];
  if (!size) return out;
  reserved.forEach((row, k) => {
    const j = nearestTruth(truth, ccd.input.catalog.XWIN_IMAGE[row], ccd.input.catalog.YWIN_IMAGE[row]);
    if (j < 0 || truth.type[j] !== 'star' || truth.saturated[j] || !Number.isFinite(size[k])) return;
    if (!(ccd.input.catalog.SNR_WIN[row] >= minSnr)) return;
    out.push((1 + size[k]) ** 2 - 1);
  });
  return out;
}

describe('focal-plane PSF model of a simulated LSSTCam visit (scale 0.125, 189 CCDs)', () => {
  let v: FocalVisit;
  let ccds: FocalCcd[];
  let quick: CcdPsfResult[];
  let focal: VisitPsfResult;
  let truths: TruthTable[];
  beforeAll(async () => {
    v = await cachedVisit(CACHE, 'lsstcam', 100, 0.125, 0);
    const cam = productionCamera(v);
    ccds = v.raws.map((r) => ccdInputs(r.file, detectorById(cam, r.id)!));
    quick = ccds.map((c) => fitPsfCcd(c.input, { select: { seed: c.detector.id } }));
    focal = fitVisitPsf(ccds, cam);
    truths = v.raws.map((r) => readTruth(path.join(v.root, 'truth', '100', `truth_100_${String(r.id).padStart(3, '0')}.fits`)));
  }, 120_000);

  it('solves one model over the focal plane, with the same star selection as quick mode', () => {
    expect(focal.model).toBeDefined();
    const m = focal.model!;
    console.log(`psf-focal: visit model degree ${m.degree}, ${m.nStars} stars, ${m.size}x${m.size} samples; summary ${focal.summaries[0][0].atb.length + focal.summaries[0][0].ata.length + focal.summaries[0][0].dtd.length} numbers per CCD`);
    expect(m.degree).toBeGreaterThanOrEqual(3);
    const kinds = (cols: object) => Object.entries(cols).map(([k, a]) => `${k}:${(a as object).constructor.name}`).sort();
    ccds.forEach((_, i) => {
      expect(kinds(focal.ccds[i].columns)).toEqual(kinds(quick[i].columns));
      expect(focal.ccds[i].columns.FLUX_PSF.length).toBe(ccds[i].input.catalog.XWIN_IMAGE.length);
      expect(Array.from(focal.selections[i].reserved)).toEqual(Array.from(quick[i].selection.reserved));
      expect(Array.from(focal.selections[i].stars)).toEqual(Array.from(quick[i].selection.stars));
      expect(focal.ccds[i].model).toBeDefined();
      expect(Math.abs(focal.ccds[i].residualRotation)).toBeLessThan(1);
    });
    expect(ccds.filter((_, i) => quick[i].selection.stars.length < 15).length).toBeGreaterThanOrEqual(5);
    expect(ccds.some((c) => c.detector.id === v.model.stars.cloud.detector)).toBe(true);
  });

  it('has reserve-star size residuals no worse than the per-CCD fits on any CCD, and smaller on star-poor CCDs', () => {
    // per CCD, median |dT/T| over its 1-5 reserve stars; allowed excess 0.02 (about the moment noise of one SNR-30 star)
    const TOL = 0.02;
    let worst = -Infinity;
    let worstId = -1;
    const poor = { q: [] as number[], f: [] as number[], q100: [] as number[], f100: [] as number[] };
    const allQ: number[] = [];
    const allF: number[] = [];
    ccds.forEach((c, i) => {
      const sel = quick[i].selection;
      const q = reserveSizes(c, sel.reserved, quick[i].reserve?.size, truths[i]);
      const f = reserveSizes(c, sel.reserved, focal.ccds[i].reserve?.size, truths[i]);
      if (q.length === 0 || f.length === 0) return;
      const excess = median(f.map(Math.abs)) - median(q.map(Math.abs));
      allQ.push(...q);
      allF.push(...f);
      if (sel.stars.length < 15) {
        poor.q.push(...q);
        poor.f.push(...f);
        poor.q100.push(...reserveSizes(c, sel.reserved, quick[i].reserve?.size, truths[i], 100));
        poor.f100.push(...reserveSizes(c, sel.reserved, focal.ccds[i].reserve?.size, truths[i], 100));
      }
      if (excess > worst) {
        worst = excess;
        worstId = c.detector.id;
      }
    });
    console.log(`psf-focal: reserve dT/T rms over all CCDs: quick ${rms(allQ).toFixed(4)}, focal ${rms(allF).toFixed(4)} (${allF.length} true stars); worst per-CCD excess of median |dT/T| (focal - quick) ${worst.toFixed(4)} on CCD ${worstId}`);
    console.log(`psf-focal: CCDs with < 15 PSF stars: reserve dT/T rms quick ${rms(poor.q).toFixed(4)}, focal ${rms(poor.f).toFixed(4)} (${poor.f.length} stars, ratio ${(rms(poor.f) / rms(poor.q)).toFixed(3)}); SNR_WIN > 100: quick ${rms(poor.q100).toFixed(4)}, focal ${rms(poor.f100).toFixed(4)} (${poor.f100.length} stars, ratio ${(rms(poor.f100) / rms(poor.q100)).toFixed(3)})`);
    expect(allF.length).toBeGreaterThan(500);
    expect(worst).toBeLessThan(TOL);
    expect(rms(allF)).toBeLessThan(rms(allQ));
    expect(poor.f100.length).toBeGreaterThanOrEqual(15);
    // the reserve stars' own moment noise (~1-2% in T even at SNR 100) bounds what they can show: the 2x (and more)
    // improvement on star-poor CCDs is asserted against the truth in the next test
    expect(rms(poor.f100)).toBeLessThan(0.85 * rms(poor.q100));
    expect(rms(poor.f)).toBeLessThan(rms(poor.q));
  });

  it('matches the true FWHM over every CCD (centre; 3 x 3 grid on star-poor CCDs), better than the per-CCD fits on star-poor CCDs', () => {
    const errQ: number[] = [];
    const errF: number[] = [];
    const poorQ: number[] = [];
    const poorF: number[] = [];
    let worstF = 0;
    ccds.forEach((c, i) => {
      const det = c.detector;
      // effectiveFwhm is slow (~30 ms): the centre of every CCD, a 3 x 3 grid on the star-poor ones
      const poor = quick[i].selection.stars.length < 15;
      const grid = poor ? [0.15, 0.5, 0.85] : [0.5];
      for (const gx of grid) {
        for (const gy of grid) {
          const X = 1 + gx * (det.width - 1);
          const Y = 1 + gy * (det.height - 1);
          const truth = effectiveFwhm(truePsfAt(v.model, det.id, X, Y));
          const f = psfShapeAt(focal.ccds[i].model!, X, Y).fwhm / truth - 1;
          const q = quick[i].model ? psfShapeAt(quick[i].model!, X, Y).fwhm / truth - 1 : NaN;
          errF.push(f);
          errQ.push(q);
          worstF = Math.max(worstF, Math.abs(f));
          if (poor) {
            poorF.push(f);
            poorQ.push(Number.isFinite(q) ? q : 1);
          }
        }
      }
    });
    const okQ = errQ.filter(Number.isFinite);
    console.log(`psf-focal: model FWHM / true effective FWHM - 1 at ${errF.length} positions (189 CCD centres, 3 x 3 on star-poor CCDs): focal rms ${rms(errF).toFixed(4)} (worst ${worstF.toFixed(4)}), quick rms ${rms(okQ).toFixed(4)} (${okQ.length} finite); CCDs with < 15 stars: focal rms ${rms(poorF).toFixed(4)}, quick rms ${rms(poorQ).toFixed(4)}`);
    expect(rms(errF)).toBeLessThan(0.01);
    expect(worstF).toBeLessThan(0.03);
    expect(rms(errF)).toBeLessThan(rms(okQ));
    expect(rms(poorF)).toBeLessThan(0.5 * rms(poorQ));
  });

  it('gives unbiased FLUX_PSF (SNR > 50 true stars) against the true fluxes', () => {
    const ratios: number[] = [];
    const perCcd: number[] = [];
    ccds.forEach((c, i) => {
      const cat = c.input.catalog;
      const cols = focal.ccds[i].columns;
      const t = truths[i];
      const r: number[] = [];
      for (let k = 0; k < cat.XWIN_IMAGE.length; k++) {
        if (!(cat.SNR_WIN[k] > 50) || cat.FLAGS[k] !== 0 || cols.FLAGS_PSF[k] !== 0) continue;
        const j = nearestTruth(t, cat.XWIN_IMAGE[k], cat.YWIN_IMAGE[k], 1);
        if (j < 0 || t.type[j] !== 'star' || t.saturated[j]) continue;
        r.push(cols.FLUX_PSF[k] / t.flux[j] - 1);
      }
      ratios.push(...r);
      if (r.length >= 10) perCcd.push(median(r));
    });
    const med = median(ratios);
    console.log(`psf-focal: FLUX_PSF / true flux - 1 (SNR > 50 stars): median ${med.toFixed(4)} over ${ratios.length} stars; per-CCD medians (${perCcd.length} CCDs with >= 10) within [${Math.min(...perCcd).toFixed(4)}, ${Math.max(...perCcd).toFixed(4)}]`);
    expect(ratios.length).toBeGreaterThan(1000);
    expect(Math.abs(med)).toBeLessThan(0.01);
    expect(Math.max(...perCcd.map(Math.abs))).toBeLessThan(0.02);
  });

  it('solves the same model from summaries merged in different groupings', () => {
    for (const pass of [0, 1]) {
      const parts = focal.summaries[pass];
      const direct = solvePsf(mergePsfSummaries(parts));
      // sub-merges in another order (as a hierarchical gather would do): equal to float64 rounding
      const reversedGroups = [parts.slice(120), parts.slice(0, 60), parts.slice(60, 120)].map((g) => mergePsfSummaries(g));
      const grouped = solvePsf(mergePsfSummaries(reversedGroups));
      expect(grouped.degree).toBe(direct.degree);
      const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
        let m = 0;
        let d = 0;
        for (let k = 0; k < a.length; k++) {
          m = Math.max(m, Math.abs(a[k]));
          d = Math.max(d, Math.abs(a[k] - b[k]));
        }
        return d / m;
      };
      const coeffRel = rel(direct.coeffs, grouped.coeffs);
      let imageRel = 0;
      for (const c of ccds) {
        const [fx, fy] = pixelToFocal(c.detector, (c.detector.width - 1) / 2, (c.detector.height - 1) / 2);
        imageRel = Math.max(imageRel, rel(psfImageAt(direct, fx, fy), psfImageAt(grouped, fx, fy)));
      }
      console.log(`psf-focal: pass ${pass + 1}: grouped vs direct merge: PSF images at the 189 CCD centres differ by ${imageRel.toExponential(2)} of their peak; coefficients by ${coeffRel.toExponential(2)} of the largest`);
      expect(imageRel).toBeLessThan(1e-12);
      expect(coeffRel).toBeLessThan(1e-11);
      // the reducer sorts by detector: any arrival order (and failed CCDs) gives a bit-identical model
      const entries = parts.map((summary, i) => ({ detector: ccds[i].detector.id, summary }));
      const shuffled = [...entries.slice(100), { detector: 999, summary: { failed: true as const, message: 'x' } }, ...entries.slice(0, 100).reverse()];
      const a = reduceFocalModel(entries);
      const b = reduceFocalModel(shuffled);
      expect(Array.from(b.model!.coeffs)).toEqual(Array.from(a.model!.coeffs));
      if (pass === 1) expect(Array.from(a.model!.coeffs)).toEqual(Array.from(focal.model!.coeffs));
    }
  });
});

describe("focal-plane PSF model on the 'test' camera (CCDs rotated by 90 / 180 degrees, one flipped)", () => {
  let v: FocalVisit;
  let ccds: FocalCcd[];
  let focal: VisitPsfResult;
  beforeAll(async () => {
    v = await cachedVisit(CACHE, 'test', 7, 1, 3, 32);
    const cam = productionCamera(v);
    ccds = v.raws.map((r) => ccdInputs(r.file, detectorById(cam, r.id)!));
    focal = fitVisitPsf(ccds, cam);
  }, 90_000);

  it('orients the model for every CCD: e1, e2 against the truth in pixel axes', () => {
    expect(focal.model).toBeDefined();
    const rows: string[] = [];
    let worst = 0;
    let worstFwhm = 0;
    // per rotated / flipped CCD: mean |truth component that a missing re-orientation would flip|
    const flipped = new Map<number, number[]>();
    for (const [i, c] of ccds.entries()) {
      const det = c.detector;
      const nStars = focal.selections[i].stars.length;
      for (const [gx, gy] of [[0.25, 0.25], [0.75, 0.25], [0.5, 0.5], [0.25, 0.75], [0.75, 0.75]]) {
        const X = 1 + gx * (det.width - 1);
        const Y = 1 + gy * (det.height - 1);
        const t = truePsfAt(v.model, det.id, X, Y);
        const m = psfShapeAt(focal.ccds[i].model!, X, Y);
        if (gx === 0.5) worstFwhm = Math.max(worstFwhm, Math.abs(m.fwhm / effectiveFwhm(t) - 1));
        const te1 = t.e1 ?? 0;
        const te2 = t.e2 ?? 0;
        // CCDs in the dark cloud (few, galaxy-contaminated "stars") are reported, not asserted
        if (nStars >= 15) worst = Math.max(worst, Math.hypot(m.e1 - te1, m.e2 - te2));
        if (det.id === 4) flipped.set(4, [...(flipped.get(4) ?? []), Math.hypot(te1, te2)]);
        if (det.id === 8) flipped.set(8, [...(flipped.get(8) ?? []), Math.abs(te2)]);
        if (gx === 0.5) rows.push(`${det.id} (${nStars} stars): model (${m.e1.toFixed(3)}, ${m.e2.toFixed(3)}) truth (${te1.toFixed(3)}, ${te2.toFixed(3)})`);
      }
    }
    const signal = Math.min(...[...flipped.values()].map((a) => a.reduce((s, x) => s + x, 0) / a.length));
    console.log(`psf-focal: test camera (degree ${focal.model!.degree}, ${focal.model!.nStars} stars), e1/e2 at CCD centres: ${rows.join('; ')}; worst |de| over 5 positions on CCDs with >= 15 stars ${worst.toFixed(4)}; smallest mean orientation-sensitive truth component on CCDs 4 (90 deg) and 8 (flipped) ${signal.toFixed(4)}; worst |FWHM / truth - 1| at CCD centres (all 9 CCDs) ${worstFwhm.toFixed(4)}`);
    // every CCD, those in the cloud included (their compact galaxies are off the visit's locus), gets the right size
    expect(worstFwhm).toBeLessThan(0.03);
    // a missing or wrong re-orientation of CCD 4 (e -> -e) or 8 (e2 -> -e2) would err by 2 x signal > 0.03
    expect(signal).toBeGreaterThan(0.015);
    expect(worst).toBeLessThan(0.015);
    expect(focal.selections.filter((sel) => sel.stars.length >= 15).length).toBeGreaterThanOrEqual(6);
  });
});
