/**
 * The tangent plane in which matching and fitting happen: gnomonic (TAN) standard coordinates about a
 * tangent point, xi towards east (increasing RA) and eta towards north, in ARCSECONDS. These are the FITS
 * TAN intermediate world coordinates (x, y) of a WCS whose CRVAL is the tangent point (LONPOLE 180).
 */

const D2R = Math.PI / 180;
const R2D = 180 / Math.PI;
const AS = 3600 * R2D;

/** A set of points on a tangent plane (arcsec). */
export interface PlanePoints {
  xi: Float64Array;
  eta: Float64Array;
  n: number;
}

/**
 * Project (ra, dec) (deg) about the tangent point (ra0, dec0) into out[0] = xi, out[1] = eta (arcsec).
 * Returns false (NaN) for points 90 degrees or more away.
 */
export function projectPoint(ra: number, dec: number, ra0: number, dec0: number, out: Float64Array): boolean {
  const d = dec * D2R;
  const d0 = dec0 * D2R;
  const da = (ra - ra0) * D2R;
  const cd = Math.cos(d);
  const sd = Math.sin(d);
  const cd0 = Math.cos(d0);
  const sd0 = Math.sin(d0);
  const cda = Math.cos(da);
  const cosc = sd0 * sd + cd0 * cd * cda;
  if (!(cosc > 0)) {
    out[0] = out[1] = NaN;
    return false;
  }
  out[0] = ((cd * Math.sin(da)) / cosc) * AS;
  out[1] = ((cd0 * sd - sd0 * cd * cda) / cosc) * AS;
  return true;
}

/** Project arrays of sky positions (deg) about (ra0, dec0); returns the points (NaN where not projectable). */
export function projectArrays(ra: ArrayLike<number>, dec: ArrayLike<number>, ra0: number, dec0: number, n = ra.length): PlanePoints {
  const xi = new Float64Array(n);
  const eta = new Float64Array(n);
  const q = new Float64Array(2);
  for (let i = 0; i < n; i++) {
    projectPoint(ra[i], dec[i], ra0, dec0, q);
    xi[i] = q[0];
    eta[i] = q[1];
  }
  return { xi, eta, n };
}

/** Inverse of projectPoint: standard coordinates (arcsec) -> [ra in [0, 360), dec] (deg). */
export function deprojectPoint(xi: number, eta: number, ra0: number, dec0: number): [number, number] {
  const x = xi / AS;
  const y = eta / AS;
  const d0 = dec0 * D2R;
  const sd0 = Math.sin(d0);
  const cd0 = Math.cos(d0);
  const den = cd0 - y * sd0;
  let ra = ra0 + Math.atan2(x, den) * R2D;
  ra %= 360;
  if (ra < 0) ra += 360;
  const dec = Math.atan2(sd0 + y * cd0, Math.sqrt(x * x + den * den)) * R2D;
  return [ra, dec];
}

/** The subset `idx` (in that order) of a set of plane points. */
export function subsetPoints(p: PlanePoints, idx: ArrayLike<number>): PlanePoints {
  const n = idx.length;
  const xi = new Float64Array(n);
  const eta = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    xi[k] = p.xi[idx[k]];
    eta[k] = p.eta[idx[k]];
  }
  return { xi, eta, n };
}

/**
 * A similarity transform of the plane: (xi', eta') = [[a, -b], [b, a]] (xi, eta) + (tx, ty), i.e. a scale
 * s = hypot(a, b) and a rotation atan2(b, a) (counter-clockwise from +xi towards +eta) about the tangent point.
 */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

export const IDENTITY: Similarity = Object.freeze({ a: 1, b: 0, tx: 0, ty: 0 });

/** Apply a similarity to (xi, eta), writing out[0], out[1]. */
export function applySimilarity(t: Similarity, xi: number, eta: number, out: Float64Array): void {
  out[0] = t.a * xi - t.b * eta + t.tx;
  out[1] = t.b * xi + t.a * eta + t.ty;
}

/** Least-squares similarity taking points p[i] onto q[i] (unit weights); undefined with fewer than 2 distinct points. */
export function fitSimilarity(px: ArrayLike<number>, py: ArrayLike<number>, qx: ArrayLike<number>, qy: ArrayLike<number>, n = px.length): Similarity | undefined {
  if (n < 2) return undefined;
  let mpx = 0;
  let mpy = 0;
  let mqx = 0;
  let mqy = 0;
  for (let i = 0; i < n; i++) {
    mpx += px[i];
    mpy += py[i];
    mqx += qx[i];
    mqy += qy[i];
  }
  mpx /= n;
  mpy /= n;
  mqx /= n;
  mqy /= n;
  let sxx = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < n; i++) {
    const x = px[i] - mpx;
    const y = py[i] - mpy;
    const u = qx[i] - mqx;
    const v = qy[i] - mqy;
    sxx += x * x + y * y;
    sa += x * u + y * v;
    sb += x * v - y * u;
  }
  if (!(sxx > 0)) return undefined;
  const a = sa / sxx;
  const b = sb / sxx;
  return { a, b, tx: mqx - (a * mpx - b * mpy), ty: mqy - (b * mpx + a * mpy) };
}
