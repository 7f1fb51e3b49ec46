/**
 * Background-estimation options (SExtractor's BACK_* keywords) and auxiliary inputs
 * (weight map and bad-pixel mask).
 */
import type { Plane } from '../image/types.js';

/** SExtractor BACK_TYPE: 'auto' (mesh-based map) or 'manual' (the constant BACK_VALUE). */
export type BackType = 'auto' | 'manual';

/**
 * SExtractor WEIGHT_TYPE of an external weight map:
 * 'weight' = MAP_WEIGHT (relative inverse variance), 'variance' = MAP_VAR, 'rms' = MAP_RMS.
 */
export type WeightType = 'weight' | 'variance' | 'rms';

/** Background options, with SExtractor's names in the comments and its defaults in DEFAULT_BACKGROUND_OPTIONS. */
export interface BackgroundOptions {
  /** BACK_SIZE: mesh size in pixels, one value or [width, height]. */
  readonly backSize: number | readonly [number, number];
  /** BACK_FILTERSIZE: median-filter size in meshes, one value or [width, height]. */
  readonly filterSize: number | readonly [number, number];
  /** BACK_FILTTHRESH: a mesh is replaced by its filtered value only if they differ by at least this much. */
  readonly filterThresh: number;
  /** BACK_TYPE. */
  readonly type: BackType;
  /** BACK_VALUE: the background subtracted in 'manual' mode. */
  readonly value: number;
  /** RESCALE_WEIGHTS: rescale the weight map so it matches the measured sky noise (SExtractor default Y). */
  readonly rescaleWeights: boolean;
}

/** SExtractor 2.25 defaults (`source-extractor -dd`). */
export const DEFAULT_BACKGROUND_OPTIONS: BackgroundOptions = Object.freeze({
  backSize: 64,
  filterSize: 3,
  filterThresh: 0,
  type: 'auto',
  value: 0,
  rescaleWeights: true,
});

/** A plane of per-pixel flags: non-zero = bad pixel. */
export interface MaskLike {
  readonly width: number;
  readonly height: number;
  readonly data: ArrayLike<number>;
}

/** Optional per-pixel inputs besides the image itself. */
export interface BackgroundInputs {
  /** External weight map (same size as the image), interpreted according to weightType. */
  readonly weight?: Plane;
  /** How to read `weight` (default 'weight', i.e. MAP_WEIGHT). */
  readonly weightType?: WeightType;
  /**
   * WEIGHT_THRESH in the units of the weight map: pixels with weight <= thresh ('weight') or
   * variance/rms >= thresh ('variance'/'rms') are bad. Default: weight <= 0 is bad; no variance limit.
   */
  readonly weightThresh?: number;
  /** Bad-pixel mask: non-zero pixels are ignored (as are NaN pixels). */
  readonly mask?: MaskLike;
}

/** SExtractor's "huge number" (BIG): stands for infinite variance. */
export const BIG = 1e30;

/** Options resolved to plain integers for the algorithms. */
export interface ResolvedBackgroundOptions {
  /** mesh width and height in pixels, clipped to the image size */
  readonly bw: number;
  readonly bh: number;
  /** median-filter full sizes in meshes (1 along an axis with a single mesh) */
  readonly fx: number;
  readonly fy: number;
  readonly filterThresh: number;
  readonly type: BackType;
  readonly value: number;
  readonly rescaleWeights: boolean;
}

function pair(v: number | readonly [number, number], what: string): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  for (const n of p)
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`${what} must be a positive integer (got ${String(v)})`);
  return p;
}

/** Merge options with the defaults and derive the mesh grid for an image of the given size, as SExtractor does. */
export function resolveOptions(width: number, height: number, options: Partial<BackgroundOptions> = {}): ResolvedBackgroundOptions {
  const o = { ...DEFAULT_BACKGROUND_OPTIONS, ...options };
  const [sw, sh] = pair(o.backSize, 'BACK_SIZE');
  const [fw, fh] = pair(o.filterSize, 'BACK_FILTERSIZE');
  if (!(width >= 1 && height >= 1)) throw new RangeError(`image must be at least 1x1 (got ${width}x${height})`);
  const bw = Math.min(sw, width);
  const bh = Math.min(sh, height);
  const nx = Math.ceil(width / bw);
  const ny = Math.ceil(height / bh);
  return {
    bw,
    bh,
    fx: nx > 1 ? fw : 1,
    fy: ny > 1 ? fh : 1,
    filterThresh: o.filterThresh,
    type: o.type,
    value: o.value,
    rescaleWeights: o.rescaleWeights,
  };
}

/**
 * Convert a weight threshold to variance units, as SExtractor does (weight_to_var on WEIGHT_THRESH).
 * Pixels are usable when their variance is strictly below the returned value.
 */
export function varianceThreshold(type: WeightType, thresh: number | undefined): number {
  if (thresh === undefined) return BIG;
  switch (type) {
    case 'weight':
      return thresh > 0 ? Math.fround(1 / Math.fround(thresh)) : BIG;
    case 'variance':
      return thresh;
    case 'rms':
      return thresh < BIG ? Math.fround(thresh * thresh) : thresh;
  }
}
