/**
 * A 2-D image plane: row-major float32, data[y * width + x] with 0-based x, y.
 * Catalog columns use SExtractor's 1-based convention: pixel (x, y) here has centre X_IMAGE = x + 1.
 */
export interface Plane {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** A plane of per-pixel flags or labels (same layout as Plane). */
export interface IntPlane {
  readonly width: number;
  readonly height: number;
  readonly data: Int32Array;
}

export function makePlane(width: number, height: number, data?: Float32Array): Plane {
  const d = data ?? new Float32Array(width * height);
  if (d.length !== width * height) throw new RangeError(`plane data has ${d.length} values, expected ${width}x${height}`);
  return { width, height, data: d };
}
