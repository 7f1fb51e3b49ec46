/**
 * The hand-over from detection (src/detect) to measurement (src/measure).
 * Pixel positions are 0-based linear indices y * width + x into the image planes.
 */
export interface DetectedObject {
  /** Pixels of the object after deblending (above the detection threshold), ascending linear indices. */
  readonly pixels: Int32Array;
  /** Detection threshold (absolute, background-subtracted units) used at this object: SExtractor THRESHOLD. */
  readonly threshold: number;
  /** Peak of the filtered (convolved) image over the object's pixels, and its linear index. */
  readonly peak: number;
  readonly peakIndex: number;
  /** SExtractor FLAGS bits known at detection: 2 = deblended, 8 = truncated by the image edge, 16/32 set later. */
  readonly flags: number;
}

export interface DetectionResult {
  /** Objects in a deterministic order (SExtractor-like: by increasing YMAX, then by first pixel). */
  readonly objects: readonly DetectedObject[];
  /** Segmentation map: 0 = sky, k = objects[k - 1]. Same layout as the image. */
  readonly segmentation: Int32Array;
}

/** SExtractor FLAGS bits (catalog column FLAGS). */
export const FLAG = {
  /** object has neighbours bright and close enough to bias MAG_AUTO, or bad pixels (> 10% of the area) */
  CROWDED: 1,
  /** object was originally blended with another one */
  BLENDED: 2,
  /** at least one pixel is saturated (or very close to) */
  SATURATED: 4,
  /** the object is truncated (too close to an image boundary) */
  TRUNCATED: 8,
  /** object's aperture data are incomplete or corrupted */
  APER_INCOMPLETE: 16,
  /** object's isophotal data are incomplete or corrupted */
  ISO_INCOMPLETE: 32,
  /** a memory overflow occurred during deblending (never set by us: no fixed stacks) */
  DEBLEND_OVERFLOW: 64,
  /** a memory overflow occurred during extraction (never set by us) */
  EXTRACT_OVERFLOW: 128,
} as const;
