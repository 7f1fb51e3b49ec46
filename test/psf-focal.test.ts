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
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { detectorById } from '../src/camera/geometry.js';
import { mergePsfSummaries } from '../src/psf/accumulate.js';
import { fitPsfCcd, type CcdPsfResult } from '../src/psf/fit.js';
import { fitVisitPsf, type FocalCcd, type VisitPsfResult } from '../src/psf/focal.js';
import { psfShapeAt } from '../src/psf/shape.js';
import { solvePsf } from '../src/psf/solve.js';
import { truePsfAt } from '../src/sim/visit.js';
import { cachedVisit, ccdInputs, productionCamera, type FocalVisit } from './helpers/focal-visit.js';
import { effectiveFwhm } from './helpers/psf-scene.js';
import { readTruth, type TruthTable } from './helpers/sim-visit.js';

const CACHE = path.resolve(__dirname, '.cache/fp-psf');

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

/** dT/T (second-moment size T = 2 sigma^2) of the reserve stars that are true unsaturated, isolated stars. */
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
    ccds.forEach((_, i) => {
      expect(Array.from(focal.selections[i].reserved)).toEqual(Array.from(quick[i].selection.reserved));
      expect(Array.from(focal.selections[i].stars)).toEqual(Array.from(quick[i].selection.stars));
      expect(focal.ccds[i].model).toBeDefined();
      expect(Math.abs(focal.ccds[i].residualRotation)).toBeLessThan(1);
    });
    expect(ccds.filter((_, i) => quick[i].selection.stars.length < 15).length).toBeGreaterThanOrEqual(5);
    expect(ccds.some((c) => c.detector.id === v.model.stars.cloud.detector)).toBe(true);
  });

  it('has reserve-star size residuals no worse than the per-CCD fits, and much smaller on star-poor CCDs', () => {
    const TOL = 0.01; // allowed excess of median |dT/T| per CCD (statistical: 1-5 reserve stars per CCD)
    let worst = -Infinity;
    let worstId = -1;
    const poorQ: number[] = [];
    const poorF: number[] = [];
    const allQ: number[] = [];
    const allF: number[] = [];
    ccds.forEach((c, i) => {
      const sel = quick[i].selection;
      const q = reserveSizes(c, sel.reserved, quick[i].reserve?.size, truths[i]);
      const f = reserveSizes(c, sel.reserved, focal.ccds[i].reserve?.size, truths[i]);
      if (q.length === 0 || f.length === 0) return;
      const mq = median(q.map(Math.abs));
      const mf = median(f.map(Math.abs));
      allQ.push(...q);
      allF.push(...f);
      if (sel.stars.length < 15) {
        poorQ.push(...q);
        poorF.push(...f);
        for (const snr of [100, 200]) {
          const q2 = reserveSizes(c, sel.reserved, quick[i].reserve?.size, truths[i], snr);
          const f2 = reserveSizes(c, sel.reserved, focal.ccds[i].reserve?.size, truths[i], snr);
          console.log(`DBG ${c.detector.id} n=${sel.stars.length} snr>${snr}: q ${q2.map((x) => x.toFixed(4))} f ${f2.map((x) => x.toFixed(4))}`);
        }
      }
      if (mf - mq > worst) {
        worst = mf - mq;
        worstId = c.detector.id;
      }
    });
    console.log(`psf-focal: reserve dT/T rms over all CCDs: quick ${rms(allQ).toFixed(4)}, focal ${rms(allF).toFixed(4)} (${allF.length} stars); worst per-CCD excess of median |dT/T| (focal - quick) ${worst.toFixed(4)} on CCD ${worstId}`);
    console.log(`psf-focal: CCDs with < 15 PSF stars: reserve dT/T rms quick ${rms(poorQ).toFixed(4)}, focal ${rms(poorF).toFixed(4)} (${poorF.length} stars), ratio ${(rms(poorF) / rms(poorQ)).toFixed(3)}`);
    expect(worst).toBeLessThan(TOL);
    expect(rms(allF)).toBeLessThan(rms(allQ));
    expect(poorF.length).toBeGreaterThanOrEqual(5);
    expect(rms(poorF)).toBeLessThan(0.5 * rms(poorQ));
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
      const reversedGroups = [parts.slice(120), parts.slice(0, 60), parts.slice(60, 120)].map((g) => mergePsfSummaries(g));
      const grouped = solvePsf(mergePsfSummaries(reversedGroups));
      let maxc = 0;
      let maxd = 0;
      direct.coeffs.forEach((x, k) => {
        maxc = Math.max(maxc, Math.abs(x));
        maxd = Math.max(maxd, Math.abs(x - grouped.coeffs[k]));
      });
      console.log(`psf-focal: pass ${pass + 1}: grouped vs direct merge: max |coefficient difference| / max |coefficient| = ${(maxd / maxc).toExponential(2)}`);
      expect(grouped.degree).toBe(direct.degree);
      expect(maxd / maxc).toBeLessThan(1e-12);
      if (pass === 1) expect(Array.from(direct.coeffs)).toEqual(Array.from(focal.model!.coeffs));
    }
  });
});

describe("focal-plane PSF model on the 'test' camera (CCDs rotated by 90 / 180 degrees, one flipped)", () => {
  let v: FocalVisit;
  let ccds: FocalCcd[];
  let focal: VisitPsfResult;
  beforeAll(async () => {
    v = await cachedVisit(CACHE, 'test', 7, 1, 3, 4);
    const cam = productionCamera(v);
    ccds = v.raws.map((r) => ccdInputs(r.file, detectorById(cam, r.id)!));
    focal = fitVisitPsf(ccds, cam);
  }, 90_000);

  it('orients the model for every CCD: e1, e2 against the truth in pixel axes', () => {
    expect(focal.model).toBeDefined();
    const rows: string[] = [];
    let worst = 0;
    let rotatedSignal = 0;
    for (const [i, c] of ccds.entries()) {
      const det = c.detector;
      for (const [gx, gy] of [[0.25, 0.25], [0.75, 0.25], [0.5, 0.5], [0.25, 0.75], [0.75, 0.75]]) {
        const X = 1 + gx * (det.width - 1);
        const Y = 1 + gy * (det.height - 1);
        const t = truePsfAt(v.model, det.id, X, Y);
        const m = psfShapeAt(focal.ccds[i].model!, X, Y);
        worst = Math.max(worst, Math.hypot(m.e1 - (t.e1 ?? 0), m.e2 - (t.e2 ?? 0)));
        if (det.id === 4 || det.id === 8) rotatedSignal = Math.max(rotatedSignal, Math.hypot(t.e1 ?? 0, t.e2 ?? 0));
        if (gx === 0.5) rows.push(`${det.id}: model (${m.e1.toFixed(3)}, ${m.e2.toFixed(3)}) truth (${(t.e1 ?? 0).toFixed(3)}, ${(t.e2 ?? 0).toFixed(3)})`);
      }
    }
    console.log(`psf-focal: test camera (degree ${focal.model!.degree}, ${focal.model!.nStars} stars), e1/e2 at CCD centres: ${rows.join('; ')}; worst |de| over 5 positions per CCD ${worst.toFixed(4)}`);
    // the truth's ellipticity must be large enough that a wrong orientation (e1 -> -e1 or e2 -> -e2) would fail
    expect(rotatedSignal).toBeGreaterThan(0.03);
    expect(worst).toBeLessThan(0.015);
  });
});
