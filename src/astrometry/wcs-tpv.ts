/**
 * TPV distortion (the TAN + polynomial convention written by SCAMP and used by the DECam and Mosaic
 * community pipelines; FITS registry "TPV" note). The intermediate world coordinates (x1, x2) in
 * degrees, from the CD matrix, are replaced by
 *   x1' = sum_m PV1_m T_m(x1, x2),   x2' = sum_m PV2_m T_m(x2, x1)      (each axis's own coordinate first)
 * before the gnomonic deprojection, with the 40 terms T_m of degree 0..7 ordered
 *   1, x, y, r,  x^2, xy, y^2,  x^3, x^2y, xy^2, y^3, r^3,  x^4 ... y^4,  x^5 ... y^5, r^5,
 *   x^6 ... y^6,  x^7 ... y^7, r^7          (r = sqrt(x^2 + y^2)).
 * Unset coefficients are 0, as in WCSLIB/astropy; an axis with no PV keyword at all is left undistorted.
 */
import type { Header } from '../fits/header.js';
import { PolyMap, type PolyTerm } from './wcs-poly.js';

export const TPV_TERMS = 40;

/** Exponents (of own axis, other axis, r) of TPV term m. */
export const TPV_EXPONENTS: readonly (readonly [number, number, number])[] = (() => {
  const out: [number, number, number][] = [];
  for (let d = 0; d <= 7; d++) {
    for (let j = 0; j <= d; j++) out.push([d - j, j, 0]);
    if (d % 2 === 1) out.push([0, 0, d]);
  }
  return out;
})();

/** TPV coefficients per header axis: pv[axis][m] = PV<axis+1>_m, or undefined when that axis has none. */
export interface TpvParams {
  pv1?: number[];
  pv2?: number[];
}

/**
 * Read PV<axis>_m (m = 0..39) for header axes 1 and 2 (`alt`: alternate-WCS letter). Returns undefined
 * when neither axis has any PV keyword.
 */
export function readTpv(h: Header, alt: string, fail: (m: string) => never): TpvParams | undefined {
  const read = (axis: number): number[] | undefined => {
    let any = false;
    const c = new Array<number>(TPV_TERMS).fill(0);
    for (let m = 0; m < TPV_TERMS; m++) {
      const v = h.getNumber(`PV${axis}_${m}${alt}`);
      if (v === undefined) continue;
      if (!Number.isFinite(v)) fail(`PV${axis}_${m}${alt} is not finite`);
      c[m] = v;
      any = true;
    }
    return any ? c : undefined;
  };
  const pv1 = read(1);
  const pv2 = read(2);
  if (!pv1 && !pv2) return undefined;
  const out: TpvParams = {};
  if (pv1) out.pv1 = pv1;
  if (pv2) out.pv2 = pv2;
  return out;
}

/** Terms of one axis in (x1, x2) order (`own` = 0 for axis 1, 1 for axis 2); identity when no coefficients. */
function axisTerms(c: readonly number[] | undefined, own: 0 | 1): PolyTerm[] {
  if (!c) return [own === 0 ? { c: 1, a: 1, b: 0, e: 0 } : { c: 1, a: 0, b: 1, e: 0 }];
  const terms: PolyTerm[] = [];
  for (let m = 0; m < TPV_TERMS; m++) {
    const v = c[m] ?? 0;
    if (v === 0) continue;
    const [p, q, e] = TPV_EXPONENTS[m]!;
    terms.push(own === 0 ? { c: v, a: p, b: q, e } : { c: v, a: q, b: p, e });
  }
  return terms;
}

/** The map (x1, x2) -> (x1', x2') in degrees. */
export function tpvMap(tpv: TpvParams): PolyMap {
  return new PolyMap(axisTerms(tpv.pv1, 0), axisTerms(tpv.pv2, 1));
}

/** Write PV1_m / PV2_m (nonzero coefficients, and PVi_1 always) into a header. */
export function writeTpv(h: Header, tpv: TpvParams, alt = ''): void {
  const put = (axis: number, c: readonly number[] | undefined): void => {
    const coef = c ?? TPV_EXPONENTS.map((_, m) => (m === 1 ? 1 : 0));
    for (let m = 0; m < TPV_TERMS; m++) {
      const v = coef[m] ?? 0;
      if (v !== 0 || m === 1) h.set(`PV${axis}_${m}${alt}`, v, 'TPV distortion coefficient', 'float');
    }
  };
  put(1, tpv.pv1);
  put(2, tpv.pv2);
}
