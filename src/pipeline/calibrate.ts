/**
 * Quick-mode calibration of one CCD against a reference catalog (REFCAT_NAME / --refcat): refit the WCS
 * (TAN-SIP) from the header's approximate one, recompute ALPHA/DELTA, fit the aperture correction of the
 * first aperture to the last, and the zero point of the matched stars; MAG_* then use that zero point
 * (calibrated MAG = instrumental + ZP; MAG_APER of the first aperture also gets the aperture correction).
 * The results go into the catalog table's header (WCS cards, ASTR*, MAGZERO, MAGZERR, APCORR).
 */
import { cachedRefCatalog } from '../astrometry/refcat.js';
import { celestialWcs } from '../astrometry/wcs.js';
import { julianEpoch, solveCcdAstrometry, sourcesFromCatalog, writeAstromHeader } from '../astrometry/fit-ccd.js';
import type { Catalog } from '../catalog/schema.js';
import { Header, type Card } from '../fits/header.js';
import { fitApcorr } from '../photocal/apcorr.js';
import { fitZeroPoint, photometry, type PhotKind } from '../photocal/zeropoint.js';
import { UserError } from '../util/errors.js';
import type { Config } from './config.js';
import type { LoadedCcd } from './load.js';

export interface Calibration {
  catalog: Catalog;
  /** cards for the catalog table's header */
  cards: Card[];
  astrometryOk: boolean;
  /** the CCD's own residual rms (arcsec; NaN without stars) and stars used */
  rmsArcsec: number;
  nStars: number;
  zeroPoint: number;
  zeroPointErr: number;
  apcorr: number;
}

export function calibrateStep(cat: Catalog, ccd: LoadedCcd, c: Config): Calibration {
  const file = c.REFCAT_NAME as string;
  const refcat = cachedRefCatalog(file);
  const initial = celestialWcs(ccd.header);
  if (!initial) throw new UserError(`${file}: astrometric calibration needs an approximate WCS in the image header`);
  const mjd = ccd.header.getNumber('MJD-OBS');
  const fit = solveCcdAstrometry(sourcesFromCatalog(cat), ccd.image.width, ccd.image.height, initial, refcat, mjd !== undefined ? { epoch: julianEpoch(mjd) } : {});
  // a "solution" with residuals far above astrometric quality is a false match: keep the header WCS
  const maxRms = c.ASTROM_MAXRMS as number;
  const r = fit.ok && fit.rms > maxRms ? { ...fit, ok: false, reason: `residual rms ${fit.rms.toFixed(2)}" > ASTROM_MAXRMS ${maxRms}" (likely a false match)` } : fit;
  const out: Catalog = { ...cat };
  const h = writeAstromHeader(r, new Header());
  let zp = NaN, zpErr = NaN, apcorr = NaN;
  const n = cat.NUMBER.length;
  if (r.ok) {
    for (const [x, y, a, d] of [['X_IMAGE', 'Y_IMAGE', 'ALPHA_J2000', 'DELTA_J2000'], ['XWIN_IMAGE', 'YWIN_IMAGE', 'ALPHAWIN_J2000', 'DELTAWIN_J2000']]) {
      if (!cat[x]) continue;
      const ra = new Float64Array(n);
      const dec = new Float64Array(n);
      r.wcs.pixToSkyArrays(cat[x], cat[y], ra, dec, n);
      out[a] = ra;
      out[d] = dec;
    }
    // photometric calibration on the matched, unclipped stars
    const used = [...r.pairs.used.keys()].filter((k) => r.pairs.used[k]);
    const source = used.map((k) => r.pairs.source[k]);
    const ref = used.map((k) => r.pairs.refRow[k]);
    const starMask = new Uint8Array(n);
    for (const s of source) starMask[s] = 1;
    // The zero point's photometry: PSF fluxes when there is a PSF model (total flux of the model), else the
    // first aperture corrected to the last one, else FLUX_AUTO.
    const nAper = (c.PHOT_APERTURES as number[]).length;
    const hasPsf = cat.FLUX_PSF !== undefined && cat.FLUX_PSF.some((v) => Number.isFinite(v));
    const chosen: PhotKind = hasPsf ? 'PSF' : nAper > 1 ? { aper: 0 } : 'AUTO';
    apcorr = 0;
    if (!hasPsf && nAper > 1) {
      const ac = fitApcorr(cat, { chosen, large: { aper: nAper - 1 }, starMask });
      if (Number.isFinite(ac.apcorr)) apcorr = ac.apcorr;
    }
    const { flux, fluxErr } = photometry(cat, chosen);
    const z = fitZeroPoint({ source, ref }, flux, fluxErr, cat.FLAGS, refcat.mag, { apcorr });
    zp = z.zeroPoint;
    zpErr = z.error;
    if (Number.isFinite(zp)) {
      const shift = zp - (c.MAG_ZEROPOINT as number);
      for (const [name, col] of Object.entries(out)) {
        if (!name.startsWith('MAG_')) continue;
        const m = Float32Array.from(col as Float32Array);
        const width = m.length / Math.max(1, n);
        for (let i = 0; i < m.length; i++) {
          if (m[i] >= 99) continue;
          m[i] += shift + (name === 'MAG_APER' && i % width === 0 && typeof chosen === 'object' ? apcorr : 0);
        }
        out[name] = m;
      }
      h.set('MAGZERO', Number(zp.toFixed(5)), 'zero point: MAG = -2.5 log10(flux) + MAGZERO', 'float');
      h.set('MAGZERR', Number(zpErr.toPrecision(4)), 'zero-point uncertainty (mag)', 'float');
      h.set('APCORR', Number(apcorr.toFixed(5)), 'aperture correction of MAG_APER(1) (mag)', 'float');
      h.set('MAGZPHOT', typeof chosen === 'object' ? 'APER' : chosen, 'photometry of the zero point');
      h.set('PHOTNSTR', z.n, 'stars in the zero point');
    }
  }
  return {
    catalog: out,
    cards: h.cards.map((k) => ({ ...k })),
    astrometryOk: r.ok,
    rmsArcsec: r.ok ? r.rms : NaN,
    nStars: r.nUsed,
    zeroPoint: zp,
    zeroPointErr: zpErr,
    apcorr,
  };
}
