/**
 * Conversions between astrometric solutions (fit-model.ts) and TAN-SIP WCSs:
 *  - stateToWcs: CRVAL = tangent point, CRPIX = frame reference point, CD = linear terms, SIP A/B = CD^-1 times
 *    the terms of degree >= 2 (exact), and the reverse polynomials AP/BP fitted on a grid over the frame;
 *  - stateFromMapping / stateFromWcs: a solution fitted on a grid to any frame -> sky map (e.g. a header WCS with
 *    TPV distortion as the starting point, or a focal-plane solution composed with a CCD's pixel map).
 */
import { evalBasis, fitPolyPair, termCount, termPowers } from './fit-poly.js';
import { recentre, StateEvaluator, type AstromState, type FitFrame } from './fit-model.js';
import { projectPoint } from './match-plane.js';
import { makeWcs, type SipParams, type Wcs } from './wcs.js';

const AS = 3600;

/** Grid of points over a frame's box (inclusive edges), n per axis. */
function frameGrid(frame: FitFrame, n: number): { x: Float64Array; y: Float64Array } {
  const [x0, y0, x1, y1] = frame.box;
  const x = new Float64Array(n * n);
  const y = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      x[j * n + i] = x0 + ((x1 - x0) * i) / (n - 1);
      y[j * n + i] = y0 + ((y1 - y0) * j) / (n - 1);
    }
  }
  return { x, y };
}

export interface MappingFit {
  state: AstromState;
  /** Largest grid residual of the fit (arcsec). */
  maxError: number;
}

/**
 * Fit a solution of the given order to a frame -> sky function (deg) on a grid over the frame's box. The
 * tangent point is `crval`, default the sky position of the frame's reference point. Throws RangeError when
 * the map is undefined at the reference point or too few grid points map.
 */
export function stateFromMapping(frame: FitFrame, order: number, toSky: (x: number, y: number) => [number, number], crval?: [number, number], gridSize = Math.max(15, 4 * (order + 1))): MappingFit {
  const c = crval ?? toSky(frame.crpix[0], frame.crpix[1]);
  if (!(Number.isFinite(c[0]) && Number.isFinite(c[1]))) throw new RangeError('stateFromMapping: the map is undefined at the frame reference point');
  const g = frameGrid(frame, gridSize);
  const n = g.x.length;
  const u = new Float64Array(n);
  const v = new Float64Array(n);
  const zx = new Float64Array(n);
  const zy = new Float64Array(n);
  const q = new Float64Array(2);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const [ra, dec] = toSky(g.x[i], g.y[i]);
    if (!projectPoint(ra, dec, c[0], c[1], q)) continue;
    u[m] = (g.x[i] - frame.crpix[0]) / frame.scale;
    v[m] = (g.y[i] - frame.crpix[1]) / frame.scale;
    zx[m] = q[0];
    zy[m] = q[1];
    m++;
  }
  const fit = m >= termCount(order) ? fitPolyPair(order, u, v, zx, zy, m) : undefined;
  if (!fit) throw new RangeError(`stateFromMapping: cannot fit order ${order} (${m} grid points map to the sky)`);
  const state = recentre({ frame, crval: [c[0], c[1]], order, cx: fit.cx, cy: fit.cy });
  const ev = new StateEvaluator(state);
  let maxError = 0;
  for (let i = 0; i < n; i++) {
    const [ra, dec] = toSky(g.x[i], g.y[i]);
    if (!projectPoint(ra, dec, state.crval[0], state.crval[1], q)) continue;
    ev.eval(g.x[i], g.y[i]);
    maxError = Math.max(maxError, Math.hypot(q[0] - ev.xi, q[1] - ev.eta));
  }
  return { state, maxError };
}

/** A solution approximating a WCS over a frame (grid fit of `order`, default 3). */
export function stateFromWcs(wcs: Wcs, frame: FitFrame, order = 3): MappingFit {
  return stateFromMapping(frame, order, (x, y) => wcs.pixToSky(x, y));
}

export interface SipWcs {
  wcs: Wcs;
  /** SIP coefficients (absent for a plain TAN solution of order 1). */
  sip?: SipParams;
  /** Largest error (frame units) of the AP/BP reverse polynomials on a grid over the frame. */
  inverseMaxError: number;
}

export interface ToWcsOptions {
  /** Order of the reverse AP/BP polynomials. Default forward order + 2 (at most 9): the odd orders matter for radial distortion. */
  inverseOrder?: number;
  /** Grid points per axis for the reverse fit. Default 40. */
  grid?: number;
}

/** The TAN-SIP WCS of a solution (see the module comment). */
export function stateToWcs(s0: AstromState, opts: ToWcsOptions = {}): SipWcs {
  const s = recentre({ ...s0, crval: [s0.crval[0], s0.crval[1]], cx: s0.cx.slice(), cy: s0.cy.slice() });
  const S = s.frame.scale;
  const cd: [number, number, number, number] = [s.cx[1] / (AS * S), s.cx[2] / (AS * S), s.cy[1] / (AS * S), s.cy[2] / (AS * S)];
  const det = cd[0] * cd[3] - cd[1] * cd[2];
  if (!(det !== 0 && Number.isFinite(det))) throw new RangeError('stateToWcs: singular linear part');
  const ci = [cd[3] / det, -cd[1] / det, -cd[2] / det, cd[0] / det];
  const powers = termPowers(s.order);
  let order = 1;
  for (let k = 3; k < powers.length; k++) if (s.cx[k] !== 0 || s.cy[k] !== 0) order = Math.max(order, powers[k][0] + powers[k][1]);
  const base = { crval: [s.crval[0], s.crval[1]] as [number, number], crpix: [s.frame.crpix[0], s.frame.crpix[1]] as [number, number], cd, width: s.frame.width, height: s.frame.height };
  if (order < 2) return { wcs: makeWcs(base), inverseMaxError: 0 };
  const zeros = (o: number) => Array.from({ length: o + 1 }, () => new Array<number>(o + 1).fill(0));
  const a = zeros(order);
  const b = zeros(order);
  for (let k = 3; k < powers.length; k++) {
    const [p, q] = powers[k];
    if (p + q > order) continue;
    const f = 1 / (AS * S ** (p + q));
    const hx = s.cx[k] * f;
    const hy = s.cy[k] * f;
    a[p][q] = ci[0] * hx + ci[1] * hy;
    b[p][q] = ci[2] * hx + ci[3] * hy;
  }
  const sip: SipParams = { aOrder: order, bOrder: order, a, b };
  const inv = fitReverse(sip, s.frame, opts.inverseOrder ?? Math.min(order + 2, 9), opts.grid ?? 40);
  Object.assign(sip, { apOrder: inv.order, bpOrder: inv.order, ap: inv.ap, bp: inv.bp });
  return { wcs: makeWcs({ ...base, sip }), sip, inverseMaxError: inv.maxError };
}

/** Evaluate the forward SIP offsets f, g at (u, v) (frame units relative to CRPIX). */
function sipOffsets(c: number[][], order: number, u: number, v: number): number {
  let s = 0;
  let up = 1;
  for (let p = 0; p <= order; p++) {
    let vq = 1;
    for (let q = 0; p + q <= order; q++) {
      s += c[p][q] * up * vq;
      vq *= v;
    }
    up *= u;
  }
  return s;
}

/** Fit AP/BP: u - U ~ AP(U, V), v - V ~ BP(U, V) with (U, V) = (u + f, v + g) on a grid over the frame. */
function fitReverse(sip: SipParams, frame: FitFrame, order: number, n: number): { order: number; ap: number[][]; bp: number[][]; maxError: number } {
  const g = frameGrid(frame, n);
  const S = frame.scale;
  const m = g.x.length;
  const U = new Float64Array(m);
  const V = new Float64Array(m);
  const du = new Float64Array(m);
  const dv = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const u = g.x[i] - frame.crpix[0];
    const v = g.y[i] - frame.crpix[1];
    const uu = u + sipOffsets(sip.a, sip.aOrder, u, v);
    const vv = v + sipOffsets(sip.b, sip.bOrder, u, v);
    U[i] = uu / S;
    V[i] = vv / S;
    du[i] = u - uu;
    dv[i] = v - vv;
  }
  const fit = fitPolyPair(order, U, V, du, dv, m);
  const ap = Array.from({ length: order + 1 }, () => new Array<number>(order + 1).fill(0));
  const bp = Array.from({ length: order + 1 }, () => new Array<number>(order + 1).fill(0));
  if (!fit) return { order, ap, bp, maxError: Infinity };
  const powers = termPowers(order);
  powers.forEach(([p, q], k) => {
    ap[p][q] = fit.cx[k] / S ** (p + q);
    bp[p][q] = fit.cy[k] / S ** (p + q);
  });
  const phi = new Float64Array(termCount(order));
  let maxError = 0;
  for (let i = 0; i < m; i++) {
    evalBasis(order, U[i], V[i], phi);
    let ex = -du[i];
    let ey = -dv[i];
    for (let k = 0; k < phi.length; k++) {
      ex += fit.cx[k] * phi[k];
      ey += fit.cy[k] * phi[k];
    }
    maxError = Math.max(maxError, Math.hypot(ex, ey));
  }
  return { order, ap, bp, maxError };
}

/** Fit a TAN-SIP WCS of the given order to any frame -> sky map (grid fit), e.g. to re-express a focal-plane solution per CCD. */
export function wcsFromMapping(frame: FitFrame, order: number, toSky: (x: number, y: number) => [number, number], opts: ToWcsOptions = {}): SipWcs & { maxError: number } {
  const f = stateFromMapping(frame, order, toSky);
  return { ...stateToWcs(f.state, opts), maxError: f.maxError };
}
