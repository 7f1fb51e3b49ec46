/**
 * Detection options with SExtractor 2.25 defaults (`source-extractor -dd`).
 */
import { UserError } from '../util/errors.js';
import type { Kernel } from './filter.js';

/**
 * Detection filter: 'default' (SExtractor's default.conv, 3x3 "1 2 1 / 2 4 2 / 1 2 1", CONV NORM),
 * 'none', 'gaussian:FWHM' (pixel-integrated Gaussian sized like SExtractor's gauss_*.conv files),
 * a path to a SExtractor .conv file, or an explicit kernel.
 */
export type FilterSpec = 'default' | 'none' | `gaussian:${number}` | (string & {}) | Kernel;

/** A mask plane: non-zero = bad pixel (never detected, treated as 0 by the filter). */
export interface MaskPlane {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array | Int8Array | Uint16Array | Int16Array | Int32Array | Uint32Array | Float32Array;
}

export interface DetectOptions {
  /** FILTER / FILTER_NAME */
  readonly filter: FilterSpec;
  /** DETECT_THRESH: in units of the RMS ('relative') or in image units ('absolute') */
  readonly thresh: number;
  /** THRESH_TYPE */
  readonly threshType: 'relative' | 'absolute';
  /** DETECT_MINAREA: minimum number of pixels above threshold (filtered image) */
  readonly minArea: number;
  /** DEBLEND_NTHRESH */
  readonly deblendNthresh: number;
  /** DEBLEND_MINCONT */
  readonly deblendMincont: number;
  /** CLEAN */
  readonly clean: boolean;
  /** CLEAN_PARAM (Moffat beta of the wing model) */
  readonly cleanParam: number;
  /** Optional bad-pixel mask (non-zero = bad). */
  readonly mask?: MaskPlane;
  /**
   * Emulation of SExtractor's MEMORY_BUFSIZE (lines in the image strip buffer). It sets only WHEN objects
   * leave the CLEAN list, i.e. the output (NUMBER) order and which neighbours CLEAN can still see.
   * It never limits detection. 0 = whole image in one strip.
   */
  readonly bufferLines: number;
  /** Emulation of MEMORY_OBJSTACK (size of the CLEAN list before early output); same remarks. 0 = unbounded. */
  readonly objectStack: number;
  /** SExtractor's internal CLEAN margin (lines), set by SExtractor from VIGNET/FLUX_APER sizes; order only. */
  readonly cleanMargin: number;
  /**
   * Draws that share the wings of deblended objects among the children: 'glibc' replays SExtractor's rand()
   * sequence (GNU C library, seeded with `seed`; SExtractor never seeds it: 1), in SExtractor's processing order,
   * reproducing a Linux SExtractor exactly; 'hash' draws from a hash of each pixel's position and `seed`, which
   * makes every object's result independent of the others (same statistics, different draws).
   */
  readonly deblendDraws: 'glibc' | 'hash';
  readonly seed: number;
  /**
   * How an RMS plane (weight map) sets the relative threshold: 'local' (default): thresh x rms(p) at each pixel,
   * with the usual isophotal correction (a constant plane is then exactly the scalar threshold); 'sextractor':
   * as SExtractor with a weight map, thresh x sqrt(variance filtered like the image), lower near the image edges,
   * and no isophotal area correction (abcor = 1) in the deblending and CLEAN models (see weighted.ts).
   */
  readonly weightThreshold: 'local' | 'sextractor';
}

export const DEFAULT_DETECT_OPTIONS: DetectOptions = Object.freeze({
  filter: 'default',
  thresh: 1.5,
  threshType: 'relative',
  minArea: 5,
  deblendNthresh: 32,
  deblendMincont: 0.005,
  clean: true,
  cleanParam: 1.0,
  bufferLines: 1024,
  objectStack: 3000,
  cleanMargin: 0,
  deblendDraws: 'glibc',
  seed: 1,
  weightThreshold: 'local',
});

/** Merge user options over the defaults and validate them (UserError on nonsense values). */
export function resolveDetectOptions(opts: Partial<DetectOptions> = {}): DetectOptions {
  const o: DetectOptions = { ...DEFAULT_DETECT_OPTIONS, ...stripUndefined(opts) };
  const bad = (what: string): never => {
    throw new UserError(`detection: invalid ${what}`);
  };
  if (!Number.isFinite(o.thresh)) bad(`DETECT_THRESH ${o.thresh}`);
  if (o.threshType !== 'relative' && o.threshType !== 'absolute') bad(`THRESH_TYPE ${String(o.threshType)}`);
  if (!Number.isInteger(o.minArea) || o.minArea < 1) bad(`DETECT_MINAREA ${o.minArea} (integer >= 1)`);
  if (!Number.isInteger(o.deblendNthresh) || o.deblendNthresh < 1) bad(`DEBLEND_NTHRESH ${o.deblendNthresh} (integer >= 1)`);
  if (!(o.deblendMincont >= 0 && o.deblendMincont <= 1)) bad(`DEBLEND_MINCONT ${o.deblendMincont} (0..1)`);
  if (!(o.cleanParam > 0)) bad(`CLEAN_PARAM ${o.cleanParam} (> 0)`);
  if (!Number.isInteger(o.bufferLines) || o.bufferLines < 0) bad(`bufferLines ${o.bufferLines}`);
  if (!Number.isInteger(o.objectStack) || o.objectStack < 0) bad(`objectStack ${o.objectStack}`);
  if (!Number.isInteger(o.cleanMargin) || o.cleanMargin < 0) bad(`cleanMargin ${o.cleanMargin}`);
  if (o.deblendDraws !== 'glibc' && o.deblendDraws !== 'hash') bad(`deblendDraws ${String(o.deblendDraws)}`);
  if (!Number.isInteger(o.seed)) bad(`seed ${o.seed}`);
  if (o.weightThreshold !== 'local' && o.weightThreshold !== 'sextractor') bad(`weightThreshold ${String(o.weightThreshold)}`);
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
