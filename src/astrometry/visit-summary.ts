/**
 * Production astrometry, per-CCD side: the small, serialisable summary a CCD posts at the visit's astrometry
 * gather. It holds the CCD's usable bright detections (the selection policy of solveCcdAstrometry: finite
 * windowed positions, FLUX_AUTO > 0, SNR_WIN >= minSnr, no FLAGS bit of `badFlags`; saturated stars are kept for
 * the pattern match, the fit leaves them out) in FOCAL-PLANE millimetres (src/camera conventions), brightest
 * first, at most `maxSources`. `row` maps each entry back to the catalog row (0-based).
 */
import { detectorXf, pixelToFocal } from '../camera/geometry.js';
import type { DetectorGeom } from '../camera/types.js';
import type { Catalog } from '../catalog/schema.js';

export interface VisitAstromSummary {
  detector: number;
  /** number of entries */
  n: number;
  /** catalog rows (0-based) */
  row: Int32Array;
  /** focal-plane position (mm) of the windowed centroid (isophotal when there is none) */
  fx: Float64Array;
  fy: Float64Array;
  /** 1-sigma position error per axis (mm): ERRAWIN_IMAGE (ERRA_IMAGE) x pixel size */
  posErr: Float32Array;
  /** FLUX_AUTO (brightness ranking) */
  flux: Float32Array;
  flags: Int32Array;
  snr: Float32Array;
}

export interface VisitAstromSummaryOptions {
  /** Most detections kept (brightest). Default 250. */
  maxSources?: number;
  /** Detections with these FLAGS bits are not posted. Default 0xf8 (truncated, memory overflow and worse). */
  badFlags?: number;
  /** Minimum SNR_WIN. Default 5. */
  minSnr?: number;
}

/** The astrometric summary of one CCD's catalog (see the module comment). */
export function visitAstromSummary(cat: Catalog, det: DetectorGeom, opts: VisitAstromSummaryOptions = {}): VisitAstromSummary {
  const win = cat.XWIN_IMAGE !== undefined && cat.YWIN_IMAGE !== undefined;
  const x = win ? cat.XWIN_IMAGE : cat.X_IMAGE;
  const y = win ? cat.YWIN_IMAGE : cat.Y_IMAGE;
  if (!x || !y) throw new RangeError('visit astrometry: the catalog has no X/Y_IMAGE or XWIN/YWIN_IMAGE columns');
  const flux = cat.FLUX_AUTO ?? cat.FLUX_ISO;
  if (!flux) throw new RangeError('visit astrometry: the catalog has no FLUX_AUTO or FLUX_ISO column');
  const err = win ? cat.ERRAWIN_IMAGE : cat.ERRA_IMAGE;
  const flags = cat.FLAGS;
  const snr = cat.SNR_WIN;
  const bad = opts.badFlags ?? 0xf8;
  const minSnr = opts.minSnr ?? 5;
  const n = x.length;
  const rows: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!(Number.isFinite(x[i]) && Number.isFinite(y[i]) && flux[i] > 0)) continue;
    if (flags && (flags[i] & bad) !== 0) continue;
    if (snr && !(snr[i] >= minSnr)) continue;
    rows.push(i);
  }
  rows.sort((a, b) => flux[b] - flux[a] || a - b);
  rows.length = Math.min(rows.length, opts.maxSources ?? 250);
  // mm per pixel along the detector's axes (the geometric mean of the linear map's singular values)
  const [a, b, c, d] = detectorXf(det).m;
  const mmPerPix = Math.sqrt(Math.abs(a * d - b * c));
  const m = rows.length;
  const s: VisitAstromSummary = {
    detector: det.id,
    n: m,
    row: Int32Array.from(rows),
    fx: new Float64Array(m),
    fy: new Float64Array(m),
    posErr: new Float32Array(m),
    flux: new Float32Array(m),
    flags: new Int32Array(m),
    snr: new Float32Array(m),
  };
  rows.forEach((i, k) => {
    // catalog pixels are 1-based, the camera's 0-based
    const [fx, fy] = pixelToFocal(det, x[i] - 1, y[i] - 1);
    s.fx[k] = fx;
    s.fy[k] = fy;
    s.posErr[k] = err && err[i] > 0 ? err[i] * mmPerPix : NaN;
    s.flux[k] = flux[i];
    s.flags[k] = flags ? flags[i] : 0;
    s.snr[k] = snr ? snr[i] : NaN;
  });
  return s;
}
