import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cameraFromWcs, loadCamera, pixelToFocal, type Camera } from '../src/camera/index.js';
import { hasAstropy, PYTHON, warnNoAstropy } from './helpers/astropy.js';
import { hasShared, repoRoot, sharedPath, warnNoShared } from './helpers/shared.js';

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

warnNoAstropy('cameraFromWcs tests (the MEF fixtures are written by astropy)');
warnNoShared('cameraFromWcs tests (they use the SCAMP .ahead files)');

const MAKE = path.join(repoRoot, 'test/helpers/make_ahead_mef.py');

function makeMef(ahead: string, w: number, h: number, bin: number, compress: boolean, form: 'cd' | 'pc' = 'cd'): string {
  const out = path.join(tempDir('camera-wcs-'), 'mef.fits');
  const r = spawnSync(PYTHON, [MAKE, sharedPath(ahead), out, String(w), String(h), String(bin), compress ? '1' : '0', '210.5', '-12.25', form], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`fixture failed: ${r.stderr}`);
  return out;
}

/** Largest focal-plane distance (mm) between corresponding pixels of two cameras' detectors (b's pixel = a's + shift). */
function worstMismatch(a: Camera, b: Camera, shift: [number, number] = [0, 0]): number {
  let worst = 0;
  a.detectors.forEach((da, i) => {
    const db = b.detectors[i];
    for (const [x, y] of [[0, 0], [da.width - 1, 0], [da.width - 1, da.height - 1], [0, da.height - 1], [da.width / 2, da.height / 3]]) {
      const [ax, ay] = pixelToFocal(da, x, y);
      const [bx, by] = pixelToFocal(db, x + shift[0], y + shift[1]);
      worst = Math.max(worst, Math.hypot(ax - bx, ay - by));
    }
  });
  return worst;
}

describe.skipIf(!hasAstropy || !hasShared)('cameraFromWcs', () => {
  it.each(['cd', 'pc'] as const)('recovers the DECam geometry from a MEF with the .ahead WCS (8x8 binned images, %s form)', (form) => {
    const decam = loadCamera('decam');
    const cam = cameraFromWcs(makeMef('cameras/decam.ahead', 2040, 4088, 8, false, form), { pixelSize: 0.12 });
    expect(cam.detectors.length).toBe(62);
    expect(cam.detectors.every((d) => d.width === 255 && d.height === 511)).toBe(true);
    expect(cam.plateScale).toBeCloseTo(decam.plateScale, 9);
    let worstCentre = 0;
    let worstRot = 0;
    let worstAffine = 0;
    cam.detectors.forEach((d, i) => {
      const ref = decam.detectors[i];
      worstCentre = Math.max(worstCentre, Math.hypot(d.center[0] - ref.center[0], d.center[1] - ref.center[1]));
      worstRot = Math.max(worstRot, Math.abs(d.rotation - ref.rotation));
      expect(!!d.flip).toBe(!!ref.flip);
      for (let k = 0; k < 4; k++) worstAffine = Math.max(worstAffine, Math.abs((d.affine ?? [1, 0, 0, 1])[k] - (ref.affine ?? [1, 0, 0, 1])[k]));
      expect(d.name).toBe(`CCD${String(i).padStart(2, '0')}`);
    });
    console.log(`DECam from WCS: centre ${worstCentre.toExponential(2)} mm, rotation ${worstRot.toExponential(2)} deg, affine ${worstAffine.toExponential(2)}`);
    expect(worstCentre).toBeLessThan(1e-6);
    expect(worstRot).toBeLessThan(1e-8);
    expect(worstAffine).toBeLessThan(1e-9);
  });

  it('recovers MegaCam from tile-compressed HDUs on the raw 2112x4644 grid (imaging area offset by 32 columns)', () => {
    const megacam = loadCamera('megacam');
    const cam = cameraFromWcs(makeMef('cameras/megacam.ahead', 2112, 4644, 1, true), { pixelSize: 0.0135 });
    expect(cam.detectors.length).toBe(36);
    expect(cam.detectors.every((d) => d.width === 2112 && d.height === 4644)).toBe(true);
    // the built-in camera's pixel (x, y) is the raw grid's (x + 32, y)
    const worst = worstMismatch(megacam, cam, [32, 0]);
    console.log(`MegaCam from WCS: worst focal-plane mismatch ${worst.toExponential(2)} mm`);
    expect(worst).toBeLessThan(1e-6);
    // a wrong offset is detected (sanity of the comparison)
    expect(worstMismatch(megacam, cam, [0, 0])).toBeGreaterThan(0.4);
  });
});
