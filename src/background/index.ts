/**
 * SExtractor-style background estimation: mesh statistics -> bad-mesh filling and median filtering ->
 * bicubic-spline interpolation of the background and RMS grids, plus SExtractor's global
 * "Background: X RMS: Y" numbers. See meshstats.ts, filter.ts and spline.ts for the algorithm details.
 */
import { makePlane, type Plane } from '../image/types.js';
import { fillBadMeshes, globalLevels, medianFilterMeshes, weightScale } from './filter.js';
import { meshStatistics, type MeshStatistics } from './meshstats.js';
import { BIG, resolveOptions, type BackType, type BackgroundInputs, type BackgroundOptions, type WeightType } from './options.js';
import { makeSplineGrid, splineRows, SplineRowEvaluator, type SplineGrid } from './spline.js';

export { meshStatistics, type MeshStatistics } from './meshstats.js';
export { DEFAULT_BACKGROUND_OPTIONS, resolveOptions } from './options.js';
export type { BackgroundInputs, BackgroundOptions, BackType, MaskLike, WeightType } from './options.js';

/** Filtered mesh grids and everything needed to evaluate the maps anywhere (e.g. band by band). */
export interface BackgroundModel {
  readonly width: number;
  readonly height: number;
  readonly bw: number;
  readonly bh: number;
  readonly nx: number;
  readonly ny: number;
  /** filtered mesh levels and sigmas (SExtractor's MINIBACKGROUND / MINIBACK_RMS check images) */
  readonly level: Float32Array;
  readonly sigma: Float32Array;
  readonly type: BackType;
  /** BACK_VALUE, used as the background everywhere in 'manual' mode */
  readonly value: number;
  /** median of the filtered levels (BACK_VALUE in manual mode) */
  readonly globalBackground: number;
  /** median of the filtered sigmas (divided by weightScale when weights are not rescaled) */
  readonly globalRms: number;
  /** factor turning sqrt(weight-map variance) into sky noise (1 without a weight or variance map) */
  readonly weightScale: number;
  /** number of meshes that were bad and got interpolated from their neighbours */
  readonly badMeshes: number;
  readonly levelGrid: SplineGrid;
  readonly sigmaGrid: SplineGrid;
}

/** Result of estimateBackground. */
export interface BackgroundResult {
  /** background map (SExtractor BACKGROUND check image) */
  readonly background: Plane;
  /** background-noise map interpolated from the mesh sigmas (SExtractor BACKGROUND_RMS check image) */
  readonly rms: Plane;
  /**
   * With a weight map: per-pixel noise sqrt(variance) * weightScale, i.e. the noise SExtractor uses for
   * thresholds when weighting (Infinity where the weight is zero/the variance is infinite).
   */
  readonly weightedRms?: Plane;
  readonly globalBackground: number;
  readonly globalRms: number;
  /** filtered mesh grid */
  readonly meshes: { nx: number; ny: number; bw: number; bh: number; level: Float32Array; sigma: Float32Array };
  /** raw mesh statistics (before bad-mesh filling and filtering) */
  readonly raw: MeshStatistics;
  readonly model: BackgroundModel;
}

/**
 * Turn raw mesh statistics into a background model: fill bad meshes, median-filter (BACK_FILTERSIZE,
 * BACK_FILTTHRESH), compute the global levels, the weight-map scale factor and the spline coefficients.
 */
export function backgroundModel(
  stats: MeshStatistics,
  options: Partial<BackgroundOptions> = {},
  weightType: WeightType = 'weight',
): BackgroundModel {
  const { width, height, bw, bh, nx, ny } = stats;
  const o = resolveOptions(width, height, options);
  if (o.bw !== bw || o.bh !== bh) throw new RangeError(`mesh statistics were made with ${bw}x${bh} meshes, options say ${o.bw}x${o.bh}`);
  const level = Float32Array.from(stats.level);
  const sigma = Float32Array.from(stats.sigma);
  const badMeshes = fillBadMeshes(level, sigma, nx, ny);
  medianFilterMeshes(level, sigma, nx, ny, o.fx, o.fy, o.filterThresh);
  const g = globalLevels(level, sigma);
  let scale = 1;
  let globalRms = g.rms;
  if (stats.varianceLevel && stats.varianceSigma && weightType !== 'rms') {
    const vl = Float32Array.from(stats.varianceLevel);
    const vs = Float32Array.from(stats.varianceSigma);
    fillBadMeshes(vl, vs, nx, ny);
    medianFilterMeshes(vl, vs, nx, ny, o.fx, o.fy, o.filterThresh);
    const f = weightScale(sigma, vl);
    if (o.rescaleWeights) scale = f;
    else globalRms = Math.fround(globalRms / f);
  }
  const geometry = { width, height, bw, bh, nx, ny };
  return {
    ...geometry,
    level,
    sigma,
    type: o.type,
    value: o.value,
    globalBackground: o.type === 'manual' ? o.value : g.background,
    globalRms,
    weightScale: scale,
    badMeshes,
    levelGrid: makeSplineGrid(level, geometry),
    sigmaGrid: makeSplineGrid(sigma, geometry),
  };
}

/**
 * Evaluate rows y0 (inclusive) to y1 (exclusive) of the background ('background') or noise ('rms') map
 * into `out` ((y1 - y0) * width values; allocated if omitted). For band-by-band (streaming) processing.
 */
export function interpolateRows(model: BackgroundModel, kind: 'background' | 'rms', y0: number, y1: number, out?: Float32Array): Float32Array {
  if (kind === 'background' && model.type === 'manual') {
    const n = (y1 - y0) * model.width;
    if (!(Number.isInteger(y0) && Number.isInteger(y1) && 0 <= y0 && y0 <= y1 && y1 <= model.height))
      throw new RangeError(`row band ${y0}..${y1} outside 0..${model.height}`);
    const dst = out ?? new Float32Array(n);
    return dst.fill(model.value, 0, n);
  }
  return splineRows(kind === 'background' ? model.levelGrid : model.sigmaGrid, y0, y1, out);
}

/** Full-resolution background or noise map of a model. */
export function interpolate(model: BackgroundModel, kind: 'background' | 'rms'): Plane {
  return makePlane(model.width, model.height, interpolateRows(model, kind, 0, model.height));
}

/**
 * The background-subtracted image, image - background map (float32, exactly as subtracting the map that
 * `interpolate(model, 'background')` returns), made row by row without building the map. `out` may be
 * image.data itself (subtraction in place); allocated when omitted.
 */
export function subtractBackground(image: Plane, model: BackgroundModel, out?: Float32Array): Float32Array {
  const { width, height } = model;
  if (image.width !== width || image.height !== height) throw new RangeError(`image is ${image.width}x${image.height}, background model ${width}x${height}`);
  const src = image.data;
  const dst = out ?? new Float32Array(width * height);
  if (dst.length !== width * height) throw new RangeError('output buffer size differs from the image');
  if (model.type === 'manual') {
    const b = Math.fround(model.value);
    for (let i = 0; i < dst.length; i++) dst[i] = src[i] - b;
    return dst;
  }
  const ev = new SplineRowEvaluator(model.levelGrid);
  for (let y = 0; y < height; y++) ev.subtractRow(y, src, dst, y * width);
  return dst;
}

/**
 * Per-pixel noise from a weight map: sqrt(variance) * scale (SExtractor's weight_to_var with the
 * RESCALE_WEIGHTS factor). Pixels of zero weight or infinite variance get Infinity.
 */
export function weightedNoise(weight: Plane, weightType: WeightType, scale: number): Plane {
  const out = new Float32Array(weight.data.length);
  const w = weight.data;
  for (let i = 0; i < w.length; i++) {
    const v = w[i];
    let s: number;
    if (weightType === 'weight') s = v > 0 ? scale / Math.sqrt(v) : Infinity;
    else if (weightType === 'variance') s = v >= 0 && v < BIG ? scale * Math.sqrt(v) : Infinity;
    else s = v >= 0 && v < BIG ? v : Infinity;
    out[i] = s;
  }
  return makePlane(weight.width, weight.height, out);
}

/**
 * Estimate the background and noise maps of an image the way SExtractor 2.25 does
 * (BACK_TYPE AUTO or MANUAL), optionally with a weight map and a bad-pixel mask.
 * The full-resolution maps (background, rms, weightedRms) are interpolated when first read.
 */
export function estimateBackground(
  image: Plane,
  options: Partial<BackgroundOptions> = {},
  inputs: BackgroundInputs = {},
): BackgroundResult {
  const raw = meshStatistics(image, options, inputs);
  const model = backgroundModel(raw, options, inputs.weightType ?? 'weight');
  // the full-resolution planes are made on first access (callers that keep only the model never pay for them)
  let background: Plane | undefined;
  let rms: Plane | undefined;
  let weightedRms: Plane | undefined;
  const weight = inputs.weight;
  return {
    get background() {
      return (background ??= interpolate(model, 'background'));
    },
    get rms() {
      return (rms ??= interpolate(model, 'rms'));
    },
    get weightedRms() {
      return weight ? (weightedRms ??= weightedNoise(weight, inputs.weightType ?? 'weight', model.weightScale)) : undefined;
    },
    globalBackground: model.globalBackground,
    globalRms: model.globalRms,
    meshes: { nx: model.nx, ny: model.ny, bw: model.bw, bh: model.bh, level: model.level, sigma: model.sigma },
    raw,
    model,
  };
}
