/**
 * Focal-plane background, per-CCD side (apply): a CCD's background model with its mesh levels replaced by the
 * focal-plane background (surface + residual grid + the CCD's offset) at the spline nodes, so the existing
 * interpolate / subtractBackground work unchanged. The sigma grid stays the CCD's own.
 */
import { pixelToFocal } from '../camera/geometry.js';
import type { DetectorGeom } from '../camera/types.js';
import { floatMedian } from './filter.js';
import type { BackgroundModel } from './index.js';
import { makeSplineGrid } from './spline.js';
import { focalEvaluator, focalOffset, type FocalBackground } from './focal-solve.js';

export interface ApplyOptions {
  /** add the CCD's fitted level offset (default true) */
  readonly offset?: boolean;
}

/**
 * The CCD's background model with mesh levels from the focal-plane background. Each node is evaluated at the pixel
 * where the bicubic spline places it (x = (mx + 0.5) bw - 0.5, y = (my + 0.5) bh, see spline.ts), so the
 * interpolated map follows the focal-plane model across the whole CCD. A 'manual' model is returned unchanged.
 */
export function applyFocalBackground(model: BackgroundModel, det: DetectorGeom, fb: FocalBackground, opts: ApplyOptions = {}): BackgroundModel {
  if (model.width !== det.width || model.height !== det.height)
    throw new RangeError(`background is ${model.width}x${model.height}, detector ${det.id} is ${det.width}x${det.height}`);
  if (model.type === 'manual') return model;
  const { nx, ny, bw, bh, width, height } = model;
  const off = opts.offset === false ? 0 : focalOffset(fb, det.id);
  const level = new Float32Array(nx * ny);
  const ev = focalEvaluator(fb);
  for (let my = 0; my < ny; my++) {
    const y = (my + 0.5) * bh;
    for (let mx = 0; mx < nx; mx++) {
      const [fx, fy] = pixelToFocal(det, (mx + 0.5) * bw - 0.5, y);
      level[my * nx + mx] = ev(fx, fy) + off;
    }
  }
  return {
    ...model,
    level,
    globalBackground: floatMedian(Float32Array.from(level)),
    levelGrid: makeSplineGrid(level, { width, height, bw, bh, nx, ny }),
  };
}
