/**
 * Windowed measurements (XWIN_IMAGE, ..., SNR_WIN, FLAGS_WIN), SExtractor's iterative Gaussian-weighted scheme:
 * window sigma = 2 x half-light radius / 2.35 (FLUX_RADIUS at 0.5 taken as half the FWHM), integration radius
 * 4 sigma, start at the isophotal barycentre, update x <- x + 2 sum(w I dx) / sum(w I) (the factor 2 makes the
 * fixed point the centre of a Gaussian), at most 16 iterations, stop when the step is below 1e-4 px.
 * Pixels cut by the 4-sigma circle are weighted by their exact overlap area (SExtractor sub-samples them 11x11).
 * FLAGS_WIN: 1 singular windowed moments, 2 negative windowed moments, 4 non-positive windowed flux,
 * 8 windowed centre more than 1 px (in x and y) away and outside the isophotal ellipse; when set, positions, errors
 * and moments revert to the isophotal ones.
 */
import { BLOCK_DETECTED, circleBox, samplePixel, type Box, type MeasureContext, type Sample } from './context.js';
import { pixelCircleOverlap } from './overlap.js';
import type { ObjState } from './state.js';

const NITER_MAX = 16;
const NSIG = 4;
const STEP_MIN = 0.0001;
const FAC = 2;
const FLAG_APER = 16;
const BIG = 1e30;
const box: Box = { xmin: 0, xmax: 0, ymin: 0, ymax: 0, clipped: false };
const smp: Sample = { value: 0, variance: 0, masked: false };
let gx = new Float64Array(64);

/** Sums of one pass of the window (module-level scratch: no allocation per object). */
const acc = { tv: 0, sx: 0, sy: 0, esum: 0, emx2: 0, emy2: 0, emxy: 0, mx2: 0, my2: 0, mxy: 0 };

/**
 * Accumulate the window sums at centre (mx, my): weighted flux and first moments, and when `full` also the
 * second moments and the error sums (only needed at the final position).
 */
function windowPass(
  ctx: MeasureContext,
  s: ObjState,
  mx: number,
  my: number,
  raper: number,
  invtwosig2: number,
  full: boolean,
): void {
  const { w, img, blocked, seg, gain, backVar, gainPerPixel } = ctx;
  const vmap = ctx.variance;
  const label = s.label;
  const invgain = gain > 0 ? 1 / gain : 0;
  // pixels closer than r - sqrt(2)/2 are entirely inside the circle, farther than r + sqrt(2)/2 entirely outside
  const rin = raper - Math.SQRT1_2;
  const rin2 = rin > 0 ? rin * rin : -1;
  const rout2 = (raper + Math.SQRT1_2) * (raper + Math.SQRT1_2);
  circleBox(ctx, mx, my, raper, box);
  if (box.clipped) s.flags |= FLAG_APER;
  // the Gaussian window is separable: exp(-(dx^2 + dy^2) / 2 sig^2) = gx(dx) gy(dy)
  const nx = box.xmax - box.xmin;
  if (gx.length < nx) gx = new Float64Array(2 * nx);
  for (let x = box.xmin; x < box.xmax; x++) gx[x - box.xmin] = Math.exp(-(x - mx) * (x - mx) * invtwosig2);
  let tv = 0;
  let sx = 0;
  let sy = 0;
  let esum = 0;
  let emx2 = 0;
  let emy2 = 0;
  let emxy = 0;
  let mx2 = 0;
  let my2 = 0;
  let mxy = 0;
  for (let y = box.ymin; y < box.ymax; y++) {
    const dy = y - my;
    const dy2 = dy * dy;
    const gy = Math.exp(-dy2 * invtwosig2);
    const row = y * w;
    for (let x = box.xmin; x < box.xmax; x++) {
      const dx = x - mx;
      const r2 = dx * dx + dy2;
      if (r2 >= rout2) continue;
      const ov = r2 <= rin2 ? 1 : pixelCircleOverlap(dx, dy, raper);
      if (ov === 0) continue;
      const wt = ov * gx[x - box.xmin] * gy;
      const p = row + x;
      let v: number;
      let variance: number;
      // used as is when not blocked, or blocked only as one of the object's own detected pixels (see isMasked)
      const b = blocked[p];
      if (b === 0 || (b === BLOCK_DETECTED && seg[p] === label)) {
        v = img[p];
        variance = vmap ? vmap[p] : backVar;
      } else {
        samplePixel(ctx, label, x, y, mx, my, smp);
        v = smp.value;
        variance = smp.variance;
      }
      const wv = wt * v;
      tv += wv;
      sx += wv * dx;
      sy += wv * dy;
      if (full) {
        let err = variance;
        if (invgain > 0 && v > 0) err += gainPerPixel ? (v * invgain * variance) / backVar : v * invgain;
        const err2 = wt * wt * err;
        esum += err2;
        emx2 += err2 * (dx * dx + 0.0833); // + finite pixel size
        emy2 += err2 * (dy2 + 0.0833);
        emxy += err2 * dx * dy;
        mx2 += wv * dx * dx;
        my2 += wv * dy2;
        mxy += wv * dx * dy;
      }
    }
  }
  acc.tv = tv;
  acc.sx = sx;
  acc.sy = sy;
  acc.esum = esum;
  acc.emx2 = emx2;
  acc.emy2 = emy2;
  acc.emxy = emxy;
  acc.mx2 = mx2;
  acc.my2 = my2;
  acc.mxy = mxy;
}

/** Fill the WIN fields of `s` (needs the isophotal fields and s.hlRadius). */
export function measureWin(ctx: MeasureContext, s: ObjState): void {
  const sig = (s.hlRadius * 2) / 2.35;
  const invtwosig2 = 1 / (2 * sig * sig);
  const raper = NSIG * sig;
  let mx = s.mx;
  let my = s.my;
  // centre of the last evaluated window (the sums reported are those of the last pass, before its update)
  let ex = mx;
  let ey = my;
  let i = 0;
  // full sums are needed only at the last position: compute them when the previous step suggests convergence
  let full = false;
  let lastStep2 = Infinity;
  for (; i < NITER_MAX; i++) {
    ex = mx;
    ey = my;
    full = lastStep2 < 100 * STEP_MIN * STEP_MIN || i === NITER_MAX - 1;
    windowPass(ctx, s, mx, my, raper, invtwosig2, full);
    if (!(acc.tv > 0)) break;
    const dxpos = acc.sx / acc.tv;
    const dypos = acc.sy / acc.tv;
    mx += dxpos * FAC;
    my += dypos * FAC;
    lastStep2 = dxpos * dxpos + dypos * dypos;
    if (lastStep2 < STEP_MIN * STEP_MIN) break;
  }
  if (!full) windowPass(ctx, s, ex, ey, raper, invtwosig2, true);
  const tv = acc.tv;
  let { emx2, emy2, emxy } = acc;
  const esum = acc.esum;
  // a non-positive flux leaves the first moments undivided (only used to raise FLAGS_WIN)
  const dxpos = tv > 0 ? acc.sx / tv : acc.sx;
  const dypos = tv > 0 ? acc.sy / tv : acc.sy;
  let mx2 = acc.mx2 / tv - dxpos * dxpos;
  let my2 = acc.my2 / tv - dypos * dypos;
  const mxy = acc.mxy / tv - dxpos * dypos;
  s.winNiter = i + 1;
  s.winFlux = tv;
  s.winVar = esum;

  let det = mx2 * my2 - mxy * mxy;
  const ddx = mx - s.mx;
  const ddy = my - s.my;
  const far = ddx * ddx > 1 && ddy * ddy > 1 && s.cxx * ddx * ddx + s.cyy * ddy * ddy + s.cxy * ddx * ddy > 1;
  const flags = (far ? 8 : 0) | (tv <= 0 ? 4 : 0) | (mx2 < 0 || my2 < 0 ? 2 : 0) | (det < 0 ? 1 : 0);
  s.winFlags = flags;
  if (flags !== 0 || !(tv > 0)) {
    // revert to the isophotal estimates
    s.xwin = s.mx;
    s.ywin = s.my;
    s.winErrMx2 = s.errMx2;
    s.winErrMy2 = s.errMy2;
    s.winErrMxy = s.errMxy;
    s.winMx2 = s.mx2;
    s.winMy2 = s.my2;
    s.winMxy = s.mxy;
    return;
  }
  s.xwin = mx;
  s.ywin = my;
  const norm = (FAC * FAC) / (tv * tv);
  emx2 *= norm;
  emy2 *= norm;
  emxy *= norm;
  const esumN = esum * 0.08333 * norm;
  if (s.singular && emx2 * emy2 - emxy * emxy < esumN * esumN) {
    emx2 += esumN;
    emy2 += esumN;
  }
  s.winErrMx2 = emx2;
  s.winErrMy2 = emy2;
  s.winErrMxy = emxy;
  if (det < 0.00694) {
    mx2 += 0.0833333;
    my2 += 0.0833333;
    det = mx2 * my2 - mxy * mxy;
  }
  s.winMx2 = mx2;
  s.winMy2 = my2;
  s.winMxy = mxy;
}

/** SNR_WIN: windowed flux over its error (1e30 when the error vanishes). */
export function winSnr(s: ObjState): number {
  return s.winVar > 1 / BIG ? s.winFlux / Math.sqrt(s.winVar) : BIG;
}
