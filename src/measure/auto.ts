/**
 * Kron radius and FLUX_AUTO (SExtractor's "automatic aperture" photometry).
 *
 * 1. Kron radius: first moment r1 = sum(r I) / sum(I) of the unfiltered image within the isophotal ellipse scaled
 *    to KRON_NSIG = 6 (r in units of the ellipse: cxx dx^2 + cyy dy^2 + cxy dx dy = r^2), skipping masked pixels;
 *    KRON_RADIUS = max(k r1, r_min) with PHOT_AUTOPARAMS = (k, r_min).
 * 2. FLUX_AUTO: sum over pixel centres inside the ellipse scaled to KRON_RADIUS, masked pixels replaced per
 *    MASK_TYPE. FLAGS bit 1 when more than 10% of either ellipse is masked; bit 16 when cut by the image edge.
 * The elliptical radius of each pixel is evaluated in single precision (Math.fround), as SExtractor does, so
 * that pixels lying on the ellipse boundary are included or excluded identically.
 */
import { BLOCK_DETECTED, isMasked, setBox, samplePixel, type Box, type MeasureContext, type Sample } from './context.js';
import type { ObjState } from './state.js';

const KRON_NSIG = 6;
const CROWD_THRESHOLD = 0.1;
const FLAG_CROWDED = 1;
const FLAG_APER = 16;
const box: Box = { xmin: 0, xmax: 0, ymin: 0, ymax: 0, clipped: false };
const f = Math.fround;
const smp: Sample = { value: 0, variance: 0, masked: false };

/** Bounding box (SExtractor rounding) of the ellipse cxx dx^2 + cyy dy^2 + cxy dx dy <= k^2 around (mx, my). */
function ellipseBox(ctx: MeasureContext, s: ObjState, k: number): void {
  const { cxx, cyy, cxy } = s;
  const ex = f(cxx - (cxy * cxy) / (4 * cyy));
  const ey = f(cyy - (cxy * cxy) / (4 * cxx));
  const dxlim = ex > 0 ? f(k / Math.sqrt(ex)) : 0;
  const dylim = ey > 0 ? f(k / Math.sqrt(ey)) : 0;
  const mx = f(s.mx);
  const my = f(s.my);
  setBox(ctx, box, Math.floor(f(mx - dxlim) + 0.5), Math.floor(f(mx + dxlim) + 0.5) + 1, Math.floor(f(my - dylim) + 0.5), Math.floor(f(my + dylim) + 0.5) + 1);
}

/** Single-precision elliptical radius^2 of offset (dx, dy), in SExtractor's operation order. */
function ellR2(cxx: number, cyy: number, cxy: number, dx: number, dy: number): number {
  return f(f(f(f(cxx * dx) * dx) + f(f(cyy * dy) * dy)) + f(f(cxy * dx) * dy));
}

/** Fill s.kron, s.autoFlux, s.autoVar (and FLAGS bits 1, 16). */
export function measureAuto(ctx: MeasureContext, kronFactor: number, minRadius: number, s: ObjState): void {
  const { w, img, gain, backVar, gainPerPixel } = ctx;
  const { cxx, cyy, cxy, label } = s;
  const mx = f(s.mx);
  const my = f(s.my);
  // --- Kron radius from the first moment within KRON_NSIG
  ellipseBox(ctx, s, KRON_NSIG);
  if (box.clipped) s.flags |= FLAG_APER;
  const klim2 = KRON_NSIG * KRON_NSIG;
  let r1 = 0;
  let v1 = 0;
  let area = 0;
  let areab = 0;
  for (let y = box.ymin; y < box.ymax; y++) {
    const dy = f(y - my);
    const row = y * w;
    for (let x = box.xmin; x < box.xmax; x++) {
      const dx = f(x - mx);
      const r2 = ellR2(cxx, cyy, cxy, dx, dy);
      if (r2 > klim2) continue;
      const p = row + x;
      if (isMasked(ctx, p, label)) {
        areab++;
      } else {
        const v = img[p];
        area++;
        r1 += Math.sqrt(r2) * v;
        v1 += v;
      }
    }
  }
  area += areab;
  if (area === 0) {
    s.kron = 0;
    s.autoFlux = 0;
    s.autoVar = 0;
    return;
  }
  let kron = f(minRadius);
  if (r1 > 0 && v1 > 0) {
    kron = f((kronFactor * r1) / v1);
    if (kron < minRadius) kron = f(minRadius);
  }
  if (areab / area > CROWD_THRESHOLD) s.flags |= FLAG_CROWDED;

  // --- flux within the Kron ellipse
  ellipseBox(ctx, s, kron);
  if (box.clipped) s.flags |= FLAG_APER;
  const k2 = f(kron * kron);
  let tv = 0;
  let sigtv = 0;
  area = 0;
  areab = 0;
  const { blocked, seg } = ctx;
  const vmap = ctx.variance;
  for (let y = box.ymin; y < box.ymax; y++) {
    const dy = f(y - my);
    const row = y * w;
    for (let x = box.xmin; x < box.xmax; x++) {
      if (ellR2(cxx, cyy, cxy, f(x - mx), dy) > k2) continue;
      area++;
      const p = row + x;
      const b = blocked[p];
      let v: number;
      let variance: number;
      // used as is when not blocked, or blocked only as one of the object's own detected pixels (see isMasked)
      if (b === 0 || (b === BLOCK_DETECTED && seg[p] === label)) {
        v = img[p];
        variance = vmap ? vmap[p] : backVar;
      } else {
        samplePixel(ctx, label, x, y, mx, my, smp);
        if (smp.masked) areab++;
        v = smp.value;
        variance = smp.variance;
      }
      tv += v;
      sigtv += variance;
      if (gainPerPixel && v > 0 && gain > 0) sigtv += ((v / gain) * variance) / backVar;
    }
  }
  if (areab > CROWD_THRESHOLD * area) s.flags |= FLAG_CROWDED;
  if (!gainPerPixel && gain > 0 && tv > 0) sigtv += tv / gain;
  s.kron = tv > 0 ? kron : 0;
  s.autoFlux = tv;
  s.autoVar = sigtv;
}
