/**
 * Production-style astrometry on the visit simulator's 'test' camera (3 x 3 CCDs, one rotated by 90 degrees, one
 * by 180, one with a mirrored y axis, a strong distortion field, and a dark cloud leaving three CCDs without a
 * single star and one with seven): every CCD's detections go to focal-plane coordinates (mm) with the camera
 * geometry, then ONE pattern match and ONE fit run over the whole focal plane (frame = focal plane, prior = the
 * camera model at the nominal pointing, parts = CCDs accumulated separately and merged). Each CCD's TAN-SIP WCS
 * is then re-expressed from the focal-plane solution and compared with the simulation's TRUE pixel -> sky map,
 * including the CCDs that had no star. The fit with parts merged equals the fit with one accumulation of all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { simulateVisit, type SimulateVisitResult } from '../src/sim/visit.js';
import { truePixelToSky } from '../src/sim/visit-truth.js';
import { focalPlaneBounds, focalToSky, pixelToFocal } from '../src/camera/geometry.js';
import { ccdPipeline } from '../src/pipeline/ccd.js';
import { defaultConfig } from '../src/pipeline/config.js';
import { runSingle } from '../src/pipeline/single.js';
import { FitsFile } from '../src/fits/index.js';
import { readTableHdu } from '../src/fits/table.js';
import { readRefCatalog, type RefCatalog } from '../src/astrometry/refcat.js';
import { angularDistance } from '../src/astrometry/wcs.js';
import { pixelFrame, type AstromState, type FitFrame } from '../src/astrometry/fit-model.js';
import { stateFromMapping, wcsFromMapping } from '../src/astrometry/fit-sip.js';
import { solveAstrometry, type AstromResult, type AstromSources } from '../src/astrometry/fit-solve.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'astrom-fp-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let sim: SimulateVisitResult;
let src: AstromSources & { part: number[] };
let prior: AstromState;
let refcat: RefCatalog;
let refErrors: Float64Array;
let result: AstromResult;

beforeAll(async () => {
  sim = await simulateVisit({ camera: 'test', visit: 77, outDir: tmp, seed: 3 });
  const m = sim.model;
  const x: number[] = [];
  const y: number[] = [];
  const flux: number[] = [];
  const posErr: number[] = [];
  const flags: number[] = [];
  const snr: number[] = [];
  const part: number[] = [];
  for (const [k, d] of sim.detectors.entries()) {
    const det = m.camera.detectors.find((q) => q.id === d.id)!;
    const c = (await runSingle(ccdPipeline, '77', d.id, { input: { image: { file: sim.raws[k], hdu: 0 } }, config: defaultConfig() })).catalog;
    for (let i = 0; i < c.NUMBER.length; i++) {
      const [fx, fy] = pixelToFocal(det, c.XWIN_IMAGE[i] - 1, c.YWIN_IMAGE[i] - 1);
      x.push(fx);
      y.push(fy);
      flux.push(c.FLUX_AUTO[i]);
      posErr.push(c.ERRAWIN_IMAGE[i] * det.pixelSize);
      flags.push(c.FLAGS[i]);
      snr.push(c.SNR_WIN[i]);
      part.push(d.id);
    }
  }
  src = { n: x.length, x, y, flux, posErr, flags, snr, part };
  const [x0, y0, x1, y1] = focalPlaneBounds(m.camera);
  const frame: FitFrame = { crpix: [0, 0], scale: Math.max(-x0, -y0, x1, y1), box: [x0, y0, x1, y1], width: 0, height: 0 };
  // the camera model (plate scale, rotator angle, nominal distortion) at the nominal pointing, as a solution of order 5
  prior = stateFromMapping(frame, 5, (fx, fy) => focalToSky(m.camera, m.nominal, fx, fy)).state;
  refcat = readRefCatalog(sim.refcat);
  const f = FitsFile.open(sim.refcat);
  const t = readTableHdu(f, 1, { columns: ['ra_error'] });
  f.close();
  refErrors = Float64Array.from(t.columns[0].data as Float32Array, (v) => v / 1000);
  result = solveAstrometry(src, prior, refcat, { order: 3, refErrors });
}, 120_000);

describe('one match and one fit over the focal plane of the test camera', () => {
  it('the scene has CCDs with no star and with few', () => {
    const counts = new Map(sim.detectors.map((d) => [d.id, d.refcatStars]));
    expect([...counts.values()].filter((n) => n === 0).length).toBeGreaterThanOrEqual(2);
    expect([...counts.values()].some((n) => n > 0 && n <= 10)).toBe(true);
  });

  it('solves the focal plane and gives every CCD a WCS matching the truth', () => {
    expect(result.ok, result.reason).toBe(true);
    expect(result.model).toBe('poly3');
    expect(result.nUsed).toBeGreaterThan(100);
    expect(result.rms).toBeLessThan(0.02);
    const m = sim.model;
    const counts = new Map(sim.detectors.map((d) => [d.id, d.refcatStars]));
    let ssAll = 0;
    let nAll = 0;
    for (const det of m.camera.detectors) {
      // the CCD's own TAN-SIP: the focal-plane solution composed with the CCD's pixel -> focal-plane map
      const w = wcsFromMapping(pixelFrame(det.width, det.height), 5, (x, y) => result.wcs.pixToSky(...pixelToFocal(det, x - 1, y - 1)));
      expect(w.maxError).toBeLessThan(1e-4);
      let ss = 0;
      let n = 0;
      for (let j = 0; j <= 8; j++) {
        for (let i = 0; i <= 8; i++) {
          const x = 0.5 + (det.width * i) / 8;
          const y = 0.5 + (det.height * j) / 8;
          const [ra, dec] = w.wcs.pixToSky(x, y);
          const [tr, td] = truePixelToSky(m, det, x, y);
          const e = (angularDistance(ra, dec, tr, td) * 3600) / 0.25;
          ss += e * e;
          n++;
        }
      }
      const rms = Math.sqrt(ss / n);
      ssAll += ss;
      nAll += n;
      // CCDs with stars: a few hundredths of a pixel; starless ones are extrapolated from their neighbours
      expect(rms).toBeLessThan(counts.get(det.id)! >= 20 ? 0.03 : 0.12);
    }
    expect(Math.sqrt(ssAll / nAll)).toBeLessThan(0.05);
    // the prior (camera model at the nominal pointing) was tens of pixels off
    const [ra, dec] = result.wcs.pixToSky(0, 0);
    const [pra, pdec] = stateFromMapping(prior.frame, 1, (x, y) => focalToSky(m.camera, m.nominal, x, y)).state.crval;
    expect(angularDistance(ra, dec, pra, pdec) * 3600).toBeGreaterThan(5);
  });

  it('accumulating per CCD and merging equals one accumulation of all pairs', () => {
    const single = solveAstrometry({ ...src, part: undefined }, prior, refcat, { order: 3, refErrors });
    expect(single.ok).toBe(true);
    expect(single.nUsed).toBe(result.nUsed);
    expect(Array.from(single.pairs.source)).toEqual(Array.from(result.pairs.source));
    expect(Math.abs(single.state.crval[0] - result.state.crval[0])).toBeLessThan(1e-12);
    expect(Math.abs(single.state.crval[1] - result.state.crval[1])).toBeLessThan(1e-12);
    for (let k = 0; k < result.state.cx.length; k++) {
      expect(Math.abs(single.state.cx[k] - result.state.cx[k])).toBeLessThan(1e-9);
      expect(Math.abs(single.state.cy[k] - result.state.cy[k])).toBeLessThan(1e-9);
    }
  });
});
