/**
 * Inputs, configuration and the per-image pixel context shared by the measurement stages.
 *
 * Neighbour masking follows SExtractor's MASK_TYPE: while an object is measured, every "detected" pixel that is not
 * its own (SExtractor blanks them to -BIG during the scan and pastes back only the measured object's own pixels)
 * and every bad pixel is unusable. The object's own pixels are its DetectedObject.pixels; pixels of detections
 * CLEAN merged into it (DetectedObject.cleaned) are its own only where SExtractor pasted them back (not `detected`).
 * Circular and elliptical apertures, the growth curve and the WIN window then use (CORRECT, the default) the pixel
 * symmetric about the object's barycentre when that one is usable, otherwise 0; BLANK uses 0; NONE masks only bad
 * pixels (as 0).
 */
import type { DetectionResult } from '../detect/types.js';
import type { Plane } from '../image/types.js';

export type MaskType = 'NONE' | 'BLANK' | 'CORRECT';

/** Image planes for measurement (all of the same size, row-major, 0-based). */
export interface MeasureImages {
  /** Background-subtracted, unfiltered measurement image. */
  readonly image: Plane;
  /**
   * Background map (BACKGROUND column and the saturation test peak + background >= SATUR_LEVEL). Not read when
   * `backgroundMesh` is given (then it may be omitted); one of the two is required.
   */
  readonly background?: Plane;
  /**
   * The filtered background mesh grid (SExtractor's MINIBACKGROUND; src/background's `meshes`). When given,
   * BACKGROUND is evaluated as SExtractor does, by BILINEAR interpolation of the mesh levels at the pixel
   * nearest to the barycentre (its full-resolution map is a bicubic spline: the two differ by ~0.1%).
   */
  readonly backgroundMesh?: BackgroundMesh;
  /**
   * Filtered (convolved) background-subtracted detection image. SExtractor weights the isophotal barycentre and
   * second moments (X_IMAGE, X2_IMAGE, A_IMAGE, ...) by these values. Absent: the unfiltered image (FILTER N).
   */
  readonly filtered?: Plane;
  /** Background RMS map; only used to derive the global RMS when `config.backgroundRms` is not given. */
  readonly rms?: Plane;
  /**
   * Per-pixel variance (ADU^2), e.g. from a weight map or rms^2 (SExtractor WEIGHT_TYPE MAP_VAR/MAP_RMS/BACKGROUND).
   * Absent: every pixel has the global variance backgroundRms^2, as SExtractor without a weight map.
   * Pixels of infinite, negative or NaN variance (zero weight) are bad pixels.
   */
  readonly variance?: Plane;
  /** Bad-pixel mask: nonzero = unusable. Non-finite image pixels are always treated as bad. */
  readonly mask?: Uint8Array;
  /**
   * The pixels SExtractor has blanked while it measures (nonzero): every pixel above the detection threshold, including
   * those of detections too small to become objects, except the pixels of CLEANed detections it pasted back (the
   * rows already blanked at the time of the merge: with a 3x3 filter, all but the last row of the detection whose
   * completion triggered the merge). Objects' own pixels may be included or not (they are pasted back per object).
   * Used as given; default: DetectionResult.detected (src/detect computes exactly this).
   * Absent from both: the pixels of all objects (segmentation != 0) plus, when a filtered image is available and
   * every object has the same (constant) threshold T, the pixels with filtered value > T; pixels of
   * DetectedObject.cleaned are then all treated as pasted back (not blanked).
   */
  readonly detected?: Uint8Array;
}

/** A background mesh grid: nx * ny levels (row-major) of meshes bw x bh pixels. */
export interface BackgroundMesh {
  readonly nx: number;
  readonly ny: number;
  readonly bw: number;
  readonly bh: number;
  readonly level: Float32Array;
}

/** SExtractor configuration values used by the measurements (names as in SExtractor). */
export interface MeasureConfig {
  /** GAIN, e-/ADU; 0 = infinite (no Poisson term). */
  readonly gain: number;
  /** SATUR_LEVEL, ADU (raw, background included). */
  readonly saturLevel: number;
  /** MAG_ZEROPOINT. */
  readonly magZeropoint: number;
  /** PHOT_APERTURES: aperture diameters in pixels. */
  readonly apertures: readonly number[];
  /** PHOT_AUTOPARAMS: Kron factor and minimum radius (default 2.5, 3.5). */
  readonly autoParams?: readonly [number, number];
  /** PHOT_FLUXFRAC: flux fractions for FLUX_RADIUS (default [0.5]). */
  readonly fluxFrac?: readonly number[];
  /** MASK_TYPE (default CORRECT). */
  readonly maskType?: MaskType;
  /** Global background RMS (SExtractor's median of the RMS mesh, SEXBKDEV). Default: median of `images.rms`. */
  readonly backgroundRms?: number;
  /** WEIGHT_GAIN: with a variance map, modulate the Poisson term by variance / backgroundRms^2 (default true). */
  readonly weightGain?: boolean;
  /**
   * Aperture pixel weighting: 0 (default) = exact area of each pixel inside the circle; n > 0 = SExtractor's
   * n x n sub-sampling of boundary pixels (SExtractor 2.25 hard-codes n = 5), to reproduce its numbers exactly.
   */
  readonly apertureSubsampling?: number;
  /**
   * ANALYSIS_THRESH in sigmas, for THRESH_TYPE RELATIVE only: with a variance map, ISOAREA counts pixels above
   * thresh * sqrt(var) (SExtractor with a weight map). Leave undefined for absolute thresholds.
   */
  readonly threshSigma?: number;
}

/** Bits of MeasureContext.blocked. */
export const BLOCK_DETECTED = 1;
export const BLOCK_BAD = 2;
/** the pixel was CLEAN-merged into the object it is labelled with (it is that object's own only if not detected) */
export const BLOCK_CLEANED = 4;

/** Everything the per-object stages read, resolved once per image. */
export interface MeasureContext {
  readonly w: number;
  readonly h: number;
  readonly img: Float32Array;
  readonly filt: Float32Array;
  /** background map (null when the mesh grid is used) */
  readonly back: Float32Array | null;
  readonly backMesh: BackgroundMesh | null;
  readonly seg: Int32Array;
  /** per pixel: BLOCK_DETECTED if detected (blanked), BLOCK_BAD if bad, BLOCK_CLEANED if CLEAN-merged (0: usable) */
  readonly blocked: Uint8Array;
  readonly variance: Float32Array | null;
  /** global background variance (backgroundRms^2) */
  readonly backVar: number;
  readonly gain: number;
  /** Poisson term per pixel modulated by the weight map (variance present and WEIGHT_GAIN) */
  readonly gainPerPixel: boolean;
  /** detected neighbour pixels are masked (MASK_TYPE != NONE) */
  readonly blankNeighbours: boolean;
  /** masked pixels are replaced by their symmetric (MASK_TYPE CORRECT) */
  readonly correct: boolean;
  readonly saturLevel: number;
  readonly threshSigma: number;
}

/** Scratch output of samplePixel (avoids allocating per pixel). */
export interface Sample {
  value: number;
  variance: number;
  masked: boolean;
}

/** Median of a float array (copy, sorted). */
function median(data: Float32Array): number {
  const finite = data.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return 0;
  finite.sort();
  const n = finite.length;
  return n % 2 ? finite[(n - 1) >> 1] : 0.5 * (finite[n / 2 - 1] + finite[n / 2]);
}

/** Resolve the inputs into a MeasureContext (a few O(npix) passes to build the blocked-pixel map). */
export function makeContext(images: MeasureImages, detection: DetectionResult, config: MeasureConfig): MeasureContext {
  const segmentation = detection.segmentation;
  const { image, background } = images;
  const w = image.width;
  const h = image.height;
  const n = w * h;
  const same = (p: { width: number; height: number } | undefined, what: string): void => {
    if (p && (p.width !== w || p.height !== h)) throw new RangeError(`${what} is ${p.width}x${p.height}, image is ${w}x${h}`);
  };
  same(background, 'background');
  same(images.filtered, 'filtered image');
  same(images.rms, 'rms map');
  same(images.variance, 'variance map');
  if (segmentation.length !== n) throw new RangeError(`segmentation has ${segmentation.length} pixels, image has ${n}`);
  const bm = images.backgroundMesh;
  if (bm && (bm.level.length !== bm.nx * bm.ny || bm.nx < 1 || bm.ny < 1)) throw new RangeError('background mesh grid size is inconsistent');
  if (!bm && !background) throw new RangeError('measurement needs a background map or a background mesh grid');
  if (images.mask && images.mask.length !== n) throw new RangeError('mask size differs from the image');

  const img = image.data;
  const blocked = new Uint8Array(n);
  const { mask } = images;
  const detected = images.detected ?? detection.detected;
  if (detected && detected.length !== n) throw new RangeError('detected-pixel map size differs from the image');
  const filt = images.filtered ? images.filtered.data : null;
  const objs = detection.objects;
  const t0 = objs.length > 0 ? objs[0].threshold : NaN;
  const constThresh = !detected && filt !== null && objs.every((o) => o.threshold === t0);
  // one specialised loop per case keeps this 16-Mpixel pass cheap; NaN or infinite pixels are bad
  if (detected)
    for (let p = 0; p < n; p++) {
      const v = img[p];
      blocked[p] = (detected[p] !== 0 ? BLOCK_DETECTED : 0) | (v - v !== 0 ? BLOCK_BAD : 0);
    }
  else if (constThresh) {
    const fd = filt as Float32Array;
    for (let p = 0; p < n; p++) {
      const v = img[p];
      blocked[p] = (segmentation[p] !== 0 || fd[p] > t0 ? BLOCK_DETECTED : 0) | (v - v !== 0 ? BLOCK_BAD : 0);
    }
  } else
    for (let p = 0; p < n; p++) {
      const v = img[p];
      blocked[p] = (segmentation[p] !== 0 ? BLOCK_DETECTED : 0) | (v - v !== 0 ? BLOCK_BAD : 0);
    }
  if (mask) for (let p = 0; p < n; p++) if (mask[p] !== 0) blocked[p] |= BLOCK_BAD;
  const vmap = images.variance?.data;
  if (vmap)
    for (let p = 0; p < n; p++) {
      const v = vmap[p];
      if (!(v >= 0 && v < 1e30)) blocked[p] |= BLOCK_BAD; // zero weight: infinite or undefined variance
    }
  for (const obj of detection.objects) {
    const cl = obj.cleaned;
    if (!cl) continue;
    // approximation without a detected map: every CLEAN-merged pixel was pasted back
    if (!detected) for (let i = 0; i < cl.length; i++) blocked[cl[i]] &= ~BLOCK_DETECTED;
    for (let i = 0; i < cl.length; i++) blocked[cl[i]] |= BLOCK_CLEANED;
  }
  const backgroundRms = config.backgroundRms ?? (images.rms ? median(images.rms.data) : NaN);
  if (!(backgroundRms >= 0)) throw new RangeError('measurement needs config.backgroundRms or an rms map');
  const maskType = config.maskType ?? 'CORRECT';
  return {
    w,
    h,
    img,
    filt: images.filtered ? images.filtered.data : img,
    back: bm ? null : background!.data,
    backMesh: images.backgroundMesh ?? null,
    seg: segmentation,
    blocked,
    variance: images.variance ? images.variance.data : null,
    backVar: backgroundRms * backgroundRms,
    gain: config.gain,
    gainPerPixel: !!images.variance && (config.weightGain ?? true),
    blankNeighbours: maskType !== 'NONE',
    correct: maskType === 'CORRECT',
    saturLevel: config.saturLevel,
    threshSigma: config.threshSigma ?? NaN,
  };
}

/**
 * True when pixel p cannot be used while measuring object `label`: bad, or blanked (detected) and not one of the
 * object's own pixels (CLEAN-merged pixels still blanked are not its own).
 */
export function isMasked(ctx: MeasureContext, p: number, label: number): boolean {
  const b = ctx.blocked[p];
  if (b === 0) return false;
  if ((b & BLOCK_BAD) !== 0) return true;
  return ctx.blankNeighbours && (b & BLOCK_DETECTED) !== 0 && ((b & BLOCK_CLEANED) !== 0 || ctx.seg[p] !== label);
}

/**
 * Value and variance of pixel (x, y) for object `label` centred at (mx, my) (0-based), with SExtractor's masking:
 * a masked pixel is replaced (CORRECT) by the pixel at (int)(2 mx + 0.49999 - x), (int)(2 my + 0.49999 - y) when that
 * one is inside the image and usable, else by 0 (variance 0 with a variance map, the global one without).
 */
export function samplePixel(ctx: MeasureContext, label: number, x: number, y: number, mx: number, my: number, out: Sample): void {
  const p = y * ctx.w + x;
  const vmap = ctx.variance;
  if (!isMasked(ctx, p, label)) {
    out.value = ctx.img[p];
    out.variance = vmap ? vmap[p] : ctx.backVar;
    out.masked = false;
    return;
  }
  out.masked = true;
  if (ctx.correct) {
    const x2 = Math.trunc(2 * mx + 0.49999 - x);
    const y2 = Math.trunc(2 * my + 0.49999 - y);
    if (x2 >= 0 && x2 < ctx.w && y2 >= 0 && y2 < ctx.h) {
      const p2 = y2 * ctx.w + x2;
      if (!isMasked(ctx, p2, label)) {
        out.value = ctx.img[p2];
        out.variance = vmap ? vmap[p2] : ctx.backVar;
        return;
      }
    }
  }
  out.value = 0;
  out.variance = vmap ? 0 : ctx.backVar;
}

/** Clipped integer box [min, max) and whether it was clipped by the image edge (SExtractor flag 16). */
export interface Box {
  xmin: number;
  xmax: number;
  ymin: number;
  ymax: number;
  clipped: boolean;
}

/**
 * Set `box` to [xmin, xmax) x [ymin, ymax) clipped to the image, recording whether anything was cut. Every field
 * is stored once, unconditionally, and a -0 becomes 0: a store that only edge objects reach, or a -0 in a field
 * that held small integers, would send the optimised measurement loops back to the interpreter.
 */
export function setBox(ctx: MeasureContext, box: Box, xmin: number, xmax: number, ymin: number, ymax: number): void {
  box.clipped = xmin < 0 || xmax > ctx.w || ymin < 0 || ymax > ctx.h;
  box.xmin = xmin <= 0 ? 0 : xmin;
  box.xmax = xmax > ctx.w ? ctx.w : xmax;
  box.ymin = ymin <= 0 ? 0 : ymin;
  box.ymax = ymax > ctx.h ? ctx.h : ymax;
}

/** The box of a circle of radius r centred at (mx, my), as SExtractor rounds it, clipped to the image. */
export function circleBox(ctx: MeasureContext, mx: number, my: number, r: number, box: Box): void {
  setBox(ctx, box, Math.trunc(mx - r + 0.499999), Math.trunc(mx + r + 1.499999), Math.trunc(my - r + 0.499999), Math.trunc(my + r + 1.499999));
}

/**
 * Background at integer pixel (x, y): SExtractor's back(), a bilinear interpolation between the centres of the
 * four nearest meshes (linear extrapolation in the outer half meshes), or the map value without a mesh grid.
 */
export function backgroundAt(ctx: MeasureContext, x: number, y: number): number {
  const m = ctx.backMesh;
  if (!m) return ctx.back![y * ctx.w + x];
  const { nx, ny, level } = m;
  let dx = x / m.bw - 0.5;
  let dy = y / m.bh - 0.5;
  let xl = Math.trunc(dx);
  let yl = Math.trunc(dy);
  dx -= xl;
  dy -= yl;
  if (xl < 0) (xl = 0), (dx -= 1);
  else if (xl >= nx - 1) (xl = nx < 2 ? 0 : nx - 2), (dx += 1);
  if (yl < 0) (yl = 0), (dy -= 1);
  else if (yl >= ny - 1) (yl = ny < 2 ? 0 : ny - 2), (dy += 1);
  const pos = yl * nx + xl;
  const b0 = level[pos];
  const b1 = nx < 2 ? b0 : level[pos + 1];
  const right = nx < 2 ? pos : pos + 1;
  const b2 = ny < 2 ? level[right] : level[right + nx];
  const b3 = nx < 2 ? b2 : level[(ny < 2 ? pos : pos + nx)];
  const cdx = 1 - dx;
  return Math.fround((1 - dy) * (cdx * b0 + dx * b1) + dy * (dx * b2 + cdx * b3));
}
