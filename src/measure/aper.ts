/**
 * Fixed circular aperture photometry (FLUX_APER / FLUXERR_APER) centred on the isophotal barycentre.
 *
 * Each pixel contributes value x (exact area of the pixel inside the circle) — SExtractor instead sub-samples
 * boundary pixels 5x5 (its compile-time APER_OVERSAMP; there is no configuration keyword). The exact overlap
 * removes that discretisation (differences ~1e-3 for apertures of a few pixels); `subsampling` > 0 reproduces
 * SExtractor's scheme instead (used to validate everything else bit-for-bit against it).
 * Masked pixels (neighbours, bad pixels) are replaced per MASK_TYPE (context.ts).
 * Variance: sum of overlap x per-pixel variance, plus flux/GAIN (or the per-pixel weighted Poisson term).
 */
import { BLOCK_DETECTED, circleBox, samplePixel, type Box, type MeasureContext, type Sample } from './context.js';
import { pixelCircleOverlap } from './overlap.js';
import type { ObjState } from './state.js';

const FLAG_APER = 16;
const box: Box = { xmin: 0, xmax: 0, ymin: 0, ymax: 0, clipped: false };
const smp: Sample = { value: 0, variance: 0, masked: false };

const f = Math.fround;

/**
 * SExtractor's sub-sampled pixel area inside a circle of radius^2 r2 (n x n sub-pixels for pixels within 0.75 px
 * of the circle), in single precision as SExtractor computes it.
 */
function subsampledOverlap(dx: number, dy: number, raper: number, n: number): number {
  const r2 = f(f(dx * dx) + f(dy * dy));
  const rint = raper - 0.75;
  const rint2 = rint > 0 ? f(rint * rint) : 0;
  const rext2 = f((raper + 0.75) * (raper + 0.75));
  if (r2 >= rext2) return 0;
  if (r2 <= rint2) return 1;
  const scale = f(1 / n);
  const scale2 = f(scale * scale);
  const off = f(0.5 * (scale - 1));
  const raper2 = f(raper * raper);
  let area = 0;
  let sy = f(dy + off);
  for (let iy = 0; iy < n; iy++, sy = f(sy + scale)) {
    const sy2 = f(sy * sy);
    let sx = f(dx + off);
    for (let ix = 0; ix < n; ix++, sx = f(sx + scale)) if (f(f(sx * sx) + sy2) < raper2) area = f(area + scale2);
  }
  return area;
}

/**
 * Flux and variance within a circle of radius r centred at (mx, my) (0-based) for object `label`;
 * `subsampling` 0 = exact pixel overlap, n > 0 = SExtractor's n x n boundary sub-sampling.
 */
export function circularFlux(
  ctx: MeasureContext,
  label: number,
  mx: number,
  my: number,
  r: number,
  subsampling: number,
  out: { flux: number; variance: number; clipped: boolean },
): void {
  // SExtractor holds the centre in single precision here; this matters only for the symmetric-pixel index
  mx = Math.fround(mx);
  my = Math.fround(my);
  circleBox(ctx, mx, my, r, box);
  const { w, img, blocked, seg, gain, backVar, gainPerPixel } = ctx;
  const vmap = ctx.variance;
  const rin = r - Math.SQRT1_2;
  const rin2 = subsampling > 0 ? -1 : rin > 0 ? rin * rin : -1;
  let tv = 0;
  let sigtv = 0;
  for (let y = box.ymin; y < box.ymax; y++) {
    const dy = y - my;
    const row = y * w;
    for (let x = box.xmin; x < box.xmax; x++) {
      const dx = x - mx;
      const ov =
        dx * dx + dy * dy <= rin2
          ? 1
          : subsampling > 0
            ? subsampledOverlap(f(dx), f(dy), f(r), subsampling)
            : pixelCircleOverlap(dx, dy, r);
      if (ov === 0) continue;
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
      tv += ov * v;
      sigtv += ov * variance;
      if (gainPerPixel && v > 0 && gain > 0) sigtv += (ov * (v / gain) * variance) / backVar;
    }
  }
  if (!gainPerPixel && gain > 0 && tv > 0) sigtv += tv / gain;
  out.flux = tv;
  out.variance = sigtv;
  out.clipped = box.clipped;
}

const res = { flux: 0, variance: 0, clipped: false };

/** FLUX_APER for every PHOT_APERTURES diameter; sets FLAGS bit 16 when an aperture is cut by the image edge. */
export function measureApertures(ctx: MeasureContext, diameters: readonly number[], subsampling: number, s: ObjState): void {
  for (let i = 0; i < diameters.length; i++) {
    circularFlux(ctx, s.label, s.mx, s.my, diameters[i] / 2, subsampling, res);
    s.aperFlux[i] = res.flux;
    s.aperVar[i] = res.variance;
    if (res.clipped) s.flags |= FLAG_APER;
  }
}
