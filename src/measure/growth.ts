/**
 * Growth curve and FLUX_RADIUS, SExtractor's definition:
 * the curve of growth is sampled in 64 circular bins out to rlim = 6 A_IMAGE around the isophotal barycentre
 * (pixels sub-sampled 5x5 when closer than 0.75 px to a bin edge, masked pixels replaced per MASK_TYPE), then
 * FLUX_RADIUS(f) is the radius where the cumulative flux first reaches f x FLUX_AUTO, linearly interpolated
 * between bin edges and capped at rlim. The half-light radius used by the WIN window is the same with f = 0.5,
 * at least 0.5 px.
 *
 * Speed: pixels are visited in order of increasing distance, and the visit stops as soon as every requested
 * radius is settled by bins that no further pixel can change (the result is the same as a full pass).
 */
import { BLOCK_DETECTED, circleBox, samplePixel, type Box, type MeasureContext, type Sample } from './context.js';
import type { ObjState } from './state.js';

const NSTEP = 64;
const OVERSAMP = 5;
const NSIG = 6;
const MIN_HLRAD = 0.5;
const FLAG_APER = 16;
/** largest distance of a sub-sample from its pixel centre (0.4 sqrt 2) */
const SUB_REACH = 0.5657;
/** largest distance between the barycentre and the nearest pixel centre (sqrt(2)/2) */
const CENTRE_SLOP = 0.70711;
const growth = new Float64Array(NSTEP);
const cum = new Float64Array(NSTEP);
const box: Box = { xmin: 0, xmax: 0, ymin: 0, ymax: 0, clipped: false };
const smp: Sample = { value: 0, variance: 0, masked: false };

// Integer offsets sorted by distance (then y, then x), built on demand up to the radius needed (16, 32, 64 or
// MAX_OFFSET_R: a table is a prefix of any larger one); bigger objects are scanned row by row instead.
const MAX_OFFSET_R = 128;
let offR = 0;
let offX = new Int32Array(0);
let offY = new Int32Array(0);
let offD = new Float64Array(0);

function ensureOffsets(reach: number): void {
  if (offR >= reach) return;
  let R = 16;
  while (R < reach && R < MAX_OFFSET_R) R *= 2;
  offR = R;
  const side = 2 * R + 1;
  const keys: number[] = [];
  for (let oy = -R; oy <= R; oy++)
    for (let ox = -R; ox <= R; ox++) {
      const d2 = ox * ox + oy * oy;
      if (d2 <= R * R) keys.push(d2 * side * side + (oy + R) * side + (ox + R));
    }
  const sorted = Float64Array.from(keys).sort();
  offX = new Int32Array(sorted.length);
  offY = new Int32Array(sorted.length);
  offD = new Float64Array(sorted.length);
  for (let i = 0; i < sorted.length; i++) {
    const k = sorted[i];
    const d2 = Math.floor(k / (side * side));
    const rest = k - d2 * side * side;
    offY[i] = Math.floor(rest / side) - R;
    offX[i] = rest - (offY[i] + R) * side - R;
    offD[i] = Math.sqrt(d2);
  }
}

/** Add pixel value v at offset (dx, dy) from the centre to the growth bins (5x5 sub-pixels near a bin edge). */
function binPixel(dx: number, dy: number, r2: number, v: number, stepdens: number, step: number): void {
  const r = Math.sqrt(r2);
  const dm = r - Math.floor(r * stepdens) * step;
  if (dm < 0.75 || dm > step - 0.75) {
    const sub = 1 / OVERSAMP;
    const off = 0.5 * (sub - 1);
    const sv = sub * sub * v;
    let sy = dy + off;
    for (let iy = 0; iy < OVERSAMP; iy++, sy += sub) {
      const sy2 = sy * sy;
      let sx = dx + off;
      for (let ix = 0; ix < OVERSAMP; ix++, sx += sub) {
        const j = (Math.sqrt(sx * sx + sy2) * stepdens) | 0;
        if (j < NSTEP) growth[j] += sv;
      }
    }
  } else {
    const j = (r * stepdens) | 0;
    if (j < NSTEP) growth[j] += v;
  }
}

/** Radius where the cumulative curve first reaches `target` (SExtractor's scan and interpolation), from index k. */
function radiusFrom(k: number, target: number, step: number): number {
  if (k === 0) return step * (cum[0] !== 0 ? target / cum[0] : 0);
  const dg = cum[k] - cum[k - 1];
  return step * (dg !== 0 ? k + (target - cum[k - 1]) / dg : k);
}

let targets = new Float64Array(8);
let found = new Int32Array(8);

/** Fill s.fluxRadius (one per PHOT_FLUXFRAC) and s.hlRadius; needs s.autoFlux. Sets FLAGS bit 16 if cut by the edge. */
export function measureGrowth(ctx: MeasureContext, fluxFrac: readonly number[], s: ObjState): void {
  const { mx, my, label } = s;
  const { w, h, img, blocked } = ctx;
  const rlim = NSIG * s.a;
  if (!(rlim > 0)) {
    s.fluxRadius.fill(0);
    s.hlRadius = MIN_HLRAD;
    return;
  }
  // SExtractor integrates a box of radius rlim + 1.5 (this sets FLAGS bit 16), but pixels farther than
  // rlim + SUB_REACH only reach bins >= 64
  circleBox(ctx, mx, my, rlim + 1.5, box);
  if (box.clipped) s.flags |= FLAG_APER;
  const rmax = rlim + SUB_REACH;
  const rext2 = rmax * rmax;
  const stepdens = NSTEP / rlim;
  const step = 1 / stepdens;
  const autoFlux = Math.fround(s.autoFlux); // single precision in SExtractor
  const nt = fluxFrac.length + 1;
  if (targets.length < nt) {
    targets = new Float64Array(nt);
    found = new Int32Array(nt);
  }
  for (let t = 0; t < fluxFrac.length; t++) targets[t] = fluxFrac[t] * autoFlux;
  targets[nt - 1] = 0.5 * autoFlux;
  found.fill(-1, 0, nt);
  let unresolved = nt;
  growth.fill(0);
  // bins [0, nfinal) are final and cumulated into cum; n = NSTEP - 1 is SExtractor's scan limit
  let nfinal = 0;
  const settle = (upTo: number): void => {
    for (; nfinal < upTo; nfinal++) {
      cum[nfinal] = (nfinal > 0 ? cum[nfinal - 1] : 0) + growth[nfinal];
      for (let t = 0; t < nt; t++) {
        if (found[t] < 0 && (!(cum[nfinal] < targets[t]) || nfinal === NSTEP - 2)) {
          // first bin reaching the target, or the scan limit (SExtractor then interpolates on bins 61-62)
          found[t] = !(cum[nfinal] < targets[t]) ? nfinal : NSTEP - 1;
          unresolved--;
        }
      }
    }
  };

  const seg = ctx.seg;
  const value = (x: number, y: number): number => {
    const p = y * w + x;
    const b = blocked[p];
    if (b === 0 || (b === BLOCK_DETECTED && seg[p] === label)) return img[p];
    samplePixel(ctx, label, x, y, mx, my, smp);
    return smp.value;
  };
  const reach = rmax + CENTRE_SLOP;
  if (reach <= MAX_OFFSET_R) {
    ensureOffsets(reach);
    const cx = Math.round(mx);
    const cy = Math.round(my);
    let lastD = -1;
    for (let o = 0; o < offD.length; o++) {
      const d = offD[o];
      if (d > reach) break;
      if (d !== lastD) {
        // every pixel closer than d - CENTRE_SLOP is done: bins ending before that minus SUB_REACH are final
        lastD = d;
        const kf = Math.min(Math.floor((d - CENTRE_SLOP - SUB_REACH) * stepdens), NSTEP - 1);
        if (kf > nfinal) {
          settle(kf);
          if (unresolved === 0) break;
        }
      }
      const x = cx + offX[o];
      const y = cy + offY[o];
      if (x < 0 || x >= w || y < 0 || y >= h) continue;
      const dx = x - mx;
      const dy = y - my;
      const r2 = dx * dx + dy * dy;
      if (r2 < rext2) binPixel(dx, dy, r2, value(x, y), stepdens, step);
    }
  } else {
    circleBox(ctx, mx, my, rmax, box);
    for (let y = box.ymin; y < box.ymax; y++)
      for (let x = box.xmin; x < box.xmax; x++) {
        const dx = x - mx;
        const dy = y - my;
        const r2 = dx * dx + dy * dy;
        if (r2 < rext2) binPixel(dx, dy, r2, value(x, y), stepdens, step);
      }
  }
  if (unresolved > 0) settle(NSTEP - 1);
  for (let t = 0; t < nt; t++) {
    const k = found[t];
    // scan exhausted: SExtractor interpolates with i = 63 on bins 61 and 62
    const r = k === NSTEP - 1 ? step * (cum[62] - cum[61] !== 0 ? 63 + (targets[t] - cum[61]) / (cum[62] - cum[61]) : 63) : radiusFrom(k, targets[t], step);
    if (t < nt - 1) s.fluxRadius[t] = r > rlim ? rlim : r;
    else {
      let hl = Math.abs(r);
      if (hl > rlim) hl = rlim;
      if (hl < MIN_HLRAD) hl = MIN_HLRAD;
      s.hlRadius = Math.fround(hl);
    }
  }
}
