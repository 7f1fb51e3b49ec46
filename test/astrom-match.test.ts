/**
 * Pattern matching and nearest-neighbour matching against simulation truth (synthetic scenes, see
 * helpers/astrom-scene.ts: TAN-SIP truth, reference catalogue with noise, detections with centroid noise):
 *  - a 2 arcmin pointing offset, 2 degrees of rotation and 1 % scale error (all sign combinations), with half of
 *    the detections spurious: the recovered rotation / scale / offset match the truth and the pattern pairs are
 *    true correspondences;
 *  - a focal-plane-sized field given directly as tangent-plane coordinates (no WCS, 3.5 degrees across);
 *  - an unrelated reference catalogue is rejected (no false solution);
 *  - determinism (identical results on repeated runs and independent of input order ties);
 *  - matchNearest is one-to-one mutual nearest neighbour (against a brute-force oracle).
 */
import { describe, expect, it } from 'vitest';
import { matchPattern, type PatternResult } from '../src/astrometry/match-pattern.js';
import { matchNearest } from '../src/astrometry/match-nn.js';
import { applySimilarity, projectArrays, type PlanePoints } from '../src/astrometry/match-plane.js';
import { pixelFrame } from '../src/astrometry/fit-model.js';
import { stateFromWcs } from '../src/astrometry/fit-sip.js';
import { makeScene, Rand, type Scene } from './helpers/astrom-scene.js';

/** Detections (brightest first, saturated included) and references (brightest first) on the plane of the initial WCS. */
function planes(scene: Scene): { det: PlanePoints; ref: PlanePoints; detIdx: number[]; refOrder: number[]; crval: [number, number] } {
  const frame = pixelFrame(scene.width, scene.height);
  const prior = stateFromWcs(scene.initial, frame, 3).state;
  const s = scene.sources;
  const detIdx = Array.from({ length: s.n }, (_, i) => i).sort((a, b) => s.flux[b] - s.flux[a] || a - b);
  const ra = Float64Array.from(detIdx, (i) => scene.initial.pixToSky(s.x[i], s.y[i])[0]);
  const dec = Float64Array.from(detIdx, (i) => scene.initial.pixToSky(s.x[i], s.y[i])[1]);
  const det = projectArrays(ra, dec, prior.crval[0], prior.crval[1]);
  const refOrder = Array.from({ length: scene.refcat.n }, (_, i) => i).sort((a, b) => scene.refcat.mag[a] - scene.refcat.mag[b] || a - b);
  const ref = projectArrays(
    Float64Array.from(refOrder, (j) => scene.refcat.ra[j]),
    Float64Array.from(refOrder, (j) => scene.refcat.dec[j]),
    prior.crval[0],
    prior.crval[1],
  );
  return { det, ref, detIdx, refOrder, crval: prior.crval };
}

/** Fraction of pattern pairs that are true star <-> reference correspondences. */
function purity(scene: Scene, p: ReturnType<typeof planes>, r: PatternResult): number {
  let good = 0;
  for (let k = 0; k < r.nMatched; k++) if (scene.sources.starId[p.detIdx[r.det[k]]] === scene.refStar[p.refOrder[r.ref[k]]]) good++;
  return good / r.nMatched;
}

describe('pattern matching: 2 arcmin offset, 2 deg rotation, 1 % scale, half the detections spurious', () => {
  const cases: [number, number, number, number][] = [
    [120, 0, 2, 0.01],
    [0, -120, -2, -0.01],
    [-85, 85, 2, -0.01],
    [85, 85, -2, 0.01],
    [-120, 0, -2, 0.01],
  ];
  it.each(cases)('offset (%d, %d) arcsec, rotation %d deg, scale error %d', (ox, oy, rot, sc) => {
    // little distortion here: the pattern stage fits a similarity only (the fit tests use strong distortion)
    const scene = makeScene({ seed: 11, offset: [ox, oy], rotation: rot, scale: sc, spurious: 0.5, distortion: 0.3 });
    const p = planes(scene);
    // half of the brightest 50 have no counterpart
    const top = p.detIdx.slice(0, 50);
    expect(top.filter((i) => scene.sources.starId[i] < 0).length).toBeGreaterThanOrEqual(18);
    // the search needs about 1.5 references per bright detection over the CCD and the 2 arcmin margin
    const r = matchPattern(p.det, p.ref, { maxOffset: 180, maxRotation: 3, maxScale: 0.02, tolerance: 2, maxReferences: 150 });
    expect(r.ok, r.reason).toBe(true);
    // the transform undoes the initial WCS's errors: rotation -rot, scale 1 / (1 + sc)
    expect(Math.abs(r.rotation + rot)).toBeLessThan(0.1);
    expect(Math.abs(r.scale - 1 / (1 + sc))).toBeLessThan(3e-4);
    // the offset at the CCD centre (plane origin) is minus the one applied
    expect(Math.hypot(r.transform.tx + ox, r.transform.ty + oy)).toBeLessThan(0.5);
    expect(r.rms).toBeLessThan(0.3);
    expect(r.nMatched).toBeGreaterThanOrEqual(15);
    expect(purity(scene, p, r)).toBeGreaterThanOrEqual(0.95);
  });

  it('is deterministic', () => {
    const scene = makeScene({ seed: 12, offset: [60, -100], rotation: 1.5, scale: 0.007, spurious: 0.5 });
    const p = planes(scene);
    const a = matchPattern(p.det, p.ref, { maxReferences: 150 });
    const b = matchPattern(p.det, p.ref, { maxReferences: 150 });
    expect(a.ok).toBe(true);
    expect(b).toEqual(a);
  });

  it('rejects an unrelated reference catalogue', () => {
    for (const seed of [21, 22, 23]) {
      const scene = makeScene({ seed, spurious: 0.5 });
      const other = makeScene({ seed: seed + 100, spurious: 0.5 });
      const p = planes(scene);
      const q = planes({ ...other, initial: scene.initial });
      const r = matchPattern(p.det, q.ref, { maxReferences: 150 });
      expect(r.ok).toBe(false);
      expect(r.tried).toBeGreaterThan(0);
      expect(r.reason).toMatch(/no pattern/);
    }
  });

  it('rejects a rotation beyond maxRotation', () => {
    const scene = makeScene({ seed: 13, rotation: 6, spurious: 0.3 });
    const p = planes(scene);
    expect(matchPattern(p.det, p.ref, { maxRotation: 3, maxReferences: 150 }).ok).toBe(false);
    const wide = matchPattern(p.det, p.ref, { maxRotation: 8, maxReferences: 150 });
    expect(wide.ok).toBe(true);
    expect(Math.abs(wide.rotation + 6)).toBeLessThan(0.3);
  });
});

describe('pattern matching in any frame: focal-plane tangent-plane coordinates', () => {
  it('matches a 3.5-degree field given as plane coordinates about the nominal pointing', () => {
    const rnd = new Rand(5);
    // reference stars over a 3.5 deg field (arcsec), brightest first
    const nRef = 400;
    const rx = new Float64Array(nRef);
    const ry = new Float64Array(nRef);
    for (let j = 0; j < nRef; j++) {
      rx[j] = (rnd.uniform() - 0.5) * 3.5 * 3600;
      ry[j] = (rnd.uniform() - 0.5) * 3.5 * 3600;
    }
    // detections: the brightest references seen through the pointing error (2 arcmin, 2 deg, 1 %), with 0.3 arcsec
    // of noise, one brightest detection in two spurious
    const truth = { a: Math.cos(0.0349) * 1.01, b: Math.sin(0.0349) * 1.01, tx: 100, ty: -66 };
    const inv = { a: truth.a / (truth.a ** 2 + truth.b ** 2), b: -truth.b / (truth.a ** 2 + truth.b ** 2) };
    const dx: number[] = [];
    const dy: number[] = [];
    const id: number[] = [];
    for (let j = 0; j < 120; j++) {
      if (j % 2 === 1) {
        dx.push((rnd.uniform() - 0.5) * 3.4 * 3600);
        dy.push((rnd.uniform() - 0.5) * 3.4 * 3600);
        id.push(-1);
      }
      // detection = truth^-1 (reference)
      const x = rx[j] - truth.tx;
      const y = ry[j] - truth.ty;
      dx.push(inv.a * x - inv.b * y + 0.3 * rnd.normal());
      dy.push(inv.b * x + inv.a * y + 0.3 * rnd.normal());
      id.push(j);
    }
    const det: PlanePoints = { xi: Float64Array.from(dx), eta: Float64Array.from(dy), n: dx.length };
    const ref: PlanePoints = { xi: rx, eta: ry, n: nRef };
    const r = matchPattern(det, ref, { maxDetections: 80, maxReferences: 150, tolerance: 1.5 });
    expect(r.ok, r.reason).toBe(true);
    expect(r.rotation).toBeCloseTo(2, 2);
    expect(r.scale).toBeCloseTo(1.01, 4);
    expect(Math.hypot(r.transform.tx - truth.tx, r.transform.ty - truth.ty)).toBeLessThan(1);
    let good = 0;
    for (let k = 0; k < r.nMatched; k++) if (id[r.det[k]] === r.ref[k]) good++;
    expect(good).toBe(r.nMatched);
    expect(r.nMatched).toBeGreaterThanOrEqual(30);
    // the transform maps every true detection within 1.5 arcsec of its reference
    const q = new Float64Array(2);
    for (let k = 0; k < 80; k++) {
      if (id[k] < 0 || id[k] >= 150) continue;
      applySimilarity(r.transform, det.xi[k], det.eta[k], q);
      expect(Math.hypot(q[0] - rx[id[k]], q[1] - ry[id[k]])).toBeLessThan(1.5);
    }
  });
});

describe('matchNearest', () => {
  it('returns exactly the mutual nearest neighbours within the radius (brute-force oracle)', () => {
    const rnd = new Rand(9);
    const mk = (n: number): PlanePoints => {
      const xi = new Float64Array(n);
      const eta = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        xi[i] = Math.round(rnd.uniform() * 200) / 2; // half-unit grid: plenty of exact ties
        eta[i] = Math.round(rnd.uniform() * 200) / 2;
      }
      return { xi, eta, n };
    };
    const a = mk(600);
    const b = mk(500);
    const radius = 2.2;
    const nearest = (p: PlanePoints, x: number, y: number): number => {
      let best = -1;
      let bd = Infinity;
      for (let j = 0; j < p.n; j++) {
        const d = (p.xi[j] - x) ** 2 + (p.eta[j] - y) ** 2;
        if (d <= radius * radius && d < bd) {
          bd = d;
          best = j;
        }
      }
      return best;
    };
    const expected: [number, number][] = [];
    for (let i = 0; i < a.n; i++) {
      const j = nearest(b, a.xi[i], a.eta[i]);
      if (j >= 0 && nearest(a, b.xi[j], b.eta[j]) === i) expected.push([i, j]);
    }
    const m = matchNearest(a, b, radius);
    expect(Array.from({ length: m.n }, (_, k) => [m.ia[k], m.ib[k]])).toEqual(expected);
    expect(new Set(m.ib).size).toBe(m.n);
    expect(m.n).toBeGreaterThan(100);
  });
});
