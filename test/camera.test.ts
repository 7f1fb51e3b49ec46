import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  cameraToJson,
  detectorCorners,
  distort,
  findDetector,
  focalPlaneBounds,
  focalPlaneRadius,
  focalToPixel,
  loadCamera,
  nominalLinear,
  pixelToFocal,
  pixelToSky,
  scaleCamera,
  skyToPixel,
  undistort,
  type Camera,
  type DetectorGeom,
  type Pointing,
} from '../src/camera/index.js';
import { Rng } from '../src/sim/rng.js';
import { UserError } from '../src/util/errors.js';
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

warnNoAstropy('camera tests against astropy TAN WCS');
warnNoShared('camera tests on the SCAMP .ahead files');

const ORACLE = path.join(repoRoot, 'test/helpers/camera_sky_oracle.py');

/** Run the astropy oracle on a JSON request. */
function oracle(req: unknown): { sky: [number, number][]; blocks: number } {
  const r = spawnSync(PYTHON, [ORACLE], { input: JSON.stringify(req), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`oracle failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Angular distance in arcsec (small angles). */
function arcsec(a: [number, number], b: [number, number]): number {
  const dra = ((((a[0] - b[0] + 540) % 360) - 180) * Math.cos((a[1] * Math.PI) / 180));
  return Math.hypot(dra, a[1] - b[1]) * 3600;
}

/** Convex polygons overlap with positive area (separating-axis test with a small tolerance). */
function polygonsOverlap(p: [number, number][], q: [number, number][], tol = 1e-9): boolean {
  for (const poly of [p, q]) {
    for (let i = 0; i < poly.length; i++) {
      const [x1, y1] = poly[i];
      const [x2, y2] = poly[(i + 1) % poly.length];
      const nx = y2 - y1;
      const ny = x1 - x2;
      const proj = (pts: [number, number][]) => pts.map(([x, y]) => x * nx + y * ny);
      const a = proj(p);
      const b = proj(q);
      if (Math.max(...a) <= Math.min(...b) + tol * Math.hypot(nx, ny) || Math.max(...b) <= Math.min(...a) + tol * Math.hypot(nx, ny)) return false;
    }
  }
  return true;
}

const BUILTINS = ['lsstcam', 'decam', 'megacam', 'test'] as const;

describe('LSSTCam', () => {
  const cam = loadCamera('lsstcam');
  it('has 189 science CCDs of 4072x4000 10 um pixels at 0.2 arcsec/pixel, ids 0..188 in name order', () => {
    expect(cam.detectors.length).toBe(189);
    for (const [i, d] of cam.detectors.entries()) {
      expect(d.id).toBe(i);
      expect([d.width, d.height, d.pixelSize]).toEqual([4072, 4000, 0.01]);
    }
    expect(cam.plateScale * 0.01).toBeCloseTo(0.2, 12);
    const names = cam.detectors.map((d) => d.name);
    expect(new Set(names).size).toBe(189);
    expect(names[0]).toBe('R01_S00');
    expect(names[188]).toBe('R43_S22');
    expect(names[94]).toBe('R22_S11');
    expect(names.some((n) => /^R(00|04|40|44)_/.test(n))).toBe(false);
    expect([...names].sort()).toEqual(names);
    // the centre CCD sits on the optical axis
    expect(cam.detectors[94].center).toEqual([0, 0]);
  });
  it('has no overlapping CCDs and a focal plane about 63 cm across', () => {
    const corners = cam.detectors.map((d) => detectorCorners(d));
    let pairs = 0;
    for (let i = 0; i < corners.length; i++) {
      for (let j = i + 1; j < corners.length; j++) {
        expect(polygonsOverlap(corners[i], corners[j]), `${cam.detectors[i].name} vs ${cam.detectors[j].name}`).toBe(false);
        pairs++;
      }
    }
    expect(pairs).toBe((189 * 188) / 2);
    // the overlap test itself detects an overlap
    expect(polygonsOverlap(corners[0], corners[0].map(([x, y]) => [x + 1, y + 1]))).toBe(true);
    const [x0, y0, x1, y1] = focalPlaneBounds(cam);
    expect(x1 - x0).toBeGreaterThan(620);
    expect(x1 - x0).toBeLessThan(640);
    expect(y1 - y0).toBeGreaterThan(620);
    expect(y1 - y0).toBeLessThan(640);
    // raft pitch 127 mm, CCD pitch 42.25 mm
    const byName = new Map(cam.detectors.map((d) => [d.name, d]));
    expect(byName.get('R23_S11')!.center[0] - byName.get('R22_S11')!.center[0]).toBeCloseTo(127, 9);
    expect(byName.get('R22_S21')!.center[1] - byName.get('R22_S11')!.center[1]).toBeCloseTo(42.25, 9);
  });
  it('finds the detector under a focal-plane position, none in gaps', () => {
    for (const d of cam.detectors) {
      expect(findDetector(cam, d.center[0], d.center[1])?.id).toBe(d.id);
      const [fx, fy] = pixelToFocal(d, 0, d.height - 1);
      expect(findDetector(cam, fx, fy)?.id).toBe(d.id);
    }
    // between R22_S11 and R22_S12 (x gap of 42.25 - 40.72 mm), and outside the corner raft hole
    expect(findDetector(cam, 42.25 / 2, 0)).toBeUndefined();
    expect(findDetector(cam, -254, -254)).toBeUndefined();
    expect(findDetector(cam, 400, 0)).toBeUndefined();
  });
  it('--scale 0.125 shrinks CCDs to 509x500 keeping centres and pixel scale', () => {
    const s = scaleCamera(cam, 0.125);
    expect(s.detectors.every((d) => d.width === 509 && d.height === 500)).toBe(true);
    expect(s.detectors.map((d) => d.center)).toEqual(cam.detectors.map((d) => d.center));
    expect(s.plateScale).toBe(cam.plateScale);
  });
});

describe('conventions', () => {
  const cam = loadCamera('test');
  const p0: Pointing = { ra: 150, dec: 2, rotation: 0 };
  const noDist: Camera = { ...cam, distortion: { rRef: 1, k1: 0, k2: 0 } };
  it('at rotator 0, +x on an unrotated detector points west and +y north; rotator 90 turns +y east', () => {
    const d = noDist.detectors[0];
    const [ra0, dec0] = pixelToSky(noDist, d, p0, 100, 100);
    const [rax, decx] = pixelToSky(noDist, d, p0, 110, 100);
    const [ray, decy] = pixelToSky(noDist, d, p0, 100, 110);
    expect(rax).toBeLessThan(ra0);
    expect(Math.abs(decx - dec0)).toBeLessThan(1e-7);
    expect(decy - dec0).toBeCloseTo((10 * 0.25) / 3600, 7);
    expect(Math.abs(ray - ra0)).toBeLessThan(1e-7);
    const p90 = { ...p0, rotation: 90 };
    const [a0, b0] = pixelToSky(noDist, d, p90, 100, 100);
    const [a1, b1] = pixelToSky(noDist, d, p90, 100, 110);
    expect((a1 - a0) * Math.cos((b0 * Math.PI) / 180) * 3600).toBeCloseTo(2.5, 3);
    expect(Math.abs(b1 - b0)).toBeLessThan(1e-7);
  });
  it('detector rotation turns the pixel axes counter-clockwise, flip mirrors y', () => {
    const rot90 = cam.detectors[4];
    const flipped = cam.detectors[8];
    const [x0, y0] = pixelToFocal(rot90, 10, 10);
    const [x1, y1] = pixelToFocal(rot90, 11, 10);
    expect([x1 - x0, y1 - y0].map((v) => Math.round(v * 1e9) / 1e9)).toEqual([0, 0.01]);
    const [fx0, fy0] = pixelToFocal(flipped, 10, 10);
    const [fx1, fy1] = pixelToFocal(flipped, 10, 11);
    expect([fx1 - fx0, fy1 - fy0].map((v) => Math.round(v * 1e9) / 1e9)).toEqual([0, -0.01]);
  });
});

describe.each(BUILTINS)('%s round trips', (name) => {
  const cam = loadCamera(name);
  const rng = Rng.stream(7, 0, name.length, 99);
  const pointings: Pointing[] = [
    { ra: 10.5, dec: -30, rotation: 0 },
    { ra: 359.99, dec: 45, rotation: 37.5 },
    { ra: 200, dec: 88.5, rotation: -120 },
  ];
  it('pixel -> focal plane -> pixel to 1e-9 px and pixel -> sky -> pixel to 1e-6 px', () => {
    let worstFp = 0;
    let worstSky = 0;
    for (const det of cam.detectors) {
      for (let k = 0; k < 4; k++) {
        const x = rng.between(-0.5, det.width - 0.5);
        const y = rng.between(-0.5, det.height - 0.5);
        const [fx, fy] = pixelToFocal(det, x, y);
        const [bx, by] = focalToPixel(det, fx, fy);
        worstFp = Math.max(worstFp, Math.hypot(bx - x, by - y));
        const p = pointings[k % pointings.length];
        const [ra, dec] = pixelToSky(cam, det, p, x, y);
        const [sx, sy] = skyToPixel(cam, det, p, ra, dec);
        worstSky = Math.max(worstSky, Math.hypot(sx - x, sy - y));
      }
    }
    expect(worstFp).toBeLessThan(1e-9);
    expect(worstSky).toBeLessThan(1e-6);
  });
  it('distortion inverse is exact', () => {
    let worst = 0;
    const r = 1.2 * focalPlaneRadius(cam);
    for (let k = 0; k < 200; k++) {
      const ux = rng.between(-r, r);
      const uy = rng.between(-r, r);
      const [dx, dy] = distort(cam.distortion, ux, uy);
      const [bx, by] = undistort(cam.distortion, dx, dy);
      worst = Math.max(worst, Math.hypot(bx - ux, by - uy));
    }
    expect(worst).toBeLessThan(1e-9);
  });
  it('committed JSON equals the generator output and reloads identically', () => {
    const dir = tempDir('camera-');
    const file = path.join(dir, `${name}-copy.json`);
    writeFileSync(file, cameraToJson(cam));
    expect(loadCamera(file)).toEqual(cam);
    expect(readFileSync(path.join(repoRoot, 'data/cameras', `${name}.json`), 'utf8')).toBe(cameraToJson(cam));
  });
});

describe('loadCamera errors', () => {
  it('rejects unknown names and malformed files with a UserError', () => {
    expect(() => loadCamera('hsc')).toThrow(UserError);
    const dir = tempDir('camera-');
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'x', plateScale: 20, detectors: [{ id: 0, name: 'a', width: 10, height: 10, pixelSize: 0.01, center: [0], rotation: 0 }] }));
    expect(() => loadCamera(bad)).toThrow(/detectors\[0\]\.center/);
    writeFileSync(bad, '{ not json');
    expect(() => loadCamera(bad)).toThrow(UserError);
  });
});

describe.skipIf(!hasAstropy)('nominal TAN headers against astropy', () => {
  it('the rigid, distortion-free geometry equals the nominal CRPIX/CD TAN WCS to 1e-6 arcsec', () => {
    for (const name of ['lsstcam', 'test'] as const) {
      const full = loadCamera(name);
      const rigid: Camera = { ...full, distortion: { rRef: 1, k1: 0, k2: 0 }, detectors: full.detectors.map((d) => ({ ...d, affine: undefined })) };
      const p: Pointing = { ra: 53.1, dec: -27.8, rotation: 23 };
      const wcs = rigid.detectors.map((d) => ({ ...nominalLinear(rigid, d, p.rotation), crval: [p.ra, p.dec] }));
      const points: [number, number, number][] = [];
      const ours: [number, number][] = [];
      rigid.detectors.forEach((d: DetectorGeom, i) => {
        for (const [x, y] of [[0, 0], [d.width - 1, 0], [d.width - 1, d.height - 1], [0, d.height - 1], [d.width / 3, d.height / 5]]) {
          points.push([i, x + 1, y + 1]);
          ours.push(pixelToSky(rigid, d, p, x, y));
        }
      });
      const { sky } = oracle({ wcs, points });
      const worst = Math.max(...sky.map((s, i) => arcsec(s, ours[i])));
      expect(worst).toBeLessThan(1e-6);
    }
  });
});

describe.skipIf(!hasAstropy || !hasShared)('DECam and MegaCam from SCAMP .ahead', () => {
  const cases = [
    { name: 'decam', file: 'cameras/decam.ahead', n: 62, origin: [1, 1], size: [2040, 4088], scale: 0.263 },
    { name: 'megacam', file: 'cameras/megacam.ahead', n: 36, origin: [33, 1], size: [2048, 4612], scale: 0.187 },
  ];
  it.each(cases)('$name: pixel -> sky through our camera matches the .ahead TAN WCS (astropy) within 0.1 arcsec at CCD corners', (c) => {
    const cam = loadCamera(c.name);
    expect(cam.detectors.length).toBe(c.n);
    expect(cam.detectors.every((d) => d.width === c.size[0] && d.height === c.size[1])).toBe(true);
    expect(cam.plateScale * cam.detectors[0].pixelSize).toBeCloseTo(c.scale, 2);
    const crval: [number, number] = [123.4, -35.6];
    const p: Pointing = { ra: crval[0], dec: crval[1], rotation: 0 };
    const points: [number, number, number][] = [];
    const ours: [number, number][] = [];
    cam.detectors.forEach((d, i) => {
      for (const [x, y] of [[-0.5, -0.5], [d.width - 0.5, -0.5], [d.width - 0.5, d.height - 0.5], [-0.5, d.height - 0.5], [(d.width - 1) / 2, (d.height - 1) / 2]]) {
        points.push([i, x + c.origin[0], y + c.origin[1]]);
        ours.push(pixelToSky(cam, d, p, x, y));
      }
    });
    const res = oracle({ ahead: sharedPath(c.file), crval, points });
    expect(res.blocks).toBe(c.n);
    const errs = res.sky.map((s, i) => arcsec(s, ours[i]));
    const worst = Math.max(...errs);
    console.log(`${c.name}: worst corner difference vs astropy ${worst.toExponential(2)} arcsec over ${errs.length} points`);
    expect(worst).toBeLessThan(0.1);
    // and the run-time .ahead loader gives the same camera as the committed JSON
    expect(loadCamera(sharedPath(c.file))).toEqual(cam);
  });
  it('the CCDs of the imported cameras do not overlap', () => {
    for (const c of cases) {
      const cam = loadCamera(c.name);
      const corners = cam.detectors.map((d) => detectorCorners(d));
      for (let i = 0; i < corners.length; i++) for (let j = i + 1; j < corners.length; j++) expect(polygonsOverlap(corners[i], corners[j])).toBe(false);
    }
  });
});
