/**
 * Quick-mode astrometry of one CCD: the frame is the CCD's 1-based pixels centred on the image centre, the prior
 * is the header's (approximate) WCS re-expressed as a solution of that frame (grid fit, so TPV or SIP headers
 * work too), and the detections come from the catalog. See fit-solve.ts for the matching and the fit; the
 * tangent plane of the matching is centred on the image centre, so the pointing offset and rotation tolerated
 * are those of the CCD itself (offset of its centre, rotation about it).
 */
import type { Catalog } from '../catalog/schema.js';
import { Header } from '../fits/header.js';
import { pixelFrame } from './fit-model.js';
import { stateFromWcs } from './fit-sip.js';
import { solveAstrometry, type AstromOptions, type AstromResult, type AstromSources } from './fit-solve.js';
import { subsetCatalog, type RefCatalog } from './refcat.js';
import type { Wcs } from './wcs.js';

/** Sources from a catalog: windowed positions and errors when present (else isophotal), FLUX_AUTO, FLAGS, SNR_WIN. */
export function sourcesFromCatalog(cat: Catalog): AstromSources {
  const win = cat.XWIN_IMAGE !== undefined && cat.YWIN_IMAGE !== undefined;
  const x = win ? cat.XWIN_IMAGE : cat.X_IMAGE;
  const y = win ? cat.YWIN_IMAGE : cat.Y_IMAGE;
  if (!x || !y) throw new RangeError('astrometry: the catalog has no X/Y_IMAGE or XWIN/YWIN_IMAGE columns');
  const flux = cat.FLUX_AUTO ?? cat.FLUX_ISO;
  if (!flux) throw new RangeError('astrometry: the catalog has no FLUX_AUTO or FLUX_ISO column');
  return { n: x.length, x, y, flux, posErr: win ? cat.ERRAWIN_IMAGE : cat.ERRA_IMAGE, flags: cat.FLAGS, snr: cat.SNR_WIN };
}

export interface CcdAstromOptions extends AstromOptions {
  /** Order of the grid fit re-expressing the initial WCS (default 3). */
  priorOrder?: number;
}

export type CcdAstromResult = AstromResult;

/**
 * Write an astrometric result into a header (a new one by default): when ok, the TAN-SIP WCS cards (the WCS
 * writer of wcs-header.ts, replacing any previous WCS) and ASTRSTAT = 'OK', ASTRMODL, ASTRNSTR, ASTRNREJ,
 * ASTRRMS; when not, ASTRSTAT = 'FAILED' and the reason in ASTRMSG (the WCS cards are left alone).
 */
export function writeAstromHeader(r: AstromResult, into: Header = new Header()): Header {
  if (!r.ok) {
    into.set('ASTRSTAT', 'FAILED', 'astrometric calibration');
    into.set('ASTRMSG', (r.reason ?? 'unknown').replace(/[^\x20-\x7e]/g, '?').slice(0, 68));
    return into;
  }
  r.wcs.toHeader(into);
  into.set('ASTRSTAT', 'OK', 'astrometric calibration');
  into.set('ASTRMODL', r.model, 'model of the last fit');
  into.set('ASTRNSTR', r.nUsed, 'reference stars used');
  into.set('ASTRNREJ', r.nRejected, 'matches rejected by the sigma clipping');
  into.set('ASTRRMS', Number(r.rms.toPrecision(6)), '[arcsec] rms residual per axis', 'float');
  return into;
}

/** Julian epoch (years) of a modified Julian date. */
export function julianEpoch(mjd: number): number {
  return 2000 + (mjd - 51544.5) / 365.25;
}

/**
 * Fit the astrometry of one CCD (width x height pixels) starting from an approximate WCS. On failure the result
 * is not ok, carries the reason, and its `wcs` is the initial one.
 */
export function solveCcdAstrometry(src: AstromSources, width: number, height: number, initial: Wcs, refcat: RefCatalog, opts: CcdAstromOptions = {}): CcdAstromResult {
  const frame = pixelFrame(width, height);
  let prior;
  try {
    prior = stateFromWcs(initial, frame, opts.priorOrder ?? 3).state;
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return { ...solveFailure(initial, refcat), reason: `the initial WCS does not map the CCD to the sky (${e.message})` };
  }
  const r = solveAstrometry(src, prior, refcat, opts);
  return r.ok ? r : { ...r, wcs: initial };
}

function solveFailure(initial: Wcs, refcat: RefCatalog): CcdAstromResult {
  const none = new Int32Array(0);
  return {
    ok: false,
    wcs: initial,
    state: { frame: pixelFrame(initial.width, initial.height), crval: [NaN, NaN], order: 0, cx: new Float64Array(1), cy: new Float64Array(1) },
    model: 'none',
    rms: NaN,
    rmsPixels: NaN,
    pairs: { source: none, ref: none, refRow: none, used: new Uint8Array(0) },
    nUsed: 0,
    nRejected: 0,
    refs: subsetCatalog(refcat, []),
    refRows: none,
    iterations: 0,
    inverseMaxError: NaN,
  };
}
