import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { focalToPixel, pixelToFocal } from '../src/camera/geometry.js';
import { tanPixelToSky } from '../src/camera/tan.js';
import { simulateVisit, type SimulateVisitResult } from '../src/sim/visit.js';
import { loadVisitTruth, nominalWcs, trueBackgroundAt, truePsfAt, trueSkyToPixel } from '../src/sim/visit-truth.js';
import type { VisitModel } from '../src/sim/visit-model.js';
import { hasAstropy, warnNoAstropy } from './helpers/astropy.js';
import { centroid, clippedMean, maskedNear, readRaw, readTruth, simOracle, type TruthTable } from './helpers/sim-visit.js';

const TEMP: string[] = [];
/** A fresh temporary directory, removed after the tests of this file. */
function tempDir(prefix: string): string {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  TEMP.push(d);
  return d;
}
afterAll(() => {
  for (const d of TEMP) rmSync(d, { recursive: true, force: true });
});

warnNoAstropy('visit simulator checks against astropy (headers, header WCS, refcat)');

const arcsec = (a: [number, number], b: [number, number]) =>
  Math.hypot((((a[0] - b[0] + 540) % 360) - 180) * Math.cos((b[1] * Math.PI) / 180), a[1] - b[1]) * 3600;

/** All files under a directory, relative, sorted. */
function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const r = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...listFiles(dir, r));
    else out.push(r);
  }
  return out;
}

describe('simulate: the test camera', () => {
  let run: SimulateVisitResult;
  let root: string;
  let truth: VisitModel;
  const tables = new Map<number, TruthTable>();
  beforeAll(async () => {
    root = tempDir('sim-visit-');
    run = await simulateVisit({ camera: 'test', visit: 41, outDir: root, seed: 11, masks: true });
    truth = loadVisitTruth(run.truth);
    for (const d of truth.camera.detectors) tables.set(d.id, readTruth(path.join(root, `truth/41/truth_41_00${d.id}.fits`)));
  });

  it('writes one raw per CCD, truth tables, refcat and visit.json', () => {
    expect(run.raws.length).toBe(9);
    expect(listFiles(root)).toEqual([
      ...Array.from({ length: 9 }, (_, i) => `raw/41/raw_41_00${i}.fits`),
      ...Array.from({ length: 9 }, (_, i) => `truth/41/mask_41_00${i}.fits`),
      'truth/41/refcat.fits',
      ...Array.from({ length: 9 }, (_, i) => `truth/41/truth_41_00${i}.fits`),
      'truth/41/visit.json',
    ]);
    expect(truth.pointingError.totalArcsec).toBeGreaterThanOrEqual(10);
    expect(truth.pointingError.totalArcsec).toBeLessThanOrEqual(60);
    expect(Math.abs(truth.pointingError.rotationDeg)).toBeGreaterThan(0.004);
    expect(truth.detectors.map((d) => d.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it.skipIf(!hasAstropy)('raw headers (read by astropy) carry the observation keywords and a 16-bit BZERO=32768 image', () => {
    const o = simOracle(run.raws.map((file) => ({ file })));
    o.raws.forEach((r, i) => {
      const det = truth.camera.detectors[i];
      expect([r.bitpix, r.bzero, r.shape[0], r.shape[1]]).toEqual([16, 32768, 512, 512]);
      expect(r.checksum_ok).toBe(true);
      expect(r.header).toMatchObject({ VISIT: 41, DETECTOR: det.id, DETNAME: det.name, FILTER: 'r', EXPTIME: 30, GAIN: 1.5, RDNOISE: 6, SATURATE: truth.photometry.saturation, CTYPE1: 'RA---TAN', CTYPE2: 'DEC--TAN' });
      expect(r.header['MJD-OBS']).toBeCloseTo(truth.mjd, 9);
      expect(r.header.CRVAL1).toBeCloseTo(truth.nominal.ra, 10);
      expect(r.max).toBeLessThanOrEqual(65535);
      expect(r.min).toBeGreaterThanOrEqual(0);
    });
  });

  it.skipIf(!hasAstropy)('the header WCS is off from the truth by the pointing error plus the distortion', () => {
    const pts = truth.camera.detectors.map((d) => {
      const t = tables.get(d.id)!;
      return Array.from({ length: t.n }, (_, i): [number, number] => [t.x[i], t.y[i]]);
    });
    const o = simOracle(run.raws.map((file, i) => ({ file, points: pts[i] })));
    const east: number[] = [];
    const north: number[] = [];
    let worstNominal = 0;
    let worstTrue = 0;
    truth.camera.detectors.forEach((d, k) => {
      const t = tables.get(d.id)!;
      const w = nominalWcs(truth, d);
      o.raws[k].sky.forEach(([ra, dec], i) => {
        east.push((ra - t.ra[i]) * Math.cos((t.dec[i] * Math.PI) / 180) * 3600);
        north.push((dec - t.dec[i]) * 3600);
        worstNominal = Math.max(worstNominal, arcsec([ra, dec], tanPixelToSky(w, t.x[i], t.y[i])));
        const [tx, ty] = trueSkyToPixel(truth, d, t.ra[i], t.dec[i]);
        worstTrue = Math.max(worstTrue, Math.hypot(tx - t.x[i], ty - t.y[i]));
      });
    });
    // astropy reads back exactly the nominal WCS we meant to write; the truth functions reproduce the truth tables
    expect(worstNominal).toBeLessThan(1e-6);
    expect(worstTrue).toBeLessThan(1e-6);
    // the header position of each true star is off by minus the pointing error, to within the distortion (a few px)
    const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
    expect(med(east)).toBeCloseTo(-truth.pointingError.eastArcsec, 0);
    expect(med(north)).toBeCloseTo(-truth.pointingError.northArcsec, 0);
    const resid = east.map((e, i) => Math.hypot(e - med(east), north[i] - med(north)));
    const maxResid = Math.max(...resid);
    console.log(`header WCS - truth: median (${med(east).toFixed(2)}, ${med(north).toFixed(2)}) arcsec, distortion residual up to ${maxResid.toFixed(2)} arcsec`);
    expect(maxResid).toBeGreaterThan(0.3);
    expect(maxResid).toBeLessThan(5);
  });

  it('bright isolated stars are centred where the truth says (0.05 px)', () => {
    const errs: number[] = [];
    let sdx = 0;
    let sdy = 0;
    for (const d of truth.camera.detectors) {
      const t = tables.get(d.id)!;
      const img = readRaw(path.join(root, `raw/41/raw_41_00${d.id}.fits`));
      const mask = readRaw(path.join(root, `truth/41/mask_41_00${d.id}.fits`));
      const bad = truth.detectors[d.id].badColumns.map((x) => x.x + 1);
      for (let i = 0; i < t.n; i++) {
        if (t.type[i] !== 'star' || t.saturated[i] || t.peak[i] < 2500 || t.peak[i] > 30000) continue;
        const r = 3 * t.fwhm[i];
        if (t.x[i] < r + 2 || t.y[i] < r + 2 || t.x[i] > d.width - r - 2 || t.y[i] > d.height - r - 2) continue;
        if (bad.some((bx) => Math.abs(bx - t.x[i]) < r + 2)) continue;
        if (maskedNear(mask, t.x[i], t.y[i], r, 2 | 4 | 16)) continue; // hot pixel, cosmic ray or bleed
        // no neighbour able to pull the centroid by more than ~0.005 px (flux ratio times distance)
        let crowded = false;
        for (let j = 0; j < t.n && !crowded; j++) {
          const dist = Math.hypot(t.x[j] - t.x[i], t.y[j] - t.y[i]);
          if (j !== i && dist < r + 3 * t.fwhm[i] && (t.flux[j] / t.flux[i]) * dist > 0.005) crowded = true;
        }
        if (crowded) continue;
        const [cx, cy] = centroid(img, t.x[i], t.y[i], t.fwhm[i], (x, y) => trueBackgroundAt(truth, d, x, y));
        errs.push(Math.hypot(cx - t.x[i], cy - t.y[i]));
        sdx += cx - t.x[i];
        sdy += cy - t.y[i];
      }
    }
    errs.sort((a, b) => a - b);
    const n = errs.length;
    console.log(`windowed centroids of ${n} bright isolated stars vs truth: median ${errs[n >> 1]?.toFixed(4)} px, max ${errs[n - 1]?.toFixed(4)} px, mean offset (${(sdx / n).toFixed(4)}, ${(sdy / n).toFixed(4)}) px`);
    expect(n).toBeGreaterThanOrEqual(5);
    expect(errs[n - 1]).toBeLessThan(0.05);
    expect(errs[n >> 1]).toBeLessThan(0.02);
    // no systematic offset (a half-pixel or axis-convention slip would show here)
    expect(Math.abs(sdx / n)).toBeLessThan(0.01);
    expect(Math.abs(sdy / n)).toBeLessThan(0.01);
  });

  it('reruns are byte-identical, with worker threads and for any detector subset or order', async () => {
    const again = tempDir('sim-visit-');
    await simulateVisit({ camera: 'test', visit: 41, outDir: again, seed: 11, jobs: 2, masks: true });
    const files = listFiles(root);
    expect(listFiles(again)).toEqual(files);
    for (const f of files) expect(readFileSync(path.join(again, f)).equals(readFileSync(path.join(root, f))), f).toBe(true);
    const subset = tempDir('sim-visit-');
    await simulateVisit({ camera: 'test', visit: 41, outDir: subset, seed: 11, detectors: [7, 4], masks: true });
    for (const f of ['raw/41/raw_41_004.fits', 'raw/41/raw_41_007.fits', 'truth/41/truth_41_007.fits', 'truth/41/refcat.fits']) {
      expect(readFileSync(path.join(subset, f)).equals(readFileSync(path.join(root, f))), f).toBe(true);
    }
    expect(existsSync(path.join(subset, 'raw/41/raw_41_000.fits'))).toBe(false);
    // the rest of the visit added in a second run: visit.json then equals the one-run visit's
    await simulateVisit({ camera: 'test', visit: 41, outDir: subset, seed: 11, detectors: [0, 1, 2, 3, 5, 6, 8], masks: true });
    expect(readFileSync(path.join(subset, 'truth/41/visit.json'), 'utf8')).toBe(readFileSync(path.join(root, 'truth/41/visit.json'), 'utf8'));
    // another simulation under the same visit id in the same repository is refused before writing anything
    await expect(simulateVisit({ camera: 'test', visit: 41, outDir: subset, seed: 12, detectors: [4] })).rejects.toThrow(/other parameters/);
    // a different seed changes the pixels
    const other = tempDir('sim-visit-');
    await simulateVisit({ camera: 'test', visit: 41, outDir: other, seed: 12, detectors: [4] });
    expect(readFileSync(path.join(other, 'raw/41/raw_41_004.fits')).equals(readFileSync(path.join(root, 'raw/41/raw_41_004.fits')))).toBe(false);
  });

  it('the background is one smooth function of focal-plane position, continuous across the gaps, and the pixels follow it', () => {
    const cam = truth.camera;
    const byId = (id: number) => cam.detectors[id];
    let worstSame = 0;
    let worstEdge = 0;
    for (const [a, b] of [[0, 1], [1, 2], [3, 4], [4, 5], [0, 3], [4, 7], [5, 8], [7, 8]] as const) {
      const da = byId(a);
      const db = byId(b);
      // a focal-plane point midway in the gap, seen from both detectors' (extrapolated) pixel frames
      const [ax, ay] = da.center;
      const [bx, by] = db.center;
      const mid: [number, number] = [(ax + bx) / 2, (ay + by) / 2];
      const [pa, qa] = focalToPixel(da, mid[0], mid[1]);
      const [pb, qb] = focalToPixel(db, mid[0], mid[1]);
      const va = trueBackgroundAt(truth, da, pa + 1, qa + 1);
      const vb = trueBackgroundAt(truth, db, pb + 1, qb + 1);
      worstSame = Math.max(worstSame, Math.abs(va - vb) / va);
      // the nearest edge pixels on either side of the gap differ only by the gradient across the 0.3 mm gap
      const clampA = [Math.min(da.width - 1, Math.max(0, pa)), Math.min(da.height - 1, Math.max(0, qa))];
      const clampB = [Math.min(db.width - 1, Math.max(0, pb)), Math.min(db.height - 1, Math.max(0, qb))];
      const ea = trueBackgroundAt(truth, da, clampA[0] + 1, clampA[1] + 1);
      const eb = trueBackgroundAt(truth, db, clampB[0] + 1, clampB[1] + 1);
      const [fa0, fa1] = pixelToFocal(da, clampA[0], clampA[1]);
      const [fb0, fb1] = pixelToFocal(db, clampB[0], clampB[1]);
      expect(Math.hypot(fa0 - fb0, fa1 - fb1)).toBeLessThan(0.4);
      worstEdge = Math.max(worstEdge, Math.abs(ea - eb) / ea);
    }
    expect(worstSame).toBeLessThan(1e-12);
    expect(worstEdge).toBeLessThan(2e-3);
    // the gradient is real: it varies across the focal plane by more than 1%
    const levels = cam.detectors.map((d) => trueBackgroundAt(truth, d, d.width / 2, d.height / 2));
    expect((Math.max(...levels) - Math.min(...levels)) / Math.min(...levels)).toBeGreaterThan(0.01);
    // the pixels follow the model: clipped means of 64x64 boxes in each CCD's corners agree with it to 1%
    let worstPix = 0;
    for (const d of cam.detectors) {
      const img = readRaw(path.join(root, `raw/41/raw_41_00${d.id}.fits`));
      const bad = new Set(truth.detectors[d.id].badColumns.map((x) => x.x));
      for (const [x0, y0] of [[8, 8], [d.width - 72, d.height - 72]]) {
        const v: number[] = [];
        for (let y = y0; y < y0 + 64; y++) for (let x = x0; x < x0 + 64; x++) if (!bad.has(x)) v.push(img.data[y * d.width + x]);
        const model = trueBackgroundAt(truth, d, x0 + 32.5, y0 + 32.5);
        worstPix = Math.max(worstPix, Math.abs(clippedMean(v) - model) / model);
      }
    }
    console.log(`background: model continuity ${worstSame.toExponential(1)}, edge pixels ${worstEdge.toExponential(1)}, pixels vs model ${(100 * worstPix).toFixed(2)}%`);
    expect(worstPix).toBeLessThan(0.01);
  });

  it('the PSF pattern is the same focal-plane function on every CCD (rotated CCDs see rotated ellipticities)', () => {
    const d3 = truth.camera.detectors[3];
    const d4 = truth.camera.detectors[4]; // rotated by 90 degrees
    // the focal-plane point at the shared edge of CCDs 3 and 4, evaluated through both
    const mid = [(d3.center[0] + d4.center[0]) / 2, d3.center[1]];
    const [x3, y3] = focalToPixel(d3, mid[0], mid[1]);
    const [x4, y4] = focalToPixel(d4, mid[0], mid[1]);
    const p3 = truePsfAt(truth, d3, x3 + 1, y3 + 1);
    const p4 = truePsfAt(truth, d4, x4 + 1, y4 + 1);
    expect(p4.fwhm).toBeCloseTo(p3.fwhm, 10);
    expect(p4.e1).toBeCloseTo(-p3.e1, 10);
    expect(p4.e2).toBeCloseTo(-p3.e2, 10);
    // and it varies across the field
    const fw = truth.camera.detectors.map((d) => truePsfAt(truth, d, 256, 256).fwhmArcsec);
    expect(Math.max(...fw) - Math.min(...fw)).toBeGreaterThan(0.001);
    // the truth table's PSF columns are the truth function at the object
    const t = tables.get(4)!;
    for (let i = 0; i < Math.min(t.n, 50); i++) {
      const p = truePsfAt(truth, d4, t.x[i], t.y[i]);
      expect(t.fwhm[i]).toBeCloseTo(p.fwhm, 4);
      expect(t.e1[i]).toBeCloseTo(p.e1, 5);
    }
  });

  it.skipIf(!hasAstropy)('the reference catalogue holds the bright stars with realistic noise, some missing, and a few CCDs have < 10 stars', () => {
    const o = simOracle([], run.refcat).refcat!;
    expect(o.columns).toEqual(expect.arrayContaining(['ra', 'dec', 'phot_g_mean_mag', 'source_id']));
    const ref = new Map(o.source_id.map((id, i) => [id, i]));
    const dpos: number[] = [];
    const dmag: number[] = [];
    let faintIn = 0;
    let missing = 0;
    for (const t of tables.values()) {
      for (let i = 0; i < t.n; i++) {
        if (t.type[i] !== 'star') continue;
        const k = ref.get(t.id[i]);
        expect(k !== undefined, `star ${t.id[i]} in_refcat=${t.in_refcat[i]}`).toBe(t.in_refcat[i]);
        if (t.mag[i] >= truth.stars.refcatLimit && k !== undefined) faintIn++;
        if (t.mag[i] < truth.stars.refcatLimit && k === undefined) missing++;
        if (k === undefined) continue;
        dpos.push(arcsec([o.ra[k], o.dec[k]], [t.ra[i], t.dec[i]]) * 1000);
        dmag.push(o.phot_g_mean_mag[k] - t.mag[i]);
      }
    }
    expect(faintIn).toBe(0);
    expect(missing).toBeGreaterThan(0);
    const rms = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    console.log(`refcat: ${o.n} stars; ${dpos.length} matched on the CCDs, position noise rms ${rms(dpos).toFixed(1)} mas, mag noise rms ${rms(dmag).toFixed(4)}; ${missing} bright stars missing`);
    expect(rms(dpos)).toBeGreaterThan(1);
    expect(rms(dpos)).toBeLessThan(30);
    expect(rms(dmag)).toBeGreaterThan(0.001);
    expect(rms(dmag)).toBeLessThan(0.05);
    const counts = truth.detectors.map((d) => d.stars);
    expect(counts.filter((n) => n < 10).length).toBeGreaterThanOrEqual(1);
    expect(truth.detectors[truth.stars.cloud.detector].stars).toBeLessThan(10);
    expect(Math.max(...counts)).toBeGreaterThan(100);
  });

  it('the defect mask marks dead columns, hot pixels and cosmic rays that show in the pixels', () => {
    let crPixels = 0;
    let hot = 0;
    const crExcess: number[] = [];
    for (const d of truth.camera.detectors) {
      const img = readRaw(path.join(root, `raw/41/raw_41_00${d.id}.fits`));
      const mask = readRaw(path.join(root, `truth/41/mask_41_00${d.id}.fits`));
      const s = truth.detectors[d.id];
      expect(s.badColumns.length).toBeGreaterThanOrEqual(1);
      for (const b of s.badColumns) {
        const v: number[] = [];
        for (let y = b.y0; y <= b.y1; y++) {
          v.push(img.data[y * d.width + b.x]);
          expect(mask.data[y * d.width + b.x] & 1).toBe(1);
        }
        expect(clippedMean(v)).toBeLessThan(10);
      }
      for (let i = 0; i < img.data.length; i++) {
        const m = mask.data[i];
        if (!(m & 6) || m & 1) continue;
        const bg = trueBackgroundAt(truth, d, (i % d.width) + 1, Math.floor(i / d.width) + 1);
        const excess = (img.data[i] - bg) / Math.sqrt(bg / truth.photometry.gain);
        if (m & 2) {
          hot++;
          expect(excess).toBeGreaterThan(5); // 2000 e- or more of dark charge
        }
        if (m & 4) {
          crPixels++;
          crExcess.push(excess);
        }
      }
      expect(s.cosmics).toBeGreaterThanOrEqual(1);
    }
    expect(crPixels).toBeGreaterThan(20);
    expect(hot).toBeGreaterThan(5);
    // track pixels stand out (a pixel merely clipped by a track may receive little charge)
    expect(crExcess.sort((a, b) => a - b)[crExcess.length >> 1]).toBeGreaterThan(10);
  });

  it('saturated stars reach the saturation level in the pixels; galaxies are present', () => {
    let checked = 0;
    for (const d of truth.camera.detectors) {
      const t = tables.get(d.id)!;
      const img = readRaw(path.join(root, `raw/41/raw_41_00${d.id}.fits`));
      for (let i = 0; i < t.n; i++) {
        if (!t.saturated[i]) continue;
        const x = Math.round(t.x[i] - 1);
        const y = Math.round(t.y[i] - 1);
        let max = 0;
        for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx >= 0 && yy >= 0 && xx < d.width && yy < d.height) max = Math.max(max, img.data[yy * d.width + xx]);
        }
        expect(max).toBeGreaterThan(truth.photometry.saturation - 30);
        checked++;
      }
      expect(t.type.filter((s) => s === 'galaxy').length).toBeGreaterThan(10);
    }
    expect(checked).toBeGreaterThan(0);
  });
});
