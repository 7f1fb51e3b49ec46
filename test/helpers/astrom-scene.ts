/**
 * Synthetic astrometric scenes with known truth, for the matcher/fit tests: a TAN-SIP (order 3) truth WCS, stars
 * with true pixel and sky positions, a reference catalogue made from the same stars with position and magnitude
 * noise, detections with centroid noise (saturated bright stars flagged), spurious detections with star-like
 * fluxes and no counterpart, and an approximate initial TAN WCS (no distortion) off by a pointing offset,
 * a rotation and a scale error. Seeded: every scene is reproducible.
 */
import { makeWcs, type Wcs } from '../../src/astrometry/wcs.js';
import type { RefCatalog } from '../../src/astrometry/refcat.js';
import type { AstromSources } from '../../src/astrometry/fit-solve.js';
import { deprojectPoint, projectPoint } from '../../src/astrometry/match-plane.js';

/** Mulberry32 uniform generator with Box-Muller normals. */
export class Rand {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  uniform(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal(): number {
    const u = 1 - this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }
}

/** Fraction of pattern pairs (detection k, reference k) that are true correspondences. */
export function pairPurity(scene: Scene, source: ArrayLike<number>, ref: ArrayLike<number>): number {
  let good = 0;
  for (let k = 0; k < source.length; k++) if (scene.sources.starId[source[k]] === scene.refStar[ref[k]]) good++;
  return source.length > 0 ? good / source.length : 0;
}

export interface SceneOptions {
  seed?: number;
  width?: number;
  height?: number;
  /** arcsec per pixel */
  pixelScale?: number;
  /** sky position of the CCD centre (deg) */
  ra?: number;
  dec?: number;
  /** orientation of the truth (deg) */
  angle?: number;
  /** stars per CCD area down to magMax (more fall in the margin around it) */
  nStars?: number;
  magMax?: number;
  /** reference catalogue limit (mag) and noise */
  refLimit?: number;
  refPosErrMas?: number;
  refMagErr?: number;
  /** fraction of the detections that are spurious (no counterpart) */
  spurious?: number;
  /** initial-WCS errors: offset east/north (arcsec), rotation (deg), relative scale */
  offset?: [number, number];
  rotation?: number;
  scale?: number;
  /** strength of the SIP distortion (pixels at the corners, roughly) */
  distortion?: number;
  /** magnitude zero point (mag for flux 1) and saturation magnitude */
  zeroPoint?: number;
  saturation?: number;
}

export interface Scene {
  truth: Wcs;
  initial: Wcs;
  refcat: RefCatalog;
  /** star index of each reference row */
  refStar: Int32Array;
  sources: AstromSources & { snr: Float64Array; flags: Int32Array; posErr: Float64Array; starId: Int32Array; trueX: Float64Array; trueY: Float64Array };
  stars: { n: number; x: Float64Array; y: Float64Array; ra: Float64Array; dec: Float64Array; mag: Float64Array };
  width: number;
  height: number;
  zeroPoint: number;
}

const zeros = (o: number): number[][] => Array.from({ length: o + 1 }, () => new Array<number>(o + 1).fill(0));

/** A TAN-SIP order-3 truth: radial (cubic) plus quadratic terms, `px` pixels at radius `r`. */
export function truthSip(px: number, r: number): { aOrder: number; bOrder: number; a: number[][]; b: number[][] } {
  const a = zeros(3);
  const b = zeros(3);
  const k = px / r ** 3;
  const q = (0.4 * px) / r ** 2;
  // radial u r^2, v r^2
  a[3][0] = k;
  a[1][2] = k;
  b[2][1] = k;
  b[0][3] = k;
  a[2][0] = q;
  a[1][1] = -0.5 * q;
  a[0][2] = 0.3 * q;
  b[2][0] = -0.2 * q;
  b[1][1] = 0.6 * q;
  b[0][2] = 0.4 * q;
  return { aOrder: 3, bOrder: 3, a, b };
}

export function makeScene(o: SceneOptions = {}): Scene {
  const rnd = new Rand(o.seed ?? 1);
  const width = o.width ?? 4096;
  const height = o.height ?? 4096;
  const ps = (o.pixelScale ?? 0.2) / 3600;
  const th = ((o.angle ?? 20) * Math.PI) / 180;
  const zp = o.zeroPoint ?? 31;
  const sat = o.saturation ?? 15.5;
  const magMax = o.magMax ?? 23;
  const cx = (width + 1) / 2;
  const cy = (height + 1) / 2;
  const rc = Math.hypot(width, height) / 2;
  // truth: reference pixel off the CCD centre, east to the left (CD1_1 < 0)
  const cd: [number, number, number, number] = [-ps * Math.cos(th), ps * Math.sin(th), ps * Math.sin(th), ps * Math.cos(th)];
  const truth = makeWcs({ crval: [o.ra ?? 150, o.dec ?? -30], crpix: [cx + 300, cy - 200], cd, sip: truthSip(o.distortion ?? 3, rc), width, height });
  // stars over the CCD grown by a margin, magnitudes ~ 10^(0.3 m) between 14 and magMax
  const margin = 0.25;
  const nAll = Math.round((o.nStars ?? 600) * (1 + 2 * margin) ** 2);
  const sx: number[] = [];
  const sy: number[] = [];
  const sra: number[] = [];
  const sdec: number[] = [];
  const smag: number[] = [];
  const lo = 10 ** (0.3 * 14);
  const hi = 10 ** (0.3 * magMax);
  for (let i = 0; i < nAll; i++) {
    const x = 0.5 + (rnd.uniform() * (1 + 2 * margin) - margin) * width;
    const y = 0.5 + (rnd.uniform() * (1 + 2 * margin) - margin) * height;
    const m = Math.log10(lo + rnd.uniform() * (hi - lo)) / 0.3;
    const [ra, dec] = truth.pixToSky(x, y);
    sx.push(x);
    sy.push(y);
    sra.push(ra);
    sdec.push(dec);
    smag.push(m);
  }
  const stars = { n: nAll, x: Float64Array.from(sx), y: Float64Array.from(sy), ra: Float64Array.from(sra), dec: Float64Array.from(sdec), mag: Float64Array.from(smag) };
  // reference catalogue: bright stars with noise, 5 % missing
  const refIdx: number[] = [];
  const posErr = (o.refPosErrMas ?? 5) / 3.6e6;
  const q = new Float64Array(2);
  const rra: number[] = [];
  const rdec: number[] = [];
  const rmag: number[] = [];
  for (let i = 0; i < nAll; i++) {
    const gx = rnd.normal();
    const gy = rnd.normal();
    const gm = rnd.normal();
    const missing = rnd.uniform() < 0.05;
    if (stars.mag[i] > (o.refLimit ?? 21) || missing) continue;
    refIdx.push(i);
    const [ra, dec] = deprojectPoint(gx * posErr * 3600, gy * posErr * 3600, stars.ra[i], stars.dec[i]);
    rra.push(ra);
    rdec.push(dec);
    rmag.push(stars.mag[i] + gm * (o.refMagErr ?? 0.01));
  }
  const refcat: RefCatalog = { source: 'synthetic', n: rra.length, ra: Float64Array.from(rra), dec: Float64Array.from(rdec), mag: Float64Array.from(rmag), columns: { ra: 'ra', dec: 'dec', mag: 'mag' } };
  // detections: stars on the CCD with SNR >= 5; centroid error 0.6 FWHM / SNR (FWHM 4 px), saturated ones flagged
  const det: { x: number; y: number; tx: number; ty: number; flux: number; err: number; snr: number; flags: number; id: number }[] = [];
  for (let i = 0; i < nAll; i++) {
    const x = stars.x[i];
    const y = stars.y[i];
    if (!(x >= 0.5 && x <= width + 0.5 && y >= 0.5 && y <= height + 0.5)) continue;
    const flux = 10 ** (-0.4 * (stars.mag[i] - zp));
    const snr = flux / Math.sqrt(flux + 4e5);
    if (snr < 5) continue;
    const saturated = stars.mag[i] < sat;
    const err = saturated ? 0.3 : (0.6 * 4) / snr;
    det.push({ x: x + err * rnd.normal(), y: y + err * rnd.normal(), tx: x, ty: y, flux, err, snr, flags: saturated ? 4 : 0, id: i });
  }
  // spurious detections with fluxes drawn from the detected stars' (so they mix into the brightest)
  const f = o.spurious ?? 0;
  const nSp = Math.round((det.length * f) / (1 - f));
  const nStarDet = det.length;
  for (let k = 0; k < nSp; k++) {
    const like = det[Math.floor(rnd.uniform() * nStarDet)];
    const x = 0.5 + rnd.uniform() * width;
    const y = 0.5 + rnd.uniform() * height;
    det.push({ x, y, tx: x, ty: y, flux: like.flux * (0.9 + 0.2 * rnd.uniform()), err: like.err, snr: like.snr, flags: 0, id: -1 });
  }
  // shuffle deterministically (the order of a real catalogue is unrelated to brightness)
  for (let k = det.length - 1; k > 0; k--) {
    const j = Math.floor(rnd.uniform() * (k + 1));
    [det[k], det[j]] = [det[j], det[k]];
  }
  const sources = {
    n: det.length,
    x: Float64Array.from(det, (d) => d.x),
    y: Float64Array.from(det, (d) => d.y),
    flux: Float64Array.from(det, (d) => d.flux),
    posErr: Float64Array.from(det, (d) => d.err),
    flags: Int32Array.from(det, (d) => d.flags),
    snr: Float64Array.from(det, (d) => d.snr),
    starId: Int32Array.from(det, (d) => d.id),
    trueX: Float64Array.from(det, (d) => d.tx),
    trueY: Float64Array.from(det, (d) => d.ty),
  };
  // initial WCS: TAN about the CCD centre, no distortion, off by offset / rotation / scale
  const [ra0, dec0] = truth.pixToSky(cx, cy);
  const off = o.offset ?? [0, 0];
  const [ira, idec] = deprojectPoint(off[0], off[1], ra0, dec0);
  // local linear map of the truth at the centre (finite differences), then rotated and scaled
  const d = 1;
  const lin = (dx: number, dy: number): [number, number] => {
    const [r, de] = truth.pixToSky(cx + dx, cy + dy);
    projectPoint(r, de, ra0, dec0, q);
    return [q[0] / 3600, q[1] / 3600];
  };
  const [ax, ay] = lin(d, 0);
  const [bx, by] = lin(0, d);
  const rr = ((o.rotation ?? 0) * Math.PI) / 180;
  const s = 1 + (o.scale ?? 0);
  const c = Math.cos(rr) * s;
  const sn = Math.sin(rr) * s;
  const icd: [number, number, number, number] = [c * ax - sn * ay, c * bx - sn * by, sn * ax + c * ay, sn * bx + c * by];
  const initial = makeWcs({ crval: [ira, idec], crpix: [cx, cy], cd: icd, width, height });
  return { truth, initial, refcat, refStar: Int32Array.from(refIdx), sources, stars, width, height, zeroPoint: zp };
}

/** Rms (pixels, radial) of fitted-WCS minus truth sky positions at the TRUE pixel positions of detected stars with SNR > minSnr. */
export function truthResidual(scene: Scene, wcs: Wcs, minSnr = 50): { n: number; rms: number; max: number } {
  const s = scene.sources;
  const ps = scene.truth.pixelScale();
  const q = new Float64Array(2);
  let ss = 0;
  let n = 0;
  let max = 0;
  for (let i = 0; i < s.n; i++) {
    if (s.starId[i] < 0 || !(s.snr[i] > minSnr) || s.flags[i] !== 0) continue;
    const id = s.starId[i];
    const [ra, dec] = wcs.pixToSky(s.trueX[i], s.trueY[i]);
    projectPoint(ra, dec, scene.stars.ra[id], scene.stars.dec[id], q);
    const e = Math.hypot(q[0], q[1]) / ps;
    ss += e * e;
    max = Math.max(max, e);
    n++;
  }
  return { n, rms: Math.sqrt(ss / n), max };
}
