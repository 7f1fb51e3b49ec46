/**
 * SExtractor-style detection of a background-subtracted image: filter, threshold, 8-connected labelling
 * (DETECT_MINAREA), multi-threshold deblending, CLEAN, and output in SExtractor's NUMBER order with a
 * segmentation map.
 */
import type { Plane } from '../image/types.js';
import { UserError } from '../util/errors.js';
import { CleanList, StripClock, type ListObject } from './clean.js';
import { DeblendScratch, deblend, type DeblendContext } from './deblend.js';
import { convolve, resolveFilter } from './filter.js';
import { labelComponents, thresholdAt, type Threshold } from './label.js';
import { sextractorMthresh } from './lutzorder.js';
import { objectMoments } from './moments.js';
import { resolveDetectOptions, type DetectOptions } from './options.js';
import { GlibcRand } from './rand.js';
import type { DetectedObject, DetectionResult } from './types.js';
import { weightedThresholds } from './weighted.js';

/**
 * Detect sources in `image` (background already subtracted).
 *
 * rms: with THRESH_TYPE relative, the threshold is thresh x rms. Pass a number (the background's global
 * sigma, SExtractor's "backsig" = median of the mesh sigmas) to reproduce SExtractor run without a weight map,
 * whose threshold is one constant over the image (this reproduces it exactly: same objects, NUMBER order and
 * segmentation); pass an RMS plane (from a weight map) for per-pixel thresholds; an object's threshold is then the
 * lowest over its pixels. With options.weightThreshold 'local' (default) the threshold is thresh x rms(p); with
 * 'sextractor' it reproduces SExtractor run with a weight map: thresh x sqrt(RMS^2 filtered like the image) (see
 * weighted.ts), and the isophotal area correction "abcor" of the deblending and CLEAN models is off (1), as
 * SExtractor does with a detection weight. The RMS plane is ignored for absolute thresholds.
 * Pixels that are NaN/infinite or masked (options.mask non-zero) never detect and enter the filter as 0;
 * pixels with a non-positive or non-finite RMS never detect. The input planes are not modified.
 */
/**
 * The detection image: masked and non-finite pixels set to 0, then convolved with the detection filter
 * (the input itself when filtering is off). `bad` flags those pixels (null when there are none).
 */
function filterInput(image: Plane, opts: DetectOptions): { filtered: Float32Array; bad: Uint8Array | null; kernel: ReturnType<typeof resolveFilter> } {
  const { width, height } = image;
  const npix = width * height;
  const data = image.data;
  const m = opts.mask ? opts.mask.data : null;
  // bad pixels: masked or non-finite -> never detected, 0 for the filter (found with a tight scan first: usually none)
  let first = 0;
  if (m) while (first < npix && m[first] === 0 && data[first] - data[first] === 0) first++;
  else while (first < npix && data[first] - data[first] === 0) first++;
  let bad: Uint8Array | null = null;
  let input = data;
  if (first < npix) {
    bad = new Uint8Array(npix);
    input = data.slice();
    for (let p = first; p < npix; p++) {
      const v = data[p];
      if ((m && m[p] !== 0) || v - v !== 0) {
        bad[p] = 1;
        input[p] = 0;
      }
    }
  }

  const kernel = resolveFilter(opts.filter);
  const filtered = kernel ? convolve(input, width, height, kernel) : input;

  return { filtered, bad, kernel };
}

/** The filtered detection image exactly as detectSources computes it (for callers that do not keep it). */
export function filterImage(image: Plane, options: Partial<DetectOptions> = {}): Float32Array {
  return filterInput(image, resolveDetectOptions(options)).filtered;
}

export function detectSources(image: Plane, rms: Plane | number, options: Partial<DetectOptions> = {}): DetectionResult {
  const opts = resolveDetectOptions(options);
  const { width, height } = image;
  const npix = width * height;
  if (image.data.length !== npix) throw new UserError(`detection: image data has ${image.data.length} values, expected ${width}x${height}`);
  if (typeof rms !== 'number' && (rms.width !== width || rms.height !== height))
    throw new UserError(`detection: RMS plane is ${rms.width}x${rms.height}, image is ${width}x${height}`);
  const mask = opts.mask;
  if (mask && (mask.width !== width || mask.height !== height || mask.data.length !== npix))
    throw new UserError(`detection: mask is ${mask.width}x${mask.height}, image is ${width}x${height}`);

  const { filtered, bad, kernel } = filterInput(image, opts);

  let threshold: Threshold;
  if (opts.threshType === 'absolute') threshold = { kind: 'constant', value: Math.fround(opts.thresh) };
  else if (typeof rms === 'number') {
    if (!(rms > 0 && Number.isFinite(rms))) throw new UserError(`detection: relative threshold needs a positive RMS (got ${rms})`);
    threshold = { kind: 'constant', value: Math.fround(opts.thresh * rms) };
  } else {
    const filterVariance = opts.weightThreshold === 'sextractor' ? kernel : null;
    threshold = { kind: 'map', values: weightedThresholds(rms.data, width, height, opts.thresh, filterVariance) };
  }
  // SExtractor with a detection weight map: no isophotal area correction in the deblending and CLEAN models
  const weighted = threshold.kind === 'map' && opts.weightThreshold === 'sextractor';

  // Pixels SExtractor has blanked when it measures (see DetectionResult.detected): every pixel above threshold,
  // marked while labelling, except those that CLEAN pasted back (below).
  const detected = new Uint8Array(npix);
  const comps = labelComponents(filtered, width, height, threshold, bad, opts.minArea, detected);

  const ctx: DeblendContext = {
    width,
    height,
    filtered,
    image: image.data,
    nthresh: opts.deblendNthresh,
    mincont: opts.deblendMincont,
    partMinArea: Math.min(opts.minArea, 3),
    noAbcor: weighted,
    draws: opts.deblendDraws === 'glibc' ? { kind: 'glibc', rand: new GlibcRand(opts.seed) } : { kind: 'hash', seed: opts.seed },
  };
  const scratch = new DeblendScratch();
  const heap = new Float32Array(opts.minArea);
  const thrAt = (p: number): number => thresholdAt(threshold, p);
  const objectThreshold = (px: Int32Array): number => {
    if (threshold.kind === 'constant') return threshold.value;
    let t = Infinity;
    for (let i = 0; i < px.length; i++) t = Math.min(t, thrAt(px[i]));
    return Math.fround(t);
  };

  const list = new CleanList(width, height, opts.clean, opts.cleanParam, opts.objectStack, opts.cleanMargin);
  const clock = new StripClock(height, opts.bufferLines, kernel ? kernel.height : 0);
  // CLEAN paste-back: row r of the image is blanked at the end of scan line r + h (h = half the filter height, 0
  // without filter); a merge happens while line `scanLine` is scanned, and pastes back the swallowed object's rows
  // already blanked then, r <= scanLine - 1 - h: its later rows stay blanked.
  const lag = 1 + (kernel ? kernel.height >> 1 : 0);
  let scanLine = 0;
  list.onMerge = (slave) => {
    const last = (scanLine - lag + 1) * width; // first pixel index not pasted back
    const px = slave.pixels;
    for (let i = 0; i < px.length && px[i] < last; i++) detected[px[i]] = 0;
  };
  let c = 0;
  for (let yl = 0; yl <= height; yl++) {
    scanLine = yl;
    if (yl < height) clock.startLine(yl);
    // objects whose last line is yl - 1 are complete during line yl, in raster order of their last pixel
    for (; c < comps.count; c++) {
      const last = comps.pixels[comps.offsets[c + 1] - 1];
      if (Math.floor(last / width) !== yl - 1) break;
      const root = comps.pixels.subarray(comps.offsets[c], comps.offsets[c + 1]);
      for (const child of deblend(root, objectThreshold(root), ctx, scratch, opts.clean)) {
        const t = objectThreshold(child.pixels);
        const m = objectMoments(child.pixels, 0, child.pixels.length, width, filtered, image.data, t, child.centre ?? undefined, weighted);
        const o: ListObject = {
          pixels: child.pixels,
          absorbed: [],
          threshold: t,
          mthresh: child.order ? sextractorMthresh(child.order, filtered, thrAt, opts.minArea, heap) : 0,
          moments: m,
          fdflux: m.fdflux,
          fdnpix: m.fdnpix,
          fdpeak: m.fdpeak,
          fdpeakIndex: m.fdpeakIndex,
          xmin: m.xmin,
          xmax: m.xmax,
          ymin: m.ymin,
          ymax: m.ymax,
          flags: child.flags,
          ycmin: 0,
          ycmax: 0,
          index: -1,
          seen: 0,
        };
        list.add(o);
      }
    }
    const ymin = clock.endLine(yl);
    if (ymin >= 0) list.endBelow(ymin);
  }
  list.flush();

  const segmentation = new Int32Array(npix);
  const objects: DetectedObject[] = list.out.map((o, k) => {
    const label = k + 1;
    for (let i = 0; i < o.pixels.length; i++) segmentation[o.pixels[i]] = label;
    let cleaned: Int32Array | undefined;
    if (o.absorbed.length > 0) {
      cleaned = new Int32Array(o.absorbed.reduce((s, a) => s + a.length, 0));
      let f = 0;
      for (const a of o.absorbed) {
        cleaned.set(a, f);
        f += a.length;
      }
      cleaned.sort();
      for (let i = 0; i < cleaned.length; i++) segmentation[cleaned[i]] = label;
    }
    const m = o.moments;
    return {
      pixels: o.pixels,
      threshold: o.threshold,
      peak: o.fdpeak,
      peakIndex: o.fdpeakIndex,
      flags: o.flags,
      ...(cleaned ? { cleaned } : {}),
      moments: {
        mx: m.mx,
        my: m.my,
        mx2: m.mx2,
        my2: m.my2,
        mxy: m.mxy,
        a: m.a,
        b: m.b,
        theta: m.theta,
        cxx: m.cxx,
        cyy: m.cyy,
        cxy: m.cxy,
        abcor: m.abcor,
        fdflux: o.fdflux,
        fdnpix: o.fdnpix,
      },
    };
  });
  return { objects, segmentation, filtered, detected };
}
