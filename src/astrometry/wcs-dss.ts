/**
 * Digitized Sky Survey plate solutions (headers with PLTRAH.. / AMDX1.. / PPO3 .. and no CTYPE), as
 * described in the DSS documentation (STScI, "The Digitized Sky Survey"): 1-based pixel (px, py) ->
 * plate position in mm from the plate centre,
 *   X = (PPO3 - XPIXELSZ (px + CNPIX1 - 0.5)) / 1000,   Y = (YPIXELSZ (py + CNPIX2 - 0.5) - PPO6) / 1000,
 * -> standard coordinates (arcsec) by the polynomials
 *   xi  = A1 X + A2 Y + A3 + A4 X^2 + A5 XY + A6 Y^2 + A7 R^2 + A8 X^3 + A9 X^2Y + A10 XY^2 + A11 Y^3 + A12 X R^2 + A13 X R^4
 *   eta = B1 Y + B2 X + B3 + B4 Y^2 + B5 XY + B6 X^2 + B7 R^2 + B8 Y^3 + B9 Y^2X + B10 YX^2 + B11 X^3 + B12 Y R^2 + B13 Y R^4
 * (A = AMDX, B = AMDY, R^2 = X^2 + Y^2; the magnitude and colour terms 14..20 are ignored, as WCSLIB
 * does) -> gnomonic (TAN) deprojection about the plate centre (PLTRA*, PLTDEC*), xi east and eta north.
 */
import type { Header } from '../fits/header.js';
import { PolyMap, type PolyTerm } from './wcs-poly.js';

export interface DssParams {
  /** Plate centre (deg). */
  ra: number;
  dec: number;
  ppo3: number;
  ppo6: number;
  /** Pixel size (microns). */
  xPixelSize: number;
  yPixelSize: number;
  cnpix1: number;
  cnpix2: number;
  /** AMDX1..AMDX13 and AMDY1..AMDY13 (index 0 = coefficient 1). */
  amdx: number[];
  amdy: number[];
}

/** True when the header carries a DSS plate solution. */
export function hasDss(h: Header): boolean {
  return h.has('PLTRAH') && h.has('AMDX1') && h.has('AMDY1') && h.has('PPO3');
}

/** Read the DSS plate solution keywords. `fail` throws a located error. */
export function readDss(h: Header, fail: (m: string) => never): DssParams {
  const need = (k: string): number => {
    const v = h.getNumber(k);
    if (v === undefined || !Number.isFinite(v)) fail(`DSS plate solution without ${k}`);
    return v;
  };
  const ra = 15 * (need('PLTRAH') + h.getNumber('PLTRAM', 0) / 60 + h.getNumber('PLTRAS', 0) / 3600);
  const sign = (h.getString('PLTDECSN') ?? '+').trim().startsWith('-') ? -1 : 1;
  const dec = sign * (Math.abs(need('PLTDECD')) + h.getNumber('PLTDECM', 0) / 60 + h.getNumber('PLTDECS', 0) / 3600);
  const amdx: number[] = [];
  const amdy: number[] = [];
  for (let i = 1; i <= 13; i++) {
    amdx.push(h.getNumber(`AMDX${i}`, 0));
    amdy.push(h.getNumber(`AMDY${i}`, 0));
  }
  const d: DssParams = {
    ra,
    dec,
    ppo3: need('PPO3'),
    ppo6: need('PPO6'),
    xPixelSize: need('XPIXELSZ'),
    yPixelSize: need('YPIXELSZ'),
    cnpix1: h.getNumber('CNPIX1', 0),
    cnpix2: h.getNumber('CNPIX2', 0),
    amdx,
    amdy,
  };
  if (d.xPixelSize <= 0 || d.yPixelSize <= 0) fail('DSS plate solution with a non-positive XPIXELSZ/YPIXELSZ');
  if (amdx[0]! * amdy[0]! - amdx[1]! * amdy[1]! === 0) fail('DSS plate solution with a singular linear part (AMDX1, AMDX2, AMDY1, AMDY2)');
  return d;
}

/** Affine pixel -> plate-mm part: mm = M (p - c), M row-major 2x2, c the 1-based pixel of plate position (0, 0). */
export function dssLinear(d: DssParams): { crpix: [number, number]; matrix: [number, number, number, number] } {
  return {
    crpix: [d.ppo3 / d.xPixelSize - d.cnpix1 + 0.5, d.ppo6 / d.yPixelSize - d.cnpix2 + 0.5],
    matrix: [-d.xPixelSize / 1000, 0, 0, d.yPixelSize / 1000],
  };
}

/** One standard-coordinate polynomial in degrees, own = 'x' for xi (AMDX), 'y' for eta (AMDY). */
function plateTerms(k: readonly number[], own: 'x' | 'y'): PolyTerm[] {
  // [coefficient index, own exponent, other exponent, r exponent]
  const layout: [number, number, number, number][] = [
    [0, 1, 0, 0], [1, 0, 1, 0], [2, 0, 0, 0], [3, 2, 0, 0], [4, 1, 1, 0], [5, 0, 2, 0], [6, 0, 0, 2],
    [7, 3, 0, 0], [8, 2, 1, 0], [9, 1, 2, 0], [10, 0, 3, 0], [11, 1, 0, 2], [12, 1, 0, 4],
  ];
  return layout.map(([i, p, q, e]) => {
    const c = k[i]! / 3600;
    return own === 'x' ? { c, a: p, b: q, e } : { c, a: q, b: p, e };
  });
}

/** The map plate (X, Y) in mm -> standard coordinates (xi, eta) in degrees. */
export function dssMap(d: DssParams): PolyMap {
  return new PolyMap(plateTerms(d.amdx, 'x'), plateTerms(d.amdy, 'y'));
}
