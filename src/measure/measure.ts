/**
 * SExtractor-style measurement of detected objects into a columnar catalog (layout: src/catalog/schema.ts).
 *
 * Per object, in SExtractor's order: isophotal quantities (iso.ts), fixed apertures (aper.ts), Kron radius and
 * FLUX_AUTO (auto.ts), growth curve and FLUX_RADIUS (growth.ts), windowed quantities (winpos.ts), saturation flag.
 * Output positions use SExtractor's 1-based convention (pixel centre of 0-based column x is X_IMAGE = x + 1).
 *
 * Deliberate differences from SExtractor 2.25:
 *  - FLUX_APER and the WIN window use the exact circle/pixel overlap instead of 5x5 / 11x11 sub-sampling;
 *  - without DetectedObject.moments (detection's own moments, which follow SExtractor's ANALYSE_ROBUST recentring
 *    of deblended children), the moments of a deblended object are taken about its own barycentre;
 *  - FLAGS bit 32 (isophotal data incomplete: an object crossing SExtractor's scan-buffer edge) cannot happen here;
 *    bits 64/128 (memory overflows) never happen;
 *  - with a variance map, the per-pixel Poisson term of apertures is weighted by the pixel's overlap area;
 *  - neighbour masking uses the blanked-pixel set as it stands at the end of SExtractor's scan
 *    (DetectionResult.detected): the few objects SExtractor measures DURING its scan (strip buffer scrolling on
 *    images taller than MEMORY_BUFSIZE, MEMORY_OBJSTACK overflow) see its state of that moment instead (lines not
 *    yet scanned unblanked, later CLEAN merges not yet pasted back), which SExtractor itself warns about
 *    ("may have some unBLANKed neighbours") when it reaches their apertures;
 *  - every column is always computed, so FLAGS bit 16 (an aperture, the Kron ellipse, the growth-curve disc of
 *    radius 6 A + 1.5 or the WIN disc cut by the image edge) is that of SExtractor run with FLUX_RADIUS and the
 *    WIN parameters requested: SExtractor raises it only from the apertures it actually computes.
 * FLAGS: 1 > 10% of a Kron ellipse masked (neighbours, bad pixels), 2 blended (from detection), 4 peak + background
 * >= SATUR_LEVEL, 8 object touches the image edge, 16 as above; other bits are passed through from detection.
 * Not re-entrant (module-level scratch buffers): one measureObjects call at a time per thread.
 */
import type { DetectionResult } from '../detect/types.js';
import { allocColumn, CATALOG_SCHEMA, type Catalog, type CatalogColumn, type VectorSizes } from '../catalog/schema.js';
import { measureApertures } from './aper.js';
import { measureAuto } from './auto.js';
import { makeContext, type MeasureConfig, type MeasureImages } from './context.js';
import { measureGrowth } from './growth.js';
import { measureIso } from './iso.js';
import { makeState, momentEllipse, type ObjState } from './state.js';
import { measureWin, winSnr } from './winpos.js';

const FLAG_SATURATED = 4;
const FLAG_TRUNCATED = 8;

/** Magnitude from a flux: MAG_ZEROPOINT - 2.5 log10(flux), 99 for non-positive flux (as SExtractor). */
export function fluxToMag(flux: number, zeropoint: number): number {
  return flux > 0 ? zeropoint - 2.5 * Math.log10(flux) : 99;
}

/** Magnitude error 1.086 sigma_F / F (SExtractor's constant), 99 for non-positive flux. */
export function fluxErrToMagErr(flux: number, fluxErr: number): number {
  return flux > 0 ? (1.086 * fluxErr) / flux : 99;
}

/** Names of the columns filled by measureObjects (every schema column whose source is 'measure'). */
export const MEASURED_COLUMNS: readonly string[] = CATALOG_SCHEMA.filter((c) => c.source === 'measure').map((c) => c.name);

/**
 * Measure every detected object. Row i of the catalog is detection.objects[i] (NUMBER = i + 1 = its label in the
 * segmentation map). The filtered image defaults to detection.filtered. Throws RangeError on inconsistent inputs.
 */
export function measureObjects(detection: DetectionResult, images: MeasureImages, config: MeasureConfig): Catalog {
  const filtered = images.filtered ?? (detection.filtered ? { width: images.image.width, height: images.image.height, data: detection.filtered } : undefined);
  const ctx = makeContext({ ...images, filtered }, detection, config);
  const apertures = config.apertures;
  const fluxFrac = config.fluxFrac ?? [0.5];
  const [kronFactor, kronMin] = config.autoParams ?? [2.5, 3.5];
  const zp = config.magZeropoint;
  const sizes: VectorSizes = { nApertures: apertures.length, nFluxFrac: fluxFrac.length };
  const n = detection.objects.length;
  const cat: Catalog = {};
  for (const spec of CATALOG_SCHEMA) if (spec.source === 'measure') cat[spec.name] = allocColumn(spec, n, sizes);
  const s = makeState(apertures.length, fluxFrac.length);
  for (let i = 0; i < n; i++) {
    const obj = detection.objects[i];
    s.label = i + 1;
    s.flags = obj.flags;
    measureIso(ctx, obj, s);
    if (s.xmin === 0 || s.ymin === 0 || s.xmax === ctx.w - 1 || s.ymax === ctx.h - 1) s.flags |= FLAG_TRUNCATED;
    measureApertures(ctx, apertures, config.apertureSubsampling ?? 0, s);
    measureAuto(ctx, kronFactor, kronMin, s);
    measureGrowth(ctx, fluxFrac, s);
    measureWin(ctx, s);
    if (s.peak + s.bkg >= ctx.saturLevel) s.flags |= FLAG_SATURATED;
    writeRow(cat, i, s, zp, apertures.length, fluxFrac.length);
  }
  return cat;
}

const ell = { a: 0, b: 0, theta: 0 };

function set(cat: Catalog, name: string, i: number, v: number): void {
  (cat[name] as CatalogColumn)[i] = v;
}

/** Copy one object's state into row i of the catalog (1-based positions, magnitudes, error ellipses). */
function writeRow(cat: Catalog, i: number, s: ObjState, zp: number, nAper: number, nFrac: number): void {
  set(cat, 'NUMBER', i, s.label);
  set(cat, 'FLAGS', i, s.flags);
  set(cat, 'FLAGS_WIN', i, s.winFlags);
  set(cat, 'X_IMAGE', i, s.mx + 1);
  set(cat, 'Y_IMAGE', i, s.my + 1);
  set(cat, 'XPEAK_IMAGE', i, s.peakX + 1);
  set(cat, 'YPEAK_IMAGE', i, s.peakY + 1);
  set(cat, 'XMIN_IMAGE', i, s.xmin + 1);
  set(cat, 'YMIN_IMAGE', i, s.ymin + 1);
  set(cat, 'XMAX_IMAGE', i, s.xmax + 1);
  set(cat, 'YMAX_IMAGE', i, s.ymax + 1);
  set(cat, 'X2_IMAGE', i, s.mx2);
  set(cat, 'Y2_IMAGE', i, s.my2);
  set(cat, 'XY_IMAGE', i, s.mxy);
  set(cat, 'CXX_IMAGE', i, s.cxx);
  set(cat, 'CYY_IMAGE', i, s.cyy);
  set(cat, 'CXY_IMAGE', i, s.cxy);
  set(cat, 'A_IMAGE', i, s.a);
  set(cat, 'B_IMAGE', i, s.b);
  set(cat, 'THETA_IMAGE', i, s.theta);
  set(cat, 'ELONGATION', i, s.a / s.b);
  set(cat, 'ELLIPTICITY', i, 1 - s.b / s.a);
  set(cat, 'ERRX2_IMAGE', i, s.errMx2);
  set(cat, 'ERRY2_IMAGE', i, s.errMy2);
  set(cat, 'ERRXY_IMAGE', i, s.errMxy);
  momentEllipse(s.errMx2, s.errMy2, s.errMxy, ell);
  set(cat, 'ERRA_IMAGE', i, ell.a);
  set(cat, 'ERRB_IMAGE', i, ell.b);
  set(cat, 'ERRTHETA_IMAGE', i, ell.theta);
  set(cat, 'XWIN_IMAGE', i, s.xwin + 1);
  set(cat, 'YWIN_IMAGE', i, s.ywin + 1);
  set(cat, 'X2WIN_IMAGE', i, s.winMx2);
  set(cat, 'Y2WIN_IMAGE', i, s.winMy2);
  set(cat, 'XYWIN_IMAGE', i, s.winMxy);
  momentEllipse(s.winMx2, s.winMy2, s.winMxy, ell);
  set(cat, 'AWIN_IMAGE', i, ell.a);
  set(cat, 'BWIN_IMAGE', i, ell.b);
  set(cat, 'THETAWIN_IMAGE', i, ell.theta);
  set(cat, 'ERRX2WIN_IMAGE', i, s.winErrMx2);
  set(cat, 'ERRY2WIN_IMAGE', i, s.winErrMy2);
  set(cat, 'ERRXYWIN_IMAGE', i, s.winErrMxy);
  momentEllipse(s.winErrMx2, s.winErrMy2, s.winErrMxy, ell);
  set(cat, 'ERRAWIN_IMAGE', i, ell.a);
  set(cat, 'ERRBWIN_IMAGE', i, ell.b);
  set(cat, 'ERRTHETAWIN_IMAGE', i, ell.theta);
  set(cat, 'NITER_WIN', i, s.winNiter);
  set(cat, 'ISOAREA_IMAGE', i, s.isoArea);
  set(cat, 'ISOAREAF_IMAGE', i, s.npix);
  const isoErr = Math.sqrt(s.isoVar);
  set(cat, 'FLUX_ISO', i, s.isoFlux);
  set(cat, 'FLUXERR_ISO', i, isoErr);
  set(cat, 'MAG_ISO', i, fluxToMag(s.isoFlux, zp));
  set(cat, 'MAGERR_ISO', i, fluxErrToMagErr(s.isoFlux, isoErr));
  for (let k = 0; k < nAper; k++) {
    const j = i * nAper + k;
    const f = s.aperFlux[k];
    const e = Math.sqrt(s.aperVar[k]);
    set(cat, 'FLUX_APER', j, f);
    set(cat, 'FLUXERR_APER', j, e);
    set(cat, 'MAG_APER', j, fluxToMag(f, zp));
    set(cat, 'MAGERR_APER', j, fluxErrToMagErr(f, e));
  }
  const autoErr = Math.sqrt(s.autoVar);
  set(cat, 'FLUX_AUTO', i, s.autoFlux);
  set(cat, 'FLUXERR_AUTO', i, autoErr);
  set(cat, 'MAG_AUTO', i, fluxToMag(s.autoFlux, zp));
  set(cat, 'MAGERR_AUTO', i, fluxErrToMagErr(s.autoFlux, autoErr));
  set(cat, 'KRON_RADIUS', i, s.kron);
  const winErr = Math.sqrt(s.winVar);
  set(cat, 'FLUX_WIN', i, s.winFlux);
  set(cat, 'FLUXERR_WIN', i, winErr);
  set(cat, 'MAG_WIN', i, fluxToMag(s.winFlux, zp));
  set(cat, 'MAGERR_WIN', i, fluxErrToMagErr(s.winFlux, winErr));
  set(cat, 'SNR_WIN', i, winSnr(s));
  for (let k = 0; k < nFrac; k++) set(cat, 'FLUX_RADIUS', i * nFrac + k, s.fluxRadius[k]);
  set(cat, 'FWHM_IMAGE', i, s.fwhm);
  set(cat, 'FLUX_MAX', i, s.peak);
  set(cat, 'BACKGROUND', i, s.bkg);
  set(cat, 'THRESHOLD', i, s.thresh);
}
