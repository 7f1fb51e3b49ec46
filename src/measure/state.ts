/**
 * Per-object measurement state: one instance is reused for every object (no per-object allocation); each stage
 * fills its fields and measure.ts copies them into the catalog columns. Coordinates are 0-based here.
 */

export interface ObjState {
  label: number;
  flags: number;
  // isophotal (iso.ts)
  npix: number;
  xmin: number;
  xmax: number;
  ymin: number;
  ymax: number;
  mx: number;
  my: number;
  mx2: number;
  my2: number;
  mxy: number;
  a: number;
  b: number;
  theta: number;
  cxx: number;
  cyy: number;
  cxy: number;
  singular: boolean;
  /** sum of filtered values over the object's pixels */
  fdflux: number;
  /** peak of the unfiltered measurement image */
  peak: number;
  /** peak of the filtered image (at peakX, peakY) */
  fdpeak: number;
  peakX: number;
  peakY: number;
  isoFlux: number;
  isoVar: number;
  isoArea: number;
  /** detection threshold (THRESHOLD) */
  thresh: number;
  /** analysis threshold used for ISOAREA and FWHM */
  athresh: number;
  errMx2: number;
  errMy2: number;
  errMxy: number;
  fwhm: number;
  bkg: number;
  // apertures (aper.ts)
  aperFlux: Float64Array;
  aperVar: Float64Array;
  // AUTO (auto.ts)
  kron: number;
  autoFlux: number;
  autoVar: number;
  // growth curve (growth.ts)
  fluxRadius: Float64Array;
  hlRadius: number;
  // WIN (winpos.ts)
  xwin: number;
  ywin: number;
  winMx2: number;
  winMy2: number;
  winMxy: number;
  winErrMx2: number;
  winErrMy2: number;
  winErrMxy: number;
  winFlux: number;
  winVar: number;
  winNiter: number;
  winFlags: number;
}

export function makeState(nAper: number, nFrac: number): ObjState {
  return {
    label: 0,
    flags: 0,
    npix: 0,
    xmin: 0,
    xmax: 0,
    ymin: 0,
    ymax: 0,
    mx: 0,
    my: 0,
    mx2: 0,
    my2: 0,
    mxy: 0,
    a: 0,
    b: 0,
    theta: 0,
    cxx: 0,
    cyy: 0,
    cxy: 0,
    singular: false,
    fdflux: 0,
    peak: 0,
    fdpeak: 0,
    peakX: 0,
    peakY: 0,
    isoFlux: 0,
    isoVar: 0,
    isoArea: 0,
    thresh: 0,
    athresh: 0,
    errMx2: 0,
    errMy2: 0,
    errMxy: 0,
    fwhm: 0,
    bkg: 0,
    aperFlux: new Float64Array(nAper),
    aperVar: new Float64Array(nAper),
    kron: 0,
    autoFlux: 0,
    autoVar: 0,
    fluxRadius: new Float64Array(nFrac),
    hlRadius: 0,
    xwin: 0,
    ywin: 0,
    winMx2: 0,
    winMy2: 0,
    winMxy: 0,
    winErrMx2: 0,
    winErrMy2: 0,
    winErrMxy: 0,
    winFlux: 0,
    winVar: 0,
    winNiter: 0,
    winFlags: 0,
  };
}

/** Ellipse (a, b, theta in degrees) of a second-moment matrix, SExtractor's convention (theta = pi/4 when mx2 == my2). */
export function momentEllipse(mx2: number, my2: number, mxy: number, out: { a: number; b: number; theta: number }): void {
  const d = mx2 - my2;
  const theta = d !== 0 ? Math.atan2(2 * mxy, d) / 2 : Math.PI / 4;
  const t = Math.sqrt(0.25 * d * d + mxy * mxy);
  const m = 0.5 * (mx2 + my2);
  out.a = Math.sqrt(Math.max(m + t, 0));
  out.b = Math.sqrt(Math.max(m - t, 0));
  out.theta = (theta * 180) / Math.PI;
}
