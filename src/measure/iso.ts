/**
 * Isophotal measurements over an object's own pixels (SExtractor's preanalyse + examineiso + CLEAN merge):
 * bounds, barycentre and second moments weighted by the FILTERED detection values, ellipse parameters,
 * isophotal flux/error/area, peak, position-error moments and the Gaussian-core FWHM.
 *
 * When detection supplies its moments (DetectedObject.moments, which for deblended children are taken about the
 * ANALYSE_ROBUST barycentre of the branch core), they are used as-is. Pixels merged by CLEAN
 * (DetectedObject.cleaned) add to FLUX_ISO / FLUXERR_ISO / ISOAREAF_IMAGE / FLUX_MAX / bounds / XPEAK, but not to
 * the moments, ISOAREA_IMAGE or the FWHM — as in SExtractor.
 */
import type { DetectedObject } from '../detect/types.js';
import { backgroundAt, type MeasureContext } from './context.js';
import { momentEllipse, type ObjState } from './state.js';

const ellipse = { a: 0, b: 0, theta: 0 };
const f = Math.fround;

/** Fill the isophotal fields of `s` (s.label and s.flags set by the caller). */
export function measureIso(ctx: MeasureContext, obj: DetectedObject, s: ObjState): void {
  const pixels = obj.pixels;
  ownMoments(ctx, pixels, s);
  const m = obj.moments;
  if (m) {
    s.mx = m.mx;
    s.my = m.my;
    s.mx2 = m.mx2;
    s.my2 = m.my2;
    s.mxy = m.mxy;
    s.a = f(m.a);
    s.b = f(m.b);
    s.theta = f(m.theta);
    s.cxx = f(m.cxx);
    s.cyy = f(m.cyy);
    s.cxy = f(m.cxy);
  }
  s.thresh = obj.threshold;
  // background at the pixel nearest to the barycentre (SExtractor evaluates it at (int)(m + 0.5))
  s.bkg = backgroundAt(ctx, Math.trunc(s.mx + 0.5), Math.trunc(s.my + 0.5));
  examine(ctx, pixels, s);
  s.fwhm = isoFwhm(ctx, pixels, s);
  if (obj.cleaned && obj.cleaned.length > 0) mergeCleaned(ctx, obj.cleaned, s);
}

/** Bounds, filtered flux and peak, and the filtered-weighted moments of the object's own pixels. */
function ownMoments(ctx: MeasureContext, pixels: Int32Array, s: ObjState): void {
  const { w, filt } = ctx;
  const n = pixels.length;
  let xmin = Infinity;
  let xmax = -Infinity;
  let ymin = Infinity;
  let ymax = -Infinity;
  let rv = 0;
  let cpeak = -Infinity;
  let peakX = 0;
  let peakY = 0;
  for (let i = 0; i < n; i++) {
    const p = pixels[i];
    const y = (p / w) | 0;
    const x = p - y * w;
    const c = filt[p];
    rv += c;
    if (c > cpeak) (cpeak = c), (peakX = x), (peakY = y);
    if (x < xmin) xmin = x;
    if (x > xmax) xmax = x;
    if (y < ymin) ymin = y;
    if (y > ymax) ymax = y;
  }
  // moments relative to (xmin, ymin) against round-off
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const p = pixels[i];
    const yy = (p / w) | 0;
    const x = p - yy * w - xmin;
    const y = yy - ymin;
    const c = filt[p];
    sx += c * x;
    sy += c * y;
    sxx += c * x * x;
    syy += c * y * y;
    sxy += c * x * y;
  }
  const xm = sx / rv;
  const ym = sy / rv;
  let mx2 = sxx / rv - xm * xm;
  let my2 = syy / rv - ym * ym;
  const mxy = sxy / rv - xm * ym;
  // fully correlated x/y (e.g. one-pixel-wide objects): add the variance of a uniform pixel (1/12)
  let det = mx2 * my2 - mxy * mxy;
  s.singular = det < 0.00694;
  if (s.singular) {
    mx2 += 0.0833333;
    my2 += 0.0833333;
    det = mx2 * my2 - mxy * mxy;
  }
  momentEllipse(mx2, my2, mxy, ellipse);
  s.npix = n;
  s.xmin = xmin;
  s.xmax = xmax;
  s.ymin = ymin;
  s.ymax = ymax;
  s.mx = xm + xmin;
  s.my = ym + ymin;
  s.mx2 = mx2;
  s.my2 = my2;
  s.mxy = mxy;
  // SExtractor keeps these in single precision; later stages (Kron, growth curve) depend on the rounded values
  s.a = f(ellipse.a);
  s.b = f(ellipse.b);
  s.theta = f(ellipse.theta);
  s.cxx = f(my2 / det);
  s.cyy = f(mx2 / det);
  s.cxy = f((-2 * mxy) / det);
  s.fdflux = f(rv);
  s.fdpeak = cpeak;
  s.peakX = peakX;
  s.peakY = peakY;
}

/** Isophotal flux, variance, area, peak and position-error moments in the measurement image. */
function examine(ctx: MeasureContext, pixels: Int32Array, s: ObjState): void {
  const { w, img, filt, gain, backVar } = ctx;
  const vmap = ctx.variance;
  const perPixelThresh = vmap !== null && ctx.threshSigma > 0;
  const mx = s.mx;
  const my = s.my;
  let tv = 0;
  let sigtv = 0;
  let area = 0;
  let peak = -Infinity;
  let esum = 0;
  let emx2 = 0;
  let emy2 = 0;
  let emxy = 0;
  let minThresh = Infinity;
  for (let i = 0; i < pixels.length; i++) {
    const p = pixels[i];
    let v = img[p];
    if (v !== v) v = 0;
    if (v > peak) peak = v;
    const variance = vmap ? vmap[p] : backVar;
    let t = s.thresh;
    if (perPixelThresh) {
      t = ctx.threshSigma * Math.sqrt(variance);
      if (t < minThresh) minThresh = t;
    }
    sigtv += variance;
    if (ctx.gainPerPixel && v > 0 && gain > 0) sigtv += ((v / gain) * variance) / backVar;
    if (v > t) area++;
    tv += v;
    // positional errors: detection noise plus Poisson noise of the filtered signal
    const c = filt[p];
    const err = backVar + (gain > 0 && c > 0 ? c / gain : 0);
    const y = (p / w) | 0;
    const dx = p - y * w - mx;
    const dy = y - my;
    esum += err;
    emx2 += err * dx * dx;
    emy2 += err * dy * dy;
    emxy += err * dx * dy;
  }
  if (!ctx.gainPerPixel && gain > 0 && tv > 0) sigtv += tv / gain;
  const flux2 = s.fdflux * s.fdflux;
  emx2 /= flux2;
  emy2 /= flux2;
  emxy /= flux2;
  esum *= 0.08333 / flux2;
  if (s.singular && emx2 * emy2 - emxy * emxy < esum * esum) {
    emx2 += esum;
    emy2 += esum;
  }
  s.errMx2 = emx2;
  s.errMy2 = emy2;
  s.errMxy = emxy;
  s.isoFlux = tv;
  s.isoVar = sigtv;
  s.isoArea = area;
  s.peak = peak;
  s.athresh = perPixelThresh ? minThresh : s.thresh;
}

/**
 * FWHM assuming a Gaussian core: least-squares fit of ln(I) = ln(I0) - b r^2 over pixels between
 * max(peak/5, threshold) and saturation, weighted by I^2; FWHM = 1.6651/sqrt(b) (b bounded so FWHM <~ 6 sigma
 * of the isophotal ellipse), minus SExtractor's empirical undersampling correction 1/(4 FWHM).
 */
function isoFwhm(ctx: MeasureContext, pixels: Int32Array, s: ObjState): number {
  let t0 = s.peak / 5;
  if (t0 < s.athresh) t0 = s.athresh;
  if (!(t0 > 0)) return 0;
  const { w, img } = ctx;
  const sat = ctx.saturLevel - s.bkg;
  let sw = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < pixels.length; i++) {
    const p = pixels[i];
    const v = img[p];
    if (v > t0 && v < sat) {
      const y = (p / w) | 0;
      const dx = p - y * w - s.mx;
      const dy = y - s.my;
      const lv = Math.log(v);
      const wt = v * v;
      const d2 = dx * dx + dy * dy;
      sw += wt;
      sx += d2 * wt;
      sxx += d2 * d2 * wt;
      sy += lv * wt;
      sxy += lv * d2 * wt;
    }
  }
  const d = sw * sxx - sx * sx;
  if (!(Math.abs(d) > 0)) return 0;
  let b = -(sw * sxy - sx * sy) / d;
  const bmax = 1 / (13 * s.a * s.b);
  if (b < bmax) b = bmax;
  let fwhm = f(1.6651 / Math.sqrt(b));
  if (fwhm > 0) fwhm -= 1 / (4 * fwhm);
  return fwhm;
}

/** Add CLEAN-merged pixels: flux, variance, pixel count, peaks and bounds (SExtractor's mergeobject). */
function mergeCleaned(ctx: MeasureContext, cleaned: Int32Array, s: ObjState): void {
  const { w, img, filt, gain, backVar, gainPerPixel } = ctx;
  const vmap = ctx.variance;
  let tv = 0;
  let sigtv = 0;
  for (let i = 0; i < cleaned.length; i++) {
    const p = cleaned[i];
    const y = (p / w) | 0;
    const x = p - y * w;
    let v = img[p];
    if (v !== v) v = 0;
    const variance = vmap ? vmap[p] : backVar;
    tv += v;
    sigtv += variance;
    if (gainPerPixel && v > 0 && gain > 0) sigtv += ((v / gain) * variance) / backVar;
    if (v > s.peak) s.peak = v;
    const c = filt[p];
    if (c > s.fdpeak) (s.fdpeak = c), (s.peakX = x), (s.peakY = y);
    if (x < s.xmin) s.xmin = x;
    if (x > s.xmax) s.xmax = x;
    if (y < s.ymin) s.ymin = y;
    if (y > s.ymax) s.ymax = y;
  }
  if (!gainPerPixel && gain > 0 && tv > 0) sigtv += tv / gain;
  s.isoFlux += tv;
  s.isoVar += sigtv;
  s.npix += cleaned.length;
}
