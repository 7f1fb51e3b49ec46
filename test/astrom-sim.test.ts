/**
 * End to end on the visit simulator (src/sim): two full-size LSSTCam CCDs (the centre one and a corner one, where
 * the optical distortion is strongest) simulated with truth, run through the per-CCD core (detection and
 * measurement, quick mode's engine), then matched and fitted from the raw header's approximate WCS (pointing
 * error tens of arcsec, no distortion) against the simulated reference catalogue:
 *  - astrometry: the fitted WCS at the TRUE pixel positions of stars detected with SNR_WIN > 50 gives their TRUE
 *    sky positions to < 0.02 px rms;
 *  - photometry: the zero point (12-pixel aperture + aperture correction from bright isolated stars, and
 *    FLUX_AUTO + its aperture correction) is within 0.01 mag of the simulation's; per-CCD accumulations merged
 *    give the same zero point as one accumulation of both CCDs' stars.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { simulateVisit, type SimulateVisitResult } from '../src/sim/visit.js';
import { ccdPipeline, type CcdResult } from '../src/pipeline/ccd.js';
import { defaultConfig } from '../src/pipeline/config.js';
import { runSingle } from '../src/pipeline/single.js';
import { FitsFile } from '../src/fits/index.js';
import { readTableHdu } from '../src/fits/table.js';
import { celestialWcs, type Wcs } from '../src/astrometry/wcs.js';
import { readRefCatalog, type RefCatalog } from '../src/astrometry/refcat.js';
import { solveCcdAstrometry, sourcesFromCatalog, type CcdAstromResult } from '../src/astrometry/fit-ccd.js';
import { projectPoint } from '../src/astrometry/match-plane.js';
import { PlaneGrid } from '../src/astrometry/match-nn.js';
import { accumulateZeroPoint, fitApcorr, fitZeroPoint, mergeMeans, meanRounds, photometry, zeroPointValues, type PhotKind } from '../src/photocal/index.js';

const DETECTORS = [0, 94];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'astrom-sim-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Ccd {
  id: number;
  run: CcdResult;
  header: Wcs;
  solve: CcdAstromResult;
  truth: { x: Float64Array; y: Float64Array; ra: Float64Array; dec: Float64Array; star: boolean[] };
}

let sim: SimulateVisitResult;
let refcat: RefCatalog;
let refErrors: Float64Array;
const ccds: Ccd[] = [];

function column(file: string, names: string[]): Record<string, ArrayLike<unknown>> {
  const f = FitsFile.open(file);
  try {
    const t = readTableHdu(f, 1, { columns: names });
    return Object.fromEntries(names.map((n) => [n, t.columns.find((c) => c.name === n)!.data as ArrayLike<unknown>]));
  } finally {
    f.close();
  }
}

beforeAll(async () => {
  sim = await simulateVisit({ camera: 'lsstcam', visit: 4242, outDir: tmp, detectors: DETECTORS, seed: 7 });
  refcat = readRefCatalog(sim.refcat);
  const e = column(sim.refcat, ['ra_error', 'dec_error']);
  const ra = e.ra_error as ArrayLike<number>;
  const de = e.dec_error as ArrayLike<number>;
  refErrors = Float64Array.from({ length: ra.length }, (_, i) => Math.sqrt((ra[i] ** 2 + de[i] ** 2) / 2) / 1000);
  const config = { ...defaultConfig(), PHOT_APERTURES: [6, 12, 40] };
  for (const [k, id] of DETECTORS.entries()) {
    const raw = sim.raws[k];
    const run = await runSingle(ccdPipeline, '4242', id, { input: { image: { file: raw, hdu: 0 } }, config });
    const f = FitsFile.open(raw);
    const header = celestialWcs(f.hdus[0].header)!;
    f.close();
    const solve = solveCcdAstrometry(sourcesFromCatalog(run.catalog), run.width, run.height, header, refcat, { refErrors });
    const t = column(path.join(tmp, sim.detectors[k].truth), ['x', 'y', 'ra', 'dec', 'type']);
    ccds.push({
      id,
      run,
      header,
      solve,
      truth: {
        x: Float64Array.from(t.x as ArrayLike<number>),
        y: Float64Array.from(t.y as ArrayLike<number>),
        ra: Float64Array.from(t.ra as ArrayLike<number>),
        dec: Float64Array.from(t.dec as ArrayLike<number>),
        star: Array.from(t.type as ArrayLike<string>, (s) => String(s).trim() === 'star'),
      },
    });
  }
}, 240_000);

/** Radial rms (px) of wcs(true pixel) - true sky over truth stars detected (within 1 px) with SNR_WIN > minSnr. */
function truthRms(c: Ccd, wcs: Wcs, minSnr: number): { n: number; rms: number } {
  const cat = c.run.catalog;
  const n = cat.NUMBER.length;
  const grid = new PlaneGrid({ xi: Float64Array.from(cat.XWIN_IMAGE), eta: Float64Array.from(cat.YWIN_IMAGE), n }, 1);
  const q = new Float64Array(2);
  const scale = wcs.pixelScale();
  let ss = 0;
  let m = 0;
  for (let i = 0; i < c.truth.x.length; i++) {
    if (!c.truth.star[i]) continue;
    const j = grid.nearest(c.truth.x[i], c.truth.y[i], 1);
    if (j < 0 || !(cat.SNR_WIN[j] > minSnr)) continue;
    const [ra, dec] = wcs.pixToSky(c.truth.x[i], c.truth.y[i]);
    projectPoint(ra, dec, c.truth.ra[i], c.truth.dec[i], q);
    ss += (q[0] * q[0] + q[1] * q[1]) / (scale * scale);
    m++;
  }
  return { n: m, rms: Math.sqrt(ss / m) };
}

/** Stars used by the astrometric fit: catalog rows and reference rows. */
function matched(c: Ccd): { source: number[]; ref: number[]; mask: Uint8Array } {
  const mask = new Uint8Array(c.run.catalog.NUMBER.length);
  const source: number[] = [];
  const ref: number[] = [];
  c.solve.pairs.source.forEach((s, k) => {
    if (!c.solve.pairs.used[k]) return;
    mask[s] = 1;
    source.push(s);
    ref.push(c.solve.pairs.refRow[k]);
  });
  return { source, ref, mask };
}

describe('simulated LSSTCam CCDs: astrometry against truth', () => {
  it.each(DETECTORS)('detector %d: TAN-SIP fit < 0.02 px rms against truth for SNR > 50 stars', (id) => {
    const c = ccds.find((x) => x.id === id)!;
    const s = c.solve;
    expect(s.ok, s.reason).toBe(true);
    expect(s.model).toBe('poly3');
    expect(s.nUsed).toBeGreaterThan(60);
    expect(s.nRejected).toBeLessThan(0.1 * s.nUsed);
    const t = truthRms(c, s.wcs, 50);
    expect(t.n).toBeGreaterThan(80);
    expect(t.rms).toBeLessThan(0.02);
    // the header WCS was arcseconds to tens of arcsec off
    const h = truthRms(c, c.header, 50);
    expect(h.rms).toBeGreaterThan(10);
    console.log(`detector ${id}: ${s.model}, ${s.nUsed} stars used (${s.nRejected} clipped), rms ${(s.rms * 1000).toFixed(1)} mas; truth rms ${t.rms.toFixed(4)} px over ${t.n} SNR>50 stars (header WCS: ${h.rms.toFixed(1)} px)`);
    // residual rms reported: a few mas (centroids of SNR > 5 stars plus catalogue noise)
    expect(s.rms).toBeGreaterThan(0.002);
    expect(s.rms).toBeLessThan(0.02);
    // the WCS is a 4k x 4k TAN-SIP about the image centre
    expect(s.wcs.params.ctype[0]).toBe('RA---TAN-SIP');
    expect(s.wcs.params.crpix).toEqual([(c.run.width + 1) / 2, (c.run.height + 1) / 2]);
  });
});

describe('simulated LSSTCam CCDs: photometric calibration against truth', () => {
  const kinds: [string, PhotKind][] = [
    ['12-pixel aperture', { aper: 1 }],
    ['FLUX_AUTO', 'AUTO'],
  ];
  it.each(kinds)('zero point from the %s with its aperture correction within 0.01 mag of truth', (_name, kind) => {
    const truthZp = sim.model.photometry.zeroPoint;
    for (const c of ccds) {
      const m = matched(c);
      const ap = fitApcorr(c.run.catalog, { chosen: kind, large: { aper: 2 }, starMask: m.mask, isolation: 25 });
      expect(ap.n).toBeGreaterThanOrEqual(20);
      expect(ap.apcorr).toBeLessThan(0); // the chosen photometry misses light
      expect(ap.apcorr).toBeGreaterThan(-0.15);
      const ph = photometry(c.run.catalog, kind);
      const zp = fitZeroPoint(m, ph.flux, ph.fluxErr, c.run.catalog.FLAGS, refcat.mag, { apcorr: ap.apcorr });
      expect(zp.converged).toBe(true);
      expect(zp.n).toBeGreaterThan(50);
      expect(Math.abs(zp.zeroPoint - truthZp)).toBeLessThan(0.01);
      console.log(`detector ${c.id}, ${_name}: apcorr ${ap.apcorr.toFixed(4)} (${ap.n} stars), ZP ${zp.zeroPoint.toFixed(4)} +- ${zp.error.toFixed(4)} (${zp.n} stars), truth ${truthZp.toFixed(4)}`);
      expect(zp.error).toBeLessThan(0.005);
      // without the aperture correction the zero point is biased by it
      const raw = fitZeroPoint(m, ph.flux, ph.fluxErr, c.run.catalog.FLAGS, refcat.mag);
      expect(Math.abs(raw.zeroPoint - truthZp - ap.apcorr)).toBeLessThan(0.01);
    }
  });

  it('merged per-CCD zero-point accumulations equal one accumulation over both CCDs', () => {
    const perCcd = ccds.map((c) => {
      const m = matched(c);
      const ph = photometry(c.run.catalog, { aper: 2 });
      return zeroPointValues(m, ph.flux, ph.fluxErr, c.run.catalog.FLAGS, refcat.mag);
    });
    const merged = meanRounds((w) => mergeMeans(perCcd.map((v, k) => accumulateZeroPoint(v, w, ccds[k].id))));
    const all = {
      values: Float64Array.from(perCcd.flatMap((v) => Array.from(v.values))),
      weights: Float64Array.from(perCcd.flatMap((v) => Array.from(v.weights))),
    };
    const single = meanRounds((w) => accumulateZeroPoint(all, w));
    expect(merged.n).toBe(single.n);
    expect(merged.rounds).toBe(single.rounds);
    expect(Math.abs(merged.mean - single.mean)).toBeLessThan(1e-12);
    expect(Math.abs(merged.error - single.error)).toBeLessThan(1e-12);
    expect(Math.abs(merged.mean - sim.model.photometry.zeroPoint)).toBeLessThan(0.01);
  });
});
