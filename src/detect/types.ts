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
  /**
   * Pixels of spurious detections merged into this object by CLEAN (ascending; absent or empty if none).
   * SExtractor adds their flux to FLUX_ISO / FLUXERR_ISO and their count to ISOAREAF_IMAGE, labels them with
   * this object in the segmentation map, but leaves the moments (X_IMAGE, X2_IMAGE...) and ISOAREA_IMAGE alone.
   */
  readonly cleaned?: Int32Array;
  /** Detection moments (SExtractor preanalyse()), see DetectionMoments. */
  readonly moments?: DetectionMoments;
}

/**
 * Isophotal moments computed at detection exactly as SExtractor does (its X_IMAGE, Y_IMAGE, X2_IMAGE, ... A/B,
 * CXX..., come from these): weighted by the FILTERED detection image over `pixels`; for deblended children the
 * barycentre is that of the branch core above its deblending level (ANALYSE_ROBUST) and the second moments are
 * taken about it. Coordinates are 0-based (X_IMAGE = mx + 1).
 */
export interface DetectionMoments {
  readonly mx: number;
  readonly my: number;
  readonly mx2: number;
  readonly my2: number;
  readonly mxy: number;
  readonly a: number;
  readonly b: number;
  /** degrees, counter-clockwise from +x, in (-90, 90] */
  readonly theta: number;
  readonly cxx: number;
  readonly cyy: number;
  readonly cxy: number;
  /** SExtractor's isophotal truncation correction of a*b */
  readonly abcor: number;
  /** filtered flux and pixel count, including CLEAN-merged pixels (SExtractor fdflux / ISOAREAF_IMAGE) */
  readonly fdflux: number;
  readonly fdnpix: number;
}

export interface DetectionResult {
  /** Objects in a deterministic order: SExtractor's NUMBER order (see src/detect/clean.ts). */
  readonly objects: readonly DetectedObject[];
  /** Segmentation map: 0 = sky, k = objects[k - 1]. Same layout as the image. */
  readonly segmentation: Int32Array;
  /** The filtered (convolved) detection image, same layout. With filtering off it is the input data itself
   * (not a copy) unless bad pixels had to be zeroed: treat it as read-only. */
  readonly filtered?: Float32Array;
  /**
   * Pixels (1) that SExtractor's scan has blanked from the image by the time it measures (MASK_TYPE neighbour
   * masking, see src/measure/context.ts): every pixel above the detection threshold, including those of
   * detections smaller than DETECT_MINAREA, except the pixels of CLEAN-swallowed detections that were pasted
   * back at the merge (the rows already blanked then: all but the last one(s), which stay blanked).
   * Includes each object's own pixels (measurement pastes those back per object).
   */
  readonly detected?: Uint8Array;
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
