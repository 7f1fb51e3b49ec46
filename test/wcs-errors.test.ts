/**
 * celestialWcs on headers without, or with invalid, celestial WCS (undefined vs one-line FitsError
 * naming the file, HDU and problem); the 1-based pixel convention; the vectorised helpers; speed of
 * 1e6 TPV conversions.
 */
import { describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { FitsError, FitsFile, Header, type CardValue } from '../src/fits/index.js';
import { angularDistance, celestialWcs, makeWcs, type Wcs } from '../src/astrometry/wcs.js';
import { hasShared, realData, warnNoShared } from './helpers/shared.js';
import { SYNTHETIC, makeHeader, pixelGrid } from './helpers/wcs-cases.js';

warnNoShared('WCS speed test on the real DECam header (the synthetic TPV header is used instead)');

const TAN: [string, CardValue][] = [
  ['CTYPE1', 'RA---TAN'],
  ['CTYPE2', 'DEC--TAN'],
  ['CRVAL1', 10],
  ['CRVAL2', 20],
  ['CRPIX1', 50],
  ['CRPIX2', 60],
  ['CD1_1', -1e-4],
  ['CD1_2', 0],
  ['CD2_1', 0],
  ['CD2_2', 1e-4],
];

/** TAN cards with some replaced (value undefined: card removed). */
function tanWith(changes: Record<string, CardValue | undefined>): Header {
  const cards = TAN.filter(([k]) => !(k in changes) || changes[k] !== undefined).map(([k, v]) => [k, k in changes ? changes[k]! : v] as [string, CardValue]);
  for (const [k, v] of Object.entries(changes)) if (v !== undefined && !TAN.some(([t]) => t === k)) cards.push([k, v]);
  const h = makeHeader(100, 120, cards);
  h.where = { file: 'img.fits', hdu: 1 };
  return h;
}

function errorOf(h: Header): FitsError {
  try {
    celestialWcs(h);
  } catch (e) {
    expect(e).toBeInstanceOf(FitsError);
    return e as FitsError;
  }
  throw new Error('no error thrown');
}

describe('headers without a celestial WCS', () => {
  it.each([
    ['no WCS keywords at all', makeHeader(10, 10, [])],
    ['linear axes', makeHeader(10, 10, [['CTYPE1', 'LINEAR'], ['CTYPE2', 'LINEAR'], ['CDELT1', 0.5]])],
    ['spectral + linear', makeHeader(10, 10, [['CTYPE1', 'WAVE'], ['CTYPE2', 'PIXEL']])],
    ['CD matrix but no CTYPE', makeHeader(10, 10, [['CD1_1', 1e-4], ['CD2_2', 1e-4], ['CRVAL1', 3]])],
  ])('%s -> undefined', (_n, h) => {
    expect(celestialWcs(h)).toBeUndefined();
  });
});

describe('invalid celestial WCS -> one-line FitsError naming file, HDU and problem', () => {
  it.each([
    ['singular CD matrix', { CD1_1: 1e-4, CD1_2: 2e-4, CD2_1: 0.5e-4, CD2_2: 1e-4 }, /singular CD matrix/],
    ['missing CD2_2 (unset CD elements are 0)', { CD2_2: undefined }, /singular CD matrix/],
    ['zero CDELT', { CD1_1: undefined, CD1_2: undefined, CD2_1: undefined, CD2_2: undefined, CDELT1: 0, CDELT2: 1e-4 }, /singular CD matrix/],
    ['unknown projection', { CTYPE1: 'RA---XYZ', CTYPE2: 'DEC--XYZ' }, /unsupported projection 'XYZ'/],
    ['IRAF TNX', { CTYPE1: 'RA---TNX', CTYPE2: 'DEC--TNX' }, /unsupported projection 'TNX'/],
    ['non-zenithal CAR', { CTYPE1: 'RA---CAR', CTYPE2: 'DEC--CAR' }, /unsupported projection 'CAR'/],
    ['RA without DEC', { CTYPE2: 'LINEAR' }, /CTYPE1 = 'RA---TAN' has no matching latitude axis/],
    ['DEC without RA', { CTYPE1: 'PIXEL' }, /CTYPE2 = 'DEC--TAN' has no matching longitude axis/],
    ['mixed projections', { CTYPE2: 'DEC--SIN' }, /different projections/],
    ['RA/GLAT pair', { CTYPE2: 'GLAT-TAN' }, /not a longitude\/latitude pair/],
    ['no projection code', { CTYPE1: 'RA', CTYPE2: 'DEC' }, /CTYPE1 = 'RA' has no projection code/],
    ['-SIP without A_ORDER', { CTYPE1: 'RA---TAN-SIP', CTYPE2: 'DEC--TAN-SIP', B_ORDER: 2 }, /-SIP suffix but A_ORDER is missing/],
    ['fractional A_ORDER', { CTYPE1: 'RA---TAN-SIP', CTYPE2: 'DEC--TAN-SIP', A_ORDER: 2.5, B_ORDER: 2 }, /A_ORDER = 2.5 is not an integer/],
    ['unknown suffix', { CTYPE1: 'RA---TAN-TAB', CTYPE2: 'DEC--TAN-TAB' }, /unsupported CTYPE suffix '-TAB'/],
    ['bad CUNIT', { CUNIT1: 'm' }, /CUNIT1 = 'M' is not an angle unit/],
    ['latitude out of range', { CRVAL2: 95 }, /CRVAL2 = 95 is outside \[-90, 90\]/],
    ['non-numeric CRVAL1', { CRVAL1: 'ten' }, /keyword CRVAL1 is not a number/],
    ['ZPN without coefficients', { CTYPE1: 'RA---ZPN', CTYPE2: 'DEC--ZPN' }, /ZPN projection without any PV coefficient/],
    ['non-default native reference point', { CTYPE1: 'RA---ZEA', CTYPE2: 'DEC--ZEA', PV1_2: 45 }, /PV1_2 = 45: a non-default native reference point/],
  ] as const)('%s', (_n, changes, re) => {
    const e = errorOf(tanWith(changes as Record<string, CardValue | undefined>));
    expect(e.message).toMatch(re);
    expect(e.message.startsWith('img.fits, HDU 1: ')).toBe(true);
    expect(e.message).not.toContain('\n');
  });
});

describe('pixel convention and vectorised helpers', () => {
  it('CRPIX (1-based) maps to CRVAL; pixel (1, 1) is the first pixel', () => {
    const w = celestialWcs(tanWith({}))!;
    const [ra, dec] = w.pixToSky(50, 60);
    expect(ra).toBeCloseTo(10, 12);
    expect(dec).toBeCloseTo(20, 12);
    const [x, y] = w.skyToPix(10, 20);
    expect(x).toBeCloseTo(50, 9);
    expect(y).toBeCloseTo(60, 9);
    // one pixel right of CRPIX is 1e-4 deg (gnomonic) to the west: RA decreases
    expect(w.pixToSky(51, 60)[0]).toBeLessThan(10);
  });

  it('array helpers equal the scalar calls, for Float32Array inputs too, and report failures', () => {
    const c = SYNTHETIC.find((s) => s.name.startsWith('SIN whole hemisphere'))!;
    const w = celestialWcs(makeHeader(c.width, c.height, c.cards))!;
    const g = pixelGrid(c.width, c.height, 25);
    const xf = Float32Array.from(g.x);
    const yf = Float32Array.from(g.y);
    const lon = new Float64Array(xf.length);
    const lat = new Float64Array(xf.length);
    const bad = w.pixToSkyArrays(xf, yf, lon, lat);
    let nan = 0;
    for (let i = 0; i < xf.length; i++) {
      const [a, d] = w.pixToSky(xf[i]!, yf[i]!);
      expect(Object.is(lon[i], a) && Object.is(lat[i], d)).toBe(true);
      if (Number.isNaN(a)) nan++;
    }
    expect(bad).toBe(nan);
    expect(nan).toBeGreaterThan(0);
    const x = new Float64Array(xf.length);
    const y = new Float64Array(xf.length);
    expect(w.skyToPixArrays(lon, lat, x, y)).toBe(nan);
  });

  it('boundingCone contains the whole image', () => {
    const c = SYNTHETIC[0]!;
    const w = celestialWcs(makeHeader(c.width, c.height, c.cards))!;
    const cone = w.boundingCone(10);
    const g = pixelGrid(c.width, c.height, 51, 0);
    let far = 0;
    for (let i = 0; i < g.x.length; i++) {
      const [a, d] = w.pixToSky(g.x[i]!, g.y[i]!);
      far = Math.max(far, angularDistance(cone.lon, cone.lat, a, d));
    }
    expect(far).toBeLessThanOrEqual(cone.radius);
    expect(cone.radius).toBeLessThan(far * 1.05);
    expect(() => makeWcs({ crval: [0, 0], crpix: [1, 1], cd: [1, 0, 0, 1] }).boundingCone()).toThrow(/image size unknown/);
  });
});

describe('speed', () => {
  function tpvWcs(): Wcs {
    if (hasShared) {
      const f = FitsFile.open(path.join(realData, 'decam/c4d_170316_062107_ooi_z_ls9.N2.fits'));
      try {
        return celestialWcs(f.hdu(1).header)!;
      } finally {
        f.close();
      }
    }
    const c = SYNTHETIC.find((s) => s.name.startsWith('TPV'))!;
    return celestialWcs(makeHeader(c.width, c.height, c.cards))!;
  }

  it('1e6 TPV pixel -> sky conversions take well under a second', () => {
    const w = tpvWcs();
    expect(w.params.tpv).toBeDefined();
    const n = 1_000_000;
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = 1 + (i % 2048);
      y[i] = 1 + Math.floor(i / 2048) * 8;
    }
    const lon = new Float64Array(n);
    const lat = new Float64Array(n);
    w.pixToSkyArrays(x, y, lon, lat, 100_000); // warm-up
    let t0 = performance.now();
    expect(w.pixToSkyArrays(x, y, lon, lat)).toBe(0);
    const tFwd = performance.now() - t0;
    t0 = performance.now();
    const bx = new Float64Array(n);
    const by = new Float64Array(n);
    expect(w.skyToPixArrays(lon, lat, bx, by)).toBe(0);
    const tInv = performance.now() - t0;
    console.log(`1e6 TPV conversions: pixel -> sky ${tFwd.toFixed(0)} ms, sky -> pixel (Newton) ${tInv.toFixed(0)} ms`);
    expect(tFwd).toBeLessThan(1000);
    expect(tInv).toBeLessThan(5000);
    expect(Math.abs(bx[n - 1]! - x[n - 1]!)).toBeLessThan(1e-6);
  });
});
