/**
 * The gnomonic (TAN) projection between the sphere and standard coordinates (xi towards east, eta towards north,
 * degrees) about a tangent point, and the FITS linear part (CRPIX / CD) used by simple TAN headers.
 * Written from the spherical-trigonometry definitions (Calabretta & Greisen 2002, zenithal projections).
 */

const D2R = Math.PI / 180;
const R2D = 180 / Math.PI;

/** Normalise an angle in degrees to [0, 360). */
export function wrap360(a: number): number {
  const r = a % 360;
  return r < 0 ? r + 360 : r === 360 ? 0 : r;
}

/**
 * Standard coordinates (deg) of (ra, dec) projected about the tangent point (ra0, dec0).
 * Points 90 degrees or more from the tangent point have no projection: NaN.
 */
export function skyToStd(ra: number, dec: number, ra0: number, dec0: number): [number, number] {
  const d = dec * D2R;
  const d0 = dec0 * D2R;
  const da = (ra - ra0) * D2R;
  const sd = Math.sin(d);
  const cd = Math.cos(d);
  const sd0 = Math.sin(d0);
  const cd0 = Math.cos(d0);
  const cda = Math.cos(da);
  const cosc = sd0 * sd + cd0 * cd * cda;
  if (!(cosc > 0)) return [NaN, NaN];
  return [((cd * Math.sin(da)) / cosc) * R2D, ((cd0 * sd - sd0 * cd * cda) / cosc) * R2D];
}

/** Inverse of skyToStd: (ra in [0, 360), dec) in degrees. */
export function stdToSky(xi: number, eta: number, ra0: number, dec0: number): [number, number] {
  const x = xi * D2R;
  const y = eta * D2R;
  const d0 = dec0 * D2R;
  const sd0 = Math.sin(d0);
  const cd0 = Math.cos(d0);
  const den = cd0 - y * sd0;
  const ra = ra0 + Math.atan2(x, den) * R2D;
  const dec = Math.atan2(sd0 + y * cd0, Math.hypot(x, den)) * R2D;
  return [wrap360(ra), dec];
}

/** Angular separation (deg) of two sky positions (haversine form, accurate at small angles). */
export function separation(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const d1 = dec1 * D2R;
  const d2 = dec2 * D2R;
  const sdd = Math.sin((d2 - d1) / 2);
  const sda = Math.sin(((ra2 - ra1) * D2R) / 2);
  const h = sdd * sdd + Math.cos(d1) * Math.cos(d2) * sda * sda;
  return 2 * Math.asin(Math.min(1, Math.sqrt(h))) * R2D;
}

/** A simple TAN WCS: 1-based CRPIX, CD matrix (deg / pixel) [cd11, cd12, cd21, cd22], CRVAL (deg). */
export interface TanWcs {
  readonly crpix: readonly [number, number];
  readonly cd: readonly [number, number, number, number];
  readonly crval: readonly [number, number];
}

/** Sky position (deg) of a 1-based FITS pixel through a TAN WCS. */
export function tanPixelToSky(w: TanWcs, x1: number, y1: number): [number, number] {
  const dx = x1 - w.crpix[0];
  const dy = y1 - w.crpix[1];
  return stdToSky(w.cd[0] * dx + w.cd[1] * dy, w.cd[2] * dx + w.cd[3] * dy, w.crval[0], w.crval[1]);
}

/** 1-based FITS pixel of a sky position through a TAN WCS. */
export function tanSkyToPixel(w: TanWcs, ra: number, dec: number): [number, number] {
  const [xi, eta] = skyToStd(ra, dec, w.crval[0], w.crval[1]);
  const [a, b, c, d] = w.cd;
  const det = a * d - b * c;
  return [w.crpix[0] + (d * xi - b * eta) / det, w.crpix[1] + (-c * xi + a * eta) / det];
}
