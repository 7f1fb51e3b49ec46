/**
 * Isophotal moments of a pixel list, as SExtractor's preanalyse(): the barycentre and second moments are
 * weighted by the FILTERED (detection) image; the peak used for the area ratio (abcor) is the unfiltered one.
 * Values SExtractor stores as float (fdflux, a, b, cxx, cyy, cxy, abcor) are rounded to float32 here too.
 */

export interface Moments {
  /** number of pixels (ISOAREAF) and sum / max of the filtered image over them */
  fdnpix: number;
  fdflux: number;
  fdpeak: number;
  /** linear index of the filtered peak (first maximum in pixel order) */
  fdpeakIndex: number;
  /** max of the unfiltered image over the pixels */
  dpeak: number;
  xmin: number;
  xmax: number;
  ymin: number;
  ymax: number;
  /** barycentre (0-based pixel coordinates) and central second moments (pixel^2) */
  mx: number;
  my: number;
  mx2: number;
  my2: number;
  mxy: number;
  a: number;
  b: number;
  /** position angle, degrees counter-clockwise from +x */
  theta: number;
  cxx: number;
  cyy: number;
  cxy: number;
  /** SExtractor's isophotal-truncation correction of a*b (<= 1) */
  abcor: number;
  /** the x/y covariance matrix was singular and got 1/12 added to the variances */
  singular: boolean;
}

const f32 = Math.fround;
/** SExtractor's value of pi (define.h); used where its results are mirrored to the last bit. */
export const SEX_PI = 3.1415926535898;

/**
 * Compute the moments of `count` pixels pixels[start ..] (linear indices into width-wide planes).
 * thresh: the object's detection threshold; centre: when given (deblended children, SExtractor's
 * ANALYSE_ROBUST) the second moments are taken about it and it is kept as the barycentre.
 * noAbcor: abcor = 1, as SExtractor with a detection weight map.
 */
export function objectMoments(
  pixels: Int32Array,
  start: number,
  count: number,
  width: number,
  filtered: Float32Array,
  image: Float32Array,
  thresh: number,
  centre?: { readonly x: number; readonly y: number },
  noAbcor = false,
): Moments {
  let xmin = Infinity;
  let xmax = -Infinity;
  let ymin = Infinity;
  let ymax = -Infinity;
  let rv = 0;
  let cpeak = -Infinity;
  let cpeakIdx = -1;
  let peak = -Infinity;
  const end = start + count;
  for (let i = start; i < end; i++) {
    const p = pixels[i];
    const y = Math.floor(p / width);
    const x = p - y * width;
    const cv = filtered[p];
    const v = image[p];
    if (cv > cpeak) {
      cpeak = cv;
      cpeakIdx = p;
    }
    if (v > peak) peak = v;
    rv += cv;
    if (x < xmin) xmin = x;
    if (x > xmax) xmax = x;
    if (y < ymin) ymin = y;
    if (y > ymax) ymax = y;
  }
  let mx = 0;
  let my = 0;
  let mx2 = 0;
  let my2 = 0;
  let mxy = 0;
  let dnpix = 0;
  let area2 = 0;
  const thresh2 = (thresh + peak) / 2;
  for (let i = start; i < end; i++) {
    const p = pixels[i];
    const yy = Math.floor(p / width);
    const x = p - yy * width - xmin;
    const y = yy - ymin;
    const cv = filtered[p];
    const v = image[p];
    if (v > thresh) dnpix++;
    if (v > thresh2) area2++;
    // float products accumulated in double, as SExtractor (PIXTYPE x int)
    const cx = f32(cv * x);
    const cy = f32(cv * y);
    mx += cx;
    my += cy;
    mx2 += f32(cx * x);
    my2 += f32(cy * y);
    mxy += f32(cx * y);
  }
  let xm = mx / rv;
  let ym = my / rv;
  let xm2: number;
  let ym2: number;
  let xym: number;
  if (centre) {
    const xn = centre.x - xmin;
    const yn = centre.y - ymin;
    xm2 = mx2 / rv + xn * xn - 2 * xm * xn;
    ym2 = my2 / rv + yn * yn - 2 * ym * yn;
    xym = mxy / rv + xn * yn - xm * yn - xn * ym;
    xm = xn;
    ym = yn;
  } else {
    xm2 = mx2 / rv - xm * xm;
    ym2 = my2 / rv - ym * ym;
    xym = mxy / rv - xm * ym;
  }
  let det = xm2 * ym2 - xym * xym;
  let singular = false;
  if (det < 0.00694) {
    xm2 += 0.0833333;
    ym2 += 0.0833333;
    det = xm2 * ym2 - xym * xym;
    singular = true;
  }
  const d = xm2 - ym2;
  const theta = Math.abs(d) > 0 ? Math.atan2(2 * xym, d) / 2 : Math.PI / 4;
  const tmp = Math.sqrt(0.25 * d * d + xym * xym);
  const pm = 0.5 * (xm2 + ym2);
  const a = f32(Math.sqrt(pm + tmp));
  const b = f32(Math.sqrt(pm - tmp));
  const darea = area2 - dnpix;
  const t1t2 = thresh / thresh2;
  let abcor = 1;
  if (t1t2 > 0 && !noAbcor) {
    abcor = (darea < 0 ? darea : -1) / (2 * SEX_PI * Math.log(t1t2 < 1 ? t1t2 : 0.99) * a * b);
    if (!(abcor <= 1)) abcor = 1;
  }
  return {
    fdnpix: count,
    fdflux: f32(rv),
    fdpeak: cpeak,
    fdpeakIndex: cpeakIdx,
    dpeak: peak,
    xmin,
    xmax,
    ymin,
    ymax,
    mx: xm + xmin,
    my: ym + ymin,
    mx2: xm2,
    my2: ym2,
    mxy: xym,
    a,
    b,
    theta: (theta * 180) / Math.PI,
    cxx: f32(ym2 / det),
    cyy: f32(xm2 / det),
    cxy: f32((-2 * xym) / det),
    abcor: f32(abcor),
    singular,
  };
}
