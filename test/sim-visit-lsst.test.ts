import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { focalToPixel, loadCamera } from '../src/camera/index.js';
import { main } from '../src/production/cli.js';
import { simulateVisitCcd } from '../src/sim/visit-ccd.js';
import { makeVisitModel, type VisitModel } from '../src/sim/visit-model.js';
import { loadVisitTruth, trueBackgroundAt, trueSkyToPixel } from '../src/sim/visit-truth.js';
import { hasAstropy, warnNoAstropy } from './helpers/astropy.js';
import { centroid, maskedNear, readRaw, readTruth, simOracle } from './helpers/sim-visit.js';

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

warnNoAstropy('LSSTCam visit-simulator header checks against astropy');

/** Run `lsst-prod` in-process, capturing stdout and stderr. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await main(args);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('lsst-prod simulate: a 9-CCD LSSTCam subset at --scale 0.125', () => {
  let summary: { raws: string[]; truth: string; refcat: string; detectors: number };
  let truth: VisitModel;
  beforeAll(async () => {
    const repo = tempDir('sim-lsst-');
    const r = await cli(['simulate', '--camera', 'lsstcam', '--visit', '2024', '--repo', repo, '--detectors', '90-98', '--scale', '0.125', '--seed', '4', '--masks', '--json']);
    expect(r.code, r.err).toBe(0);
    summary = JSON.parse(r.out);
    truth = loadVisitTruth(summary.truth);
  });

  it('writes the raft R22 as 509x500 CCDs with the LSSTCam names and the visit truth', () => {
    expect(summary.detectors).toBe(9);
    expect(summary.raws.map((f) => path.basename(f))).toEqual(Array.from({ length: 9 }, (_, i) => `raw_2024_0${90 + i}.fits`));
    expect(truth.camera.detectors.every((d) => d.width === 509 && d.height === 500)).toBe(true);
    expect(truth.detectors.map((d) => d.name)).toEqual(['R22_S00', 'R22_S01', 'R22_S02', 'R22_S10', 'R22_S11', 'R22_S12', 'R22_S20', 'R22_S21', 'R22_S22']);
    expect(truth.scale).toBe(0.125);
    expect(truth.pointingError.totalArcsec).toBeGreaterThanOrEqual(10);
    expect(truth.pointingError.totalArcsec).toBeLessThanOrEqual(60);
    for (const d of truth.detectors) expect(d.stars).toBeGreaterThan(20);
  });

  it.skipIf(!hasAstropy)('headers (astropy) are right and their WCS is off from the truth by the pointing error', () => {
    const tables = truth.detectors.map((d) => readTruth(path.join(path.dirname(path.dirname(path.dirname(summary.truth))), d.truth)));
    const o = simOracle(summary.raws.map((file, k) => ({ file, points: Array.from({ length: tables[k].n }, (_, i): [number, number] => [tables[k].x[i], tables[k].y[i]]) })));
    let worst = 0;
    o.raws.forEach((r, k) => {
      const det = truth.detectors[k];
      expect([r.bitpix, r.bzero, r.shape[0], r.shape[1]]).toEqual([16, 32768, 500, 509]);
      expect(r.header).toMatchObject({ VISIT: 2024, DETECTOR: det.id, DETNAME: det.name, FILTER: 'r', GAIN: 1.5, RDNOISE: 6 });
      const t = tables[k];
      r.sky.forEach(([ra, dec], i) => {
        // header position minus truth = minus the pointing error (rotation and distortion are < 0.1 arcsec this near the axis)
        const east = (ra - t.ra[i]) * Math.cos((t.dec[i] * Math.PI) / 180) * 3600 + truth.pointingError.eastArcsec;
        const north = (dec - t.dec[i]) * 3600 + truth.pointingError.northArcsec;
        worst = Math.max(worst, Math.hypot(east, north));
      });
    });
    console.log(`R22: header WCS - truth + pointing error: worst ${worst.toFixed(3)} arcsec (pointing error ${truth.pointingError.totalArcsec.toFixed(1)} arcsec)`);
    expect(worst).toBeLessThan(0.3);
  });

  it('bright isolated stars are centred on their true positions (0.05 px)', () => {
    const root = path.dirname(path.dirname(path.dirname(summary.truth)));
    const errs: number[] = [];
    truth.detectors.forEach((s) => {
      const d = truth.camera.detectors.find((x) => x.id === s.id)!;
      const t = readTruth(path.join(root, s.truth));
      const img = readRaw(path.join(root, s.raw));
      const mask = readRaw(path.join(root, s.mask!));
      for (let i = 0; i < t.n; i++) {
        if (t.type[i] !== 'star' || t.saturated[i] || t.peak[i] < 2500 || t.peak[i] > 30000) continue;
        const r = 3 * t.fwhm[i];
        if (t.x[i] < r + 2 || t.y[i] < r + 2 || t.x[i] > d.width - r - 2 || t.y[i] > d.height - r - 2) continue;
        if (s.badColumns.some((b) => Math.abs(b.x + 1 - t.x[i]) < r + 2)) continue;
        if (maskedNear(mask, t.x[i], t.y[i], r, 2 | 4 | 16)) continue;
        let crowded = false;
        for (let j = 0; j < t.n && !crowded; j++) {
          const dist = Math.hypot(t.x[j] - t.x[i], t.y[j] - t.y[i]);
          if (j !== i && dist < r + 3 * t.fwhm[i] && (t.flux[j] / t.flux[i]) * dist > 0.005) crowded = true;
        }
        if (crowded) continue;
        const [cx, cy] = centroid(img, t.x[i], t.y[i], t.fwhm[i], (x, y) => trueBackgroundAt(truth, d, x, y));
        errs.push(Math.hypot(cx - t.x[i], cy - t.y[i]));
      }
    });
    errs.sort((a, b) => a - b);
    console.log(`R22: ${errs.length} stars, centroid error median ${errs[errs.length >> 1]?.toFixed(4)} px, max ${errs[errs.length - 1]?.toFixed(4)} px`);
    expect(errs.length).toBeGreaterThanOrEqual(5);
    expect(errs[errs.length - 1]).toBeLessThan(0.05);
    expect(errs[errs.length >> 1]).toBeLessThan(0.02);
  });

  it('the background truth is continuous between the raft CCDs in focal-plane coordinates', () => {
    const cam = truth.camera;
    const get = (id: number) => cam.detectors.find((d) => d.id === id)!;
    for (const [a, b] of [[94, 95], [94, 97], [90, 91]]) {
      const da = get(a);
      const db = get(b);
      const mid = [(da.center[0] + db.center[0]) / 2, (da.center[1] + db.center[1]) / 2];
      const [xa, ya] = focalToPixel(da, mid[0], mid[1]);
      const [xb, yb] = focalToPixel(db, mid[0], mid[1]);
      const va = trueBackgroundAt(truth, da, xa + 1, ya + 1);
      expect(Math.abs(va - trueBackgroundAt(truth, db, xb + 1, yb + 1)) / va).toBeLessThan(1e-12);
    }
  });

  it('rejects bad input with exit code 2 and one line', async () => {
    const repo = tempDir('sim-lsst-');
    for (const args of [
      ['--camera', 'hsc', '--visit', '1'],
      ['--camera', 'lsstcam', '--visit', '1', '--detectors', '189'],
      ['--camera', 'lsstcam', '--visit', '1', '--scale', '0'],
      ['--camera', 'lsstcam', '--visit', '../x'],
      ['--camera', 'lsstcam', '--visit', '1', '--seed', 'abc'],
      ['--camera', 'lsstcam'],
    ]) {
      const r = await cli(['simulate', '--repo', repo, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim().split('\n')[0]).toMatch(/^lsst-prod: error: /);
    }
  });
});

describe('other cameras and speed', () => {
  it('DECam (flipped, affine CCDs) and MegaCam detectors simulate consistently with their truth', () => {
    for (const [name, id] of [['decam', 33], ['megacam', 13]] as const) {
      const m = makeVisitModel(loadCamera(name), '77', { seed: 1, scale: 0.125 });
      const det = m.camera.detectors.find((d) => d.id === id)!;
      const ccd = simulateVisitCcd(m, det);
      expect(ccd.pixels.length).toBe(det.width * det.height);
      expect(ccd.rows.length).toBeGreaterThan(10);
      for (const r of ccd.rows.slice(0, 20)) {
        const [x, y] = trueSkyToPixel(m, det, r.ra, r.dec);
        expect(Math.hypot(x - r.x, y - r.y)).toBeLessThan(1e-6);
      }
    }
  });

  it('a full-size LSSTCam CCD (4072x4000) simulates in a few seconds', () => {
    const m = makeVisitModel(loadCamera('lsstcam'), '9', { seed: 2 });
    const det = m.camera.detectors[94];
    const t0 = performance.now();
    const ccd = simulateVisitCcd(m, det);
    const s = (performance.now() - t0) / 1000;
    const stars = ccd.rows.filter((r) => r.type === 'star').length;
    console.log(`full-size ${det.name}: ${s.toFixed(2)} s, ${stars} stars, ${ccd.rows.length - stars} galaxies, ${ccd.cosmics} cosmic rays`);
    expect(ccd.pixels.length).toBe(4072 * 4000);
    expect(s).toBeLessThan(30);
  });
});
