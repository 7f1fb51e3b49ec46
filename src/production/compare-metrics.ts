/**
 * Metrics of `lsst-prod compare`: quick mode CCD by CCD against production on the same visit.
 * Pure functions over catalogs, WCSs, background mesh grids and the visit's focal plane.
 */
import { matchNearest, PlaneGrid } from '../astrometry/match-nn.js';
import { projectArrays } from '../astrometry/match-plane.js';
import type { RefCatalog } from '../astrometry/refcat.js';
import type { Wcs } from '../astrometry/wcs.js';
import type { BackgroundModel } from '../background/index.js';
import { makeSplineGrid, splineRows } from '../background/spline.js';
import { focalToPixel, pixelToFocal } from '../camera/geometry.js';
import type { Camera, DetectorGeom } from '../camera/types.js';
import type { Catalog } from '../catalog/schema.js';

export const median = (v: readonly number[]): number => {
  const a = v.filter(Number.isFinite).sort((x, y) => x - y);
  const m = a.length;
  return m ? (m % 2 ? a[(m - 1) / 2] : 0.5 * (a[m / 2 - 1] + a[m / 2])) : NaN;
};

export const rms = (v: readonly number[]): number => {
  const a = v.filter(Number.isFinite);
  return a.length ? Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length) : NaN;
};

/** FLUX_AUTO / FLUXERR_AUTO per row. */
export function snrOf(cat: Catalog, i: number): number {
  const e = cat.FLUXERR_AUTO?.[i] ?? NaN;
  return e > 0 ? cat.FLUX_AUTO[i] / e : 0;
}

export interface DetectionAgreement {
  /** rows with SNR > minSnr in each catalog */
  nA: number;
  nB: number;
  /** of those, matched within the radius (pixels) to any row of the other catalog */
  matchedA: number;
  matchedB: number;
  /** median FLUX_APER (first aperture) ratio B / A over matched pairs with SNR > minSnr in A */
  apertureRatio: number;
}

/** Detections and aperture fluxes of catalog B (production) against A (quick) on the same CCD. */
export function compareDetections(a: Catalog, b: Catalog, nAper: number, minSnr = 10, radius = 1): DetectionAgreement {
  const pts = (c: Catalog) => ({ n: c.NUMBER.length, xi: Float64Array.from(c.X_IMAGE), eta: Float64Array.from(c.Y_IMAGE) });
  const pa = pts(a);
  const pb = pts(b);
  const ga = new PlaneGrid(pa, radius);
  const gb = new PlaneGrid(pb, radius);
  // found: any source of the other catalog within the radius (a blend split differently still counts)
  const found = (p: typeof pa, cat: Catalog, other: PlaneGrid) => {
    let n = 0;
    let h = 0;
    for (let i = 0; i < p.n; i++) {
      if (!(snrOf(cat, i) > minSnr)) continue;
      n++;
      if (other.nearest(p.xi[i], p.eta[i], radius) >= 0) h++;
    }
    return { n, h };
  };
  const fa = found(pa, a, gb);
  const fb = found(pb, b, ga);
  // flux ratios over mutual nearest neighbours
  const m = matchNearest(pa, pb, radius, gb);
  const ratios: number[] = [];
  for (let k = 0; k < m.n; k++) {
    const i = m.ia[k];
    const j = m.ib[k];
    if (!(snrOf(a, i) > minSnr)) continue;
    const fa0 = a.FLUX_APER[i * nAper];
    const fb0 = b.FLUX_APER[j * nAper];
    if (fa0 > 0 && fb0 > 0) ratios.push(fb0 / fa0);
  }
  return { nA: fa.n, nB: fb.n, matchedA: fa.h, matchedB: fb.h, apertureRatio: median(ratios) };
}

/**
 * Astrometric residual of catalog positions (ALPHA/DELTA_J2000) against a reference catalogue: per-axis rms (mas)
 * of the separations of mutual nearest neighbours within `radius` arcsec, and how many matched.
 */
export function astrometryVsReference(cat: Catalog, ref: RefCatalog, radius = 1, minSnr = 10): { n: number; rmsMas: number } {
  const n = cat.NUMBER.length;
  if (!cat.ALPHA_J2000 || n === 0 || ref.n === 0) return { n: 0, rmsMas: NaN };
  const keep: number[] = [];
  for (let i = 0; i < n; i++) if (snrOf(cat, i) > minSnr && Number.isFinite(cat.ALPHA_J2000[i])) keep.push(i);
  if (!keep.length) return { n: 0, rmsMas: NaN };
  const ra0 = cat.ALPHA_J2000[keep[0]];
  const dec0 = cat.DELTA_J2000[keep[0]];
  const a = projectArrays(
    keep.map((i) => cat.ALPHA_J2000[i]),
    keep.map((i) => cat.DELTA_J2000[i]),
    ra0,
    dec0,
  );
  const b = projectArrays(ref.ra, ref.dec, ra0, dec0);
  // only reference stars near the CCD (the projection of far ones is NaN or far away)
  const m = matchNearest(a, b, radius);
  const d: number[] = [];
  for (let k = 0; k < m.n; k++) d.push(m.dist[k] * 1000 / Math.SQRT2);
  return { n: m.n, rmsMas: rms(d) };
}

/** Per-axis rms (mas) of a WCS against the true pixel-to-sky mapping over a grid of pixels (1-based). */
export function wcsVsTruth(wcs: Wcs, width: number, height: number, truth: (x1: number, y1: number) => [number, number], grid = 8): number {
  const d: number[] = [];
  for (let j = 0; j < grid; j++) {
    for (let i = 0; i < grid; i++) {
      const x = 1 + ((i + 0.5) / grid) * (width - 1);
      const y = 1 + ((j + 0.5) / grid) * (height - 1);
      const [ra, dec] = wcs.pixToSky(x, y);
      const [tr, td] = truth(x, y);
      const dra = ((((ra - tr) % 360) + 540) % 360) - 180;
      d.push(Math.hypot(dra * Math.cos((td * Math.PI) / 180), dec - td) * 3.6e6 / Math.SQRT2);
    }
  }
  return rms(d);
}

/** A CCD's background mesh grid (the persisted model's levels) and its sky noise. */
export interface BackgroundMesh {
  width: number;
  height: number;
  bw: number;
  bh: number;
  nx: number;
  ny: number;
  level: Float32Array;
  /** sky noise per pixel (the CCD's global rms) */
  rms: number;
}

/** The mesh grid of a CCD's background model, with its sky noise. */
export function backgroundMesh(m: BackgroundModel, rms: number): BackgroundMesh {
  return { width: m.width, height: m.height, bw: m.bw, bh: m.bh, nx: m.nx, ny: m.ny, level: m.level, rms };
}

/** Background values at 1-based pixel positions, by the bicubic spline of a mesh grid (rows evaluated once each). */
export function backgroundAt(mesh: BackgroundMesh, pts: readonly [number, number][]): number[] {
  const grid = makeSplineGrid(Float32Array.from(mesh.level), mesh);
  const rows = new Map<number, Float32Array>();
  return pts.map(([x1, y1]) => {
    const y = Math.min(mesh.height - 1, Math.max(0, Math.round(y1 - 1)));
    const x = Math.min(mesh.width - 1, Math.max(0, Math.round(x1 - 1)));
    let row = rows.get(y);
    if (!row) rows.set(y, (row = splineRows(grid, y, y + 1)));
    return row[x];
  });
}

export interface EdgeStep {
  a: number;
  b: number;
  /** (bgA - truthA) - (bgB - truthB) in units of the mean sky noise of the two CCDs (without truth: bgA - bgB) */
  step: number;
}

export interface EdgeSamplesOptions {
  /** samples per CCD edge (default 16) */
  perEdge?: number;
  /** widest gap between CCDs searched (mm, default 50: scaled simulated cameras keep the full-size spacing) */
  maxGap?: number;
}

/**
 * The facing edges of neighbouring CCDs: for samples along every edge of CCD A, the nearest pixel of the CCD met
 * first when stepping outwards across the gap in the focal plane. Pairs are listed once (A < B).
 */
export function facingEdgePairs(camera: Camera, opts: EdgeSamplesOptions = {}): { a: DetectorGeom; b: DetectorGeom; pa: [number, number]; pb: [number, number] }[] {
  const K = opts.perEdge ?? 16;
  const maxGap = opts.maxGap ?? 50;
  const dets = camera.detectors;
  const halfDiag = (d: DetectorGeom) => 0.5 * Math.hypot(d.width, d.height) * d.pixelSize;
  const out: { a: DetectorGeom; b: DetectorGeom; pa: [number, number]; pb: [number, number] }[] = [];
  for (const A of dets) {
    const near = dets.filter((B) => B !== A && Math.hypot(B.center[0] - A.center[0], B.center[1] - A.center[1]) < halfDiag(A) + halfDiag(B) + maxGap);
    if (!near.length) continue;
    const W = A.width;
    const H = A.height;
    const edges: { at: (t: number) => [number, number]; n: [number, number] }[] = [
      { at: (t) => [0, t * (H - 1)], n: [-1, 0] },
      { at: (t) => [W - 1, t * (H - 1)], n: [1, 0] },
      { at: (t) => [t * (W - 1), 0], n: [0, -1] },
      { at: (t) => [t * (W - 1), H - 1], n: [0, 1] },
    ];
    for (const e of edges) {
      for (let k = 0; k < K; k++) {
        const [x, y] = e.at((k + 0.5) / K);
        const f0 = pixelToFocal(A, x, y);
        const f1 = pixelToFocal(A, x + e.n[0], y + e.n[1]);
        const len = Math.hypot(f1[0] - f0[0], f1[1] - f0[1]);
        const u = [(f1[0] - f0[0]) / len, (f1[1] - f0[1]) / len];
        let hit: { B: DetectorGeom; p: [number, number] } | undefined;
        for (let t = 0.5 * A.pixelSize, dt = 0.05; t <= maxGap && !hit; t += dt, dt = Math.min(0.5, dt * 1.05)) {
          const fx = f0[0] + u[0] * t;
          const fy = f0[1] + u[1] * t;
          for (const B of near) {
            const [bx, by] = focalToPixel(B, fx, fy);
            if (bx >= -0.5 && bx <= B.width - 0.5 && by >= -0.5 && by <= B.height - 0.5) {
              hit = { B, p: [Math.min(B.width - 1, Math.max(0, bx)), Math.min(B.height - 1, Math.max(0, by))] };
              break;
            }
          }
        }
        if (hit && A.id < hit.B.id) out.push({ a: A, b: hit.B, pa: [x + 1, y + 1], pb: [hit.p[0] + 1, hit.p[1] + 1] });
      }
    }
  }
  return out;
}

/**
 * Background steps across CCD boundaries: for every facing-edge sample pair, the difference of the two CCDs'
 * background errors against truth (or of their backgrounds without truth), in units of the sky noise.
 */
export function backgroundSteps(
  camera: Camera,
  meshes: ReadonlyMap<number, BackgroundMesh>,
  truth?: (det: number, x1: number, y1: number) => number,
  opts: EdgeSamplesOptions = {},
): EdgeStep[] {
  const pairs = facingEdgePairs(camera, opts).filter((p) => meshes.has(p.a.id) && meshes.has(p.b.id));
  // evaluate every CCD's samples at once
  const want = new Map<number, [number, number][]>();
  for (const p of pairs) {
    (want.get(p.a.id) ?? want.set(p.a.id, []).get(p.a.id)!).push(p.pa);
    (want.get(p.b.id) ?? want.set(p.b.id, []).get(p.b.id)!).push(p.pb);
  }
  const values = new Map<number, number[]>();
  for (const [id, pts] of want) values.set(id, backgroundAt(meshes.get(id)!, pts));
  const next = new Map<number, number>();
  const take = (id: number) => {
    const k = next.get(id) ?? 0;
    next.set(id, k + 1);
    return values.get(id)![k];
  };
  return pairs.map((p) => {
    const va = take(p.a.id);
    const vb = take(p.b.id);
    const ea = truth ? va - truth(p.a.id, p.pa[0], p.pa[1]) : va;
    const eb = truth ? vb - truth(p.b.id, p.pb[0], p.pb[1]) : vb;
    const sigma = 0.5 * (meshes.get(p.a.id)!.rms + meshes.get(p.b.id)!.rms);
    return { a: p.a.id, b: p.b.id, step: (ea - eb) / sigma };
  });
}

/**
 * PSF model size against truth: per source with SNR > minSnr, FWHMPSF_IMAGE (the model's FWHM at the source, from
 * its moments) over the true (Moffat) FWHM there. The two FWHM definitions differ by a constant factor, so callers
 * compare these ratios after dividing by their visit-wide median.
 */
export function psfFwhmRatios(cat: Catalog, trueFwhm: (x1: number, y1: number) => number, minSnr = 10): number[] {
  const f = cat.FWHMPSF_IMAGE;
  if (!f) return [];
  const d: number[] = [];
  for (let i = 0; i < f.length; i++) {
    if (!(snrOf(cat, i) > minSnr) || !(f[i] > 0)) continue;
    d.push(f[i] / trueFwhm(cat.XWIN_IMAGE[i], cat.YWIN_IMAGE[i]));
  }
  return d;
}
