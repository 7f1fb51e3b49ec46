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
import { allocColumn, CATALOG_SCHEMA, type Catalog, type VectorSizes } from '../catalog/schema.js';
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
  const cols = columnsOf(cat);
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
    writeRow(cols, i, s, zp, apertures.length, fluxFrac.length);
  }
  return cat;
}

const ell = { a: 0, b: 0, theta: 0 };

/**
 * The measured columns as fixed properties of one object (a catalog is a dictionary of dozens of columns: looking
 * each up by name for every row costs more than the row).
 */
function columnsOf(cat: Catalog) {
  return {
    NUMBER: cat.NUMBER,
    FLAGS: cat.FLAGS,
    FLAGS_WIN: cat.FLAGS_WIN,
    X_IMAGE: cat.X_IMAGE,
    Y_IMAGE: cat.Y_IMAGE,
    XPEAK_IMAGE: cat.XPEAK_IMAGE,
    YPEAK_IMAGE: cat.YPEAK_IMAGE,
    XMIN_IMAGE: cat.XMIN_IMAGE,
    YMIN_IMAGE: cat.YMIN_IMAGE,
    XMAX_IMAGE: cat.XMAX_IMAGE,
    YMAX_IMAGE: cat.YMAX_IMAGE,
    X2_IMAGE: cat.X2_IMAGE,
    Y2_IMAGE: cat.Y2_IMAGE,
    XY_IMAGE: cat.XY_IMAGE,
    CXX_IMAGE: cat.CXX_IMAGE,
    CYY_IMAGE: cat.CYY_IMAGE,
    CXY_IMAGE: cat.CXY_IMAGE,
    A_IMAGE: cat.A_IMAGE,
    B_IMAGE: cat.B_IMAGE,
    THETA_IMAGE: cat.THETA_IMAGE,
    ELONGATION: cat.ELONGATION,
    ELLIPTICITY: cat.ELLIPTICITY,
    ERRX2_IMAGE: cat.ERRX2_IMAGE,
    ERRY2_IMAGE: cat.ERRY2_IMAGE,
    ERRXY_IMAGE: cat.ERRXY_IMAGE,
    ERRA_IMAGE: cat.ERRA_IMAGE,
    ERRB_IMAGE: cat.ERRB_IMAGE,
    ERRTHETA_IMAGE: cat.ERRTHETA_IMAGE,
    XWIN_IMAGE: cat.XWIN_IMAGE,
    YWIN_IMAGE: cat.YWIN_IMAGE,
    X2WIN_IMAGE: cat.X2WIN_IMAGE,
    Y2WIN_IMAGE: cat.Y2WIN_IMAGE,
    XYWIN_IMAGE: cat.XYWIN_IMAGE,
    AWIN_IMAGE: cat.AWIN_IMAGE,
    BWIN_IMAGE: cat.BWIN_IMAGE,
    THETAWIN_IMAGE: cat.THETAWIN_IMAGE,
    ERRX2WIN_IMAGE: cat.ERRX2WIN_IMAGE,
    ERRY2WIN_IMAGE: cat.ERRY2WIN_IMAGE,
    ERRXYWIN_IMAGE: cat.ERRXYWIN_IMAGE,
    ERRAWIN_IMAGE: cat.ERRAWIN_IMAGE,
    ERRBWIN_IMAGE: cat.ERRBWIN_IMAGE,
    ERRTHETAWIN_IMAGE: cat.ERRTHETAWIN_IMAGE,
    NITER_WIN: cat.NITER_WIN,
    ISOAREA_IMAGE: cat.ISOAREA_IMAGE,
    ISOAREAF_IMAGE: cat.ISOAREAF_IMAGE,
    FLUX_ISO: cat.FLUX_ISO,
    FLUXERR_ISO: cat.FLUXERR_ISO,
    MAG_ISO: cat.MAG_ISO,
    MAGERR_ISO: cat.MAGERR_ISO,
    FLUX_APER: cat.FLUX_APER,
    FLUXERR_APER: cat.FLUXERR_APER,
    MAG_APER: cat.MAG_APER,
    MAGERR_APER: cat.MAGERR_APER,
    FLUX_AUTO: cat.FLUX_AUTO,
    FLUXERR_AUTO: cat.FLUXERR_AUTO,
    MAG_AUTO: cat.MAG_AUTO,
    MAGERR_AUTO: cat.MAGERR_AUTO,
    KRON_RADIUS: cat.KRON_RADIUS,
    FLUX_WIN: cat.FLUX_WIN,
    FLUXERR_WIN: cat.FLUXERR_WIN,
    MAG_WIN: cat.MAG_WIN,
    MAGERR_WIN: cat.MAGERR_WIN,
    SNR_WIN: cat.SNR_WIN,
    FLUX_RADIUS: cat.FLUX_RADIUS,
    FWHM_IMAGE: cat.FWHM_IMAGE,
    FLUX_MAX: cat.FLUX_MAX,
    BACKGROUND: cat.BACKGROUND,
    THRESHOLD: cat.THRESHOLD,
  };
}
type Columns = ReturnType<typeof columnsOf>;

/** Copy one object's state into row i of the catalog (1-based positions, magnitudes, error ellipses). */
function writeRow(c: Columns, i: number, s: ObjState, zp: number, nAper: number, nFrac: number): void {
  c.NUMBER[i] = s.label;
  c.FLAGS[i] = s.flags;
  c.FLAGS_WIN[i] = s.winFlags;
  c.X_IMAGE[i] = s.mx + 1;
  c.Y_IMAGE[i] = s.my + 1;
  c.XPEAK_IMAGE[i] = s.peakX + 1;
  c.YPEAK_IMAGE[i] = s.peakY + 1;
  c.XMIN_IMAGE[i] = s.xmin + 1;
  c.YMIN_IMAGE[i] = s.ymin + 1;
  c.XMAX_IMAGE[i] = s.xmax + 1;
  c.YMAX_IMAGE[i] = s.ymax + 1;
  c.X2_IMAGE[i] = s.mx2;
  c.Y2_IMAGE[i] = s.my2;
  c.XY_IMAGE[i] = s.mxy;
  c.CXX_IMAGE[i] = s.cxx;
  c.CYY_IMAGE[i] = s.cyy;
  c.CXY_IMAGE[i] = s.cxy;
  c.A_IMAGE[i] = s.a;
  c.B_IMAGE[i] = s.b;
  c.THETA_IMAGE[i] = s.theta;
  c.ELONGATION[i] = s.a / s.b;
  c.ELLIPTICITY[i] = 1 - s.b / s.a;
  c.ERRX2_IMAGE[i] = s.errMx2;
  c.ERRY2_IMAGE[i] = s.errMy2;
  c.ERRXY_IMAGE[i] = s.errMxy;
  momentEllipse(s.errMx2, s.errMy2, s.errMxy, ell);
  c.ERRA_IMAGE[i] = ell.a;
  c.ERRB_IMAGE[i] = ell.b;
  c.ERRTHETA_IMAGE[i] = ell.theta;
  c.XWIN_IMAGE[i] = s.xwin + 1;
  c.YWIN_IMAGE[i] = s.ywin + 1;
  c.X2WIN_IMAGE[i] = s.winMx2;
  c.Y2WIN_IMAGE[i] = s.winMy2;
  c.XYWIN_IMAGE[i] = s.winMxy;
  momentEllipse(s.winMx2, s.winMy2, s.winMxy, ell);
  c.AWIN_IMAGE[i] = ell.a;
  c.BWIN_IMAGE[i] = ell.b;
  c.THETAWIN_IMAGE[i] = ell.theta;
  c.ERRX2WIN_IMAGE[i] = s.winErrMx2;
  c.ERRY2WIN_IMAGE[i] = s.winErrMy2;
  c.ERRXYWIN_IMAGE[i] = s.winErrMxy;
  momentEllipse(s.winErrMx2, s.winErrMy2, s.winErrMxy, ell);
  c.ERRAWIN_IMAGE[i] = ell.a;
  c.ERRBWIN_IMAGE[i] = ell.b;
  c.ERRTHETAWIN_IMAGE[i] = ell.theta;
  c.NITER_WIN[i] = s.winNiter;
  c.ISOAREA_IMAGE[i] = s.isoArea;
  c.ISOAREAF_IMAGE[i] = s.npix;
  const isoErr = Math.sqrt(s.isoVar);
  c.FLUX_ISO[i] = s.isoFlux;
  c.FLUXERR_ISO[i] = isoErr;
  c.MAG_ISO[i] = fluxToMag(s.isoFlux, zp);
  c.MAGERR_ISO[i] = fluxErrToMagErr(s.isoFlux, isoErr);
  for (let k = 0; k < nAper; k++) {
    const j = i * nAper + k;
    const f = s.aperFlux[k];
    const e = Math.sqrt(s.aperVar[k]);
    c.FLUX_APER[j] = f;
    c.FLUXERR_APER[j] = e;
    c.MAG_APER[j] = fluxToMag(f, zp);
    c.MAGERR_APER[j] = fluxErrToMagErr(f, e);
  }
  const autoErr = Math.sqrt(s.autoVar);
  c.FLUX_AUTO[i] = s.autoFlux;
  c.FLUXERR_AUTO[i] = autoErr;
  c.MAG_AUTO[i] = fluxToMag(s.autoFlux, zp);
  c.MAGERR_AUTO[i] = fluxErrToMagErr(s.autoFlux, autoErr);
  c.KRON_RADIUS[i] = s.kron;
  const winErr = Math.sqrt(s.winVar);
  c.FLUX_WIN[i] = s.winFlux;
  c.FLUXERR_WIN[i] = winErr;
  c.MAG_WIN[i] = fluxToMag(s.winFlux, zp);
  c.MAGERR_WIN[i] = fluxErrToMagErr(s.winFlux, winErr);
  c.SNR_WIN[i] = winSnr(s);
  for (let k = 0; k < nFrac; k++) c.FLUX_RADIUS[i * nFrac + k] = s.fluxRadius[k];
  c.FWHM_IMAGE[i] = s.fwhm;
  c.FLUX_MAX[i] = s.peak;
  c.BACKGROUND[i] = s.bkg;
  c.THRESHOLD[i] = s.thresh;
}
