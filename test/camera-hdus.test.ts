import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cameraFromHdus, pixelToFocal } from '../src/camera/index.js';
import { FitsFile } from '../src/fits/index.js';
import { simulateVisit, type SimulateVisitResult } from '../src/sim/visit.js';
import { UserError } from '../src/util/errors.js';

let tmp = '';
let sim: SimulateVisitResult;
beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'camera-hdus-'));
  sim = await simulateVisit({ camera: 'test', visit: 5, outDir: tmp, seed: 11, scale: 0.5 });
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('cameraFromHdus: the production focal plane from raw headers', () => {
  it('reproduces the true relative geometry of every CCD (rotations, flips, separations)', () => {
    const truth = sim.model.camera;
    const refs = sim.detectors.map((d) => ({ file: path.join(tmp, d.raw), hdu: 0, id: d.id }));
    const { camera, pointing } = cameraFromHdus(refs);
    expect(camera.detectors.map((d) => d.id)).toEqual(truth.detectors.map((d) => d.id));
    // the first CCD's pixel axes are the frame's axes
    expect(Math.abs(camera.detectors[0].rotation)).toBeLessThan(1e-9);
    const t0 = truth.detectors[0];
    camera.detectors.forEach((d, i) => {
      const t = truth.detectors[i];
      // relative orientation and flip as in the true camera (mod 360)
      const rel = (((d.rotation - (t.rotation - t0.rotation)) % 360) + 540) % 360 - 180;
      expect(Math.abs(rel)).toBeLessThan(1e-6);
      expect(!!d.flip).toBe(!!t.flip !== !!t0.flip);
    });
    // distances between pixels of different CCDs (undistorted truth geometry, in arcsec on the sky)
    const pts: [number, number, number][] = truth.detectors.map((t, i) => [i, t.width * 0.2, t.height * 0.7]);
    for (const [i, x, y] of pts) {
      for (const [j, u, v] of pts) {
        if (j <= i) continue;
        const a = pixelToFocal(camera.detectors[i], x, y);
        const b = pixelToFocal(camera.detectors[j], u, v);
        const ta = pixelToFocal(truth.detectors[i], x, y);
        const tb = pixelToFocal(truth.detectors[j], u, v);
        const ours = Math.hypot(a[0] - b[0], a[1] - b[1]) * camera.plateScale;
        const theirs = Math.hypot(ta[0] - tb[0], ta[1] - tb[1]) * truth.plateScale;
        expect(Math.abs(ours - theirs)).toBeLessThan(1e-6 * Math.max(1, theirs));
      }
    }
    // the pointing is the nominal one written in the headers
    expect(pointing.ra).toBeCloseTo(sim.model.nominal.ra, 9);
    expect(pointing.dec).toBeCloseTo(sim.model.nominal.dec, 9);
    const h = FitsFile.open(refs[0].file);
    try {
      expect(h.hdu(0).header.getNumber('CRVAL1')).toBeCloseTo(pointing.ra, 9);
    } finally {
      h.close();
    }
  });

  it('a HDU without a celestial WCS is a UserError naming it', () => {
    const refs = [{ file: path.join(tmp, sim.detectors[0].raw), hdu: 0 }, { file: sim.refcat, hdu: 1 }];
    expect(() => cameraFromHdus(refs)).toThrow(UserError);
    expect(() => cameraFromHdus(refs)).toThrow(/refcat\.fits\[1\]: no celestial TAN WCS/);
  });
});
