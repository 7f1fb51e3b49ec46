/**
 * PSF model and PSF photometry against simulation truth, on a 2048 x 2048 CCD run through the real per-CCD core
 * (background, detection, measurement) and the quick-mode PSF stage:
 *  - 2000 pixel-integrated elliptical Moffat stars (beta 4) whose FWHM grows from 3 px at one corner to 4 px at the
 *    opposite one, ellipticity up to 0.1; 1000 PSF-convolved Sersic galaxies (r_half 0.8-4 px); Poisson + read noise;
 *  - the model FWHM on a 5 x 5 grid of positions against the truth FWHM of the effective (pixel-convolved) PSF,
 *    computed by direct numerical integration of the analytic profile (test/helpers/psf-scene.ts);
 *  - FLUX_PSF against the true fluxes (isolated stars, SNR > 50), error pulls, star/galaxy separation with
 *    SPREAD_MODEL, reserve-star residuals, the interpolated per-source PSF shape columns; timings are printed.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CcdCore } from '../src/pipeline/ccd.js';
import { fitPsfCcd, type CcdPsfResult } from '../src/psf/fit.js';
import { psfImageAt } from '../src/psf/model.js';
import { isExtended } from '../src/psf/photometry.js';
import { adaptiveMoments, psfShapeAt, ShapeMeasurer } from '../src/psf/shape.js';
import { effectiveFwhm, makeScene, runCore, varyingField, type Scene } from './helpers/psf-scene.js';
import { median } from './helpers/stats.js';

const W = 2048;
const H = 2048;
const field = varyingField(W, H, 4);
const CACHE = path.resolve(__dirname, '.cache/psf');

let scene: Scene;
let core: CcdCore;
let res: CcdPsfResult;
/** catalog row -> truth index (nearest within 1.5 px), or -1 */
let match: Int32Array;
/** truth objects with no other truth object within 8 px */
let isolated: Uint8Array;

const robustWidth = (a: number[]) => {
  const m = median(a);
  return 1.4826 * median(a.map((v) => Math.abs(v - m)));
};

beforeAll(async () => {
  mkdirSync(CACHE, { recursive: true });
  const t0 = performance.now();
  scene = makeScene({ width: W, height: H, field, nStars: 2000, nGalaxies: 1000, seed: 1 });
  const t1 = performance.now();
  core = await runCore(scene, path.join(CACHE, 'sim-2k.fits'));
  const t2 = performance.now();
  res = fitPsfCcd({ image: core.maps.image, rms: core.maps.rms, gain: core.ccd.gain, mask: core.ccd.mask, segmentation: core.det.segmentation, catalog: core.catalog });
  const t3 = performance.now();
  const cat = core.catalog;
  const n = cat.NUMBER.length;
  const T = scene.truth;
  // grid hash of the truth for matching and isolation
  const cell = 16;
  const grid = new Map<number, number[]>();
  T.forEach((t, k) => {
    const key = Math.floor(t.y / cell) * 1000 + Math.floor(t.x / cell);
    (grid.get(key) ?? grid.set(key, []).get(key)!).push(k);
  });
  const near = (x: number, y: number, r: number): number[] => {
    const out: number[] = [];
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      for (const k of grid.get((Math.floor(y / cell) + dy) * 1000 + Math.floor(x / cell) + dx) ?? []) if ((T[k].x - x) ** 2 + (T[k].y - y) ** 2 <= r * r) out.push(k);
    }
    return out;
  };
  isolated = Uint8Array.from(T, (t) => (near(t.x, t.y, 8).length === 1 ? 1 : 0));
  match = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bd = 1.5 * 1.5;
    for (const k of near(cat.XWIN_IMAGE[i] - 1, cat.YWIN_IMAGE[i] - 1, 1.5)) {
      const d = (T[k].x - cat.XWIN_IMAGE[i] + 1) ** 2 + (T[k].y - cat.YWIN_IMAGE[i] + 1) ** 2;
      if (d <= bd) {
        bd = d;
        best = k;
      }
    }
    match[i] = best;
  }
  console.log(
    `psf-sim: ${n} sources; scene ${((t1 - t0) / 1000).toFixed(1)} s, core ${((t2 - t1) / 1000).toFixed(1)} s; PSF stage ${((t3 - t2) / 1000).toFixed(2)} s ` +
      `(select ${res.seconds.select.toFixed(3)}, model fit ${res.seconds.model.toFixed(3)}, FLUX_PSF for ${n} sources ${res.seconds.photometry.toFixed(3)}, ` +
      `reserve ${res.seconds.validate.toFixed(3)} s); model ${res.model?.size}x${res.model?.size} degree ${res.model?.degree}, ${res.model?.nStars} stars, ${res.selection.reserved.length} reserved`,
  );
}, 120_000);

describe('PSF on a simulated CCD with a varying PSF', () => {
  it('builds a model whose FWHM is within 2% of the truth everywhere on the CCD', () => {
    const m = res.model!;
    expect(m).toBeDefined();
    expect(m.degree).toBe(3);
    const errs: number[] = [];
    for (const fy of [0.02, 0.26, 0.5, 0.74, 0.98]) {
      for (const fx of [0.02, 0.26, 0.5, 0.74, 0.98]) {
        const x = fx * (W - 1);
        const y = fy * (H - 1);
        const sh = psfShapeAt(m, x + 1, y + 1);
        const truth = field(x, y);
        const err = sh.fwhm / effectiveFwhm(truth) - 1;
        errs.push(err);
        expect(Math.abs(err)).toBeLessThan(0.02);
        // ellipticity of the model (adaptive moments) follows the truth's (up to 0.1) to 0.015
        expect(Math.abs(sh.e1 - truth.e1!)).toBeLessThan(0.015);
        expect(Math.abs(sh.e2 - truth.e2!)).toBeLessThan(0.015);
      }
    }
    console.log(`psf-sim: model FWHM / truth - 1 on a 5x5 grid: max |err| ${(100 * Math.max(...errs.map(Math.abs))).toFixed(2)}%, mean ${(100 * errs.reduce((a, b) => a + b, 0) / errs.length).toFixed(2)}%`);
  });

  it('measures FLUX_PSF without bias (SNR > 50) and with error pulls of unit width', () => {
    const cat = core.catalog;
    const { FLUX_PSF, FLUXERR_PSF } = res.columns;
    const ratios: number[] = [];
    const pulls: number[] = [];
    for (let i = 0; i < match.length; i++) {
      const k = match[i];
      if (k < 0 || scene.truth[k].type !== 'star' || !isolated[k] || (cat.FLAGS[i] & 7) !== 0) continue;
      const t = scene.truth[k].flux;
      const snr = FLUX_PSF[i] / FLUXERR_PSF[i];
      if (snr > 50) ratios.push(FLUX_PSF[i] / t - 1);
      pulls.push((FLUX_PSF[i] - t) / FLUXERR_PSF[i]);
    }
    const bias = median(ratios);
    const width = robustWidth(pulls);
    console.log(`psf-sim: FLUX_PSF / truth - 1 (SNR > 50, ${ratios.length} stars): median ${(100 * bias).toFixed(3)}%; pulls (${pulls.length} stars): median ${median(pulls).toFixed(2)}, robust width ${width.toFixed(3)}`);
    expect(ratios.length).toBeGreaterThan(500);
    expect(Math.abs(bias)).toBeLessThan(0.005);
    expect(Math.abs(width - 1)).toBeLessThan(0.1);
    expect(Math.abs(median(pulls))).toBeLessThan(0.5);
  });

  it('separates stars from galaxies with SPREAD_MODEL at >= 95% purity (SNR > 20)', () => {
    const cat = core.catalog;
    const { SPREAD_MODEL, SPREADERR_MODEL } = res.columns;
    let ss = 0, sg = 0, gs = 0, gg = 0;
    for (let i = 0; i < match.length; i++) {
      const k = match[i];
      if (k < 0 || !isolated[k] || (cat.FLAGS[i] & 7) !== 0 || !(cat.SNR_WIN[i] > 20)) continue;
      const ext = isExtended(SPREAD_MODEL[i], SPREADERR_MODEL[i]);
      if (scene.truth[k].type === 'star') ext ? sg++ : ss++;
      else ext ? gg++ : gs++;
    }
    const starPurity = ss / (ss + gs);
    const galPurity = gg / (gg + sg);
    console.log(`psf-sim: stars classified as stars ${ss}, as galaxies ${sg}; galaxies as galaxies ${gg}, as stars ${gs}: star purity ${starPurity.toFixed(3)}, galaxy purity ${galPurity.toFixed(3)}, star completeness ${(ss / (ss + sg)).toFixed(3)}, galaxy completeness ${(gg / (gg + gs)).toFixed(3)}`);
    expect(ss + gs).toBeGreaterThan(500);
    expect(gg + sg).toBeGreaterThan(200);
    expect(starPurity).toBeGreaterThanOrEqual(0.95);
    expect(galPurity).toBeGreaterThanOrEqual(0.95);
  });

  it('reports reserve-star residuals close to zero', () => {
    const r = res.reserve!;
    expect(r.n).toBeGreaterThan(50);
    const { flux, size, e1, e2 } = r.stats;
    console.log(`psf-sim: reserve residuals (${r.n} stars): flux ${(100 * flux.median).toFixed(2)}% +- ${(100 * flux.scatter).toFixed(2)}%, size ${(100 * size.median).toFixed(2)}% +- ${(100 * size.scatter).toFixed(2)}%, e1 ${e1.median.toFixed(4)} +- ${e1.scatter.toFixed(4)}, e2 ${e2.median.toFixed(4)} +- ${e2.scatter.toFixed(4)}`);
    expect(Math.abs(flux.median)).toBeLessThan(0.005);
    // Lanczos-3 applied twice (stamp -> model grid -> pixels) sharpens the model by ~0.5% in sigma
    expect(Math.abs(size.median)).toBeLessThan(0.012);
    expect(Math.abs(e1.median)).toBeLessThan(0.005);
    expect(Math.abs(e2.median)).toBeLessThan(0.005);
    // the PSF stars and the reserved ones are disjoint and flagged in PSF_STAR
    const ps = res.columns.PSF_STAR;
    for (const i of res.selection.reserved) expect(ps[i]).toBe(2);
    expect(res.selection.stars.filter((i) => ps[i] === 1).length).toBe(res.model!.nStars);
  });

  it('gives each source the FWHM and moments of its local model (grid interpolation within 0.3%)', () => {
    const m = res.model!;
    const sm = new ShapeMeasurer();
    const cat = core.catalog;
    for (let i = 0; i < cat.NUMBER.length; i += 97) {
      const img = psfImageAt(m, cat.XWIN_IMAGE[i], cat.YWIN_IMAGE[i]);
      const exact = sm.fwhm({ width: m.size, height: m.size, data: img }, m.step);
      expect(Math.abs(res.columns.FWHMPSF_IMAGE[i] / exact - 1)).toBeLessThan(0.003);
      const mo = adaptiveMoments({ width: m.size, height: m.size, data: img }, m.step, (m.size - 1) / 2, (m.size - 1) / 2, 1.5);
      expect(Math.abs(res.columns.X2PSF_IMAGE[i] / mo.mxx - 1)).toBeLessThan(0.003);
    }
  });
});
