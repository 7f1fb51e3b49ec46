/**
 * The astrometric model being fitted, and its linearised corrections.
 *
 * A solution (`AstromState`) maps FRAME coordinates (x, y) to the sky: normalised coordinates
 * u = (x - crpix[0]) / scale, v = (y - crpix[1]) / scale feed two polynomials giving standard coordinates
 * (xi, eta) in arcsec on the tangent plane about `crval` (see match-plane.ts). The frame is a parameter:
 * CCD pixels (1-based, quick mode) or focal-plane coordinates (production). A TAN-SIP WCS is exactly such a
 * map: the constant terms are zero (the tangent point is CRVAL at CRPIX), the linear terms are the CD matrix
 * and the higher terms are CD times the SIP polynomials (fit-sip.ts converts).
 *
 * A fit `model` says which correction is solved for:
 *   shift       2 parameters: a translation of the tangent plane (pointing only);
 *   similarity  4: translation, rotation and scale of the current solution's plane (its shape is kept);
 *   affine      6: translation and a 2x2 linear map applied to the current plane (distortion shape kept);
 *   poly n      2 (n+1)(n+2)/2: additive corrections to every coefficient of degree <= n.
 * Corrections are linear in their parameters, so one solve is exact for a fixed tangent point; the constant
 * terms are then moved into the tangent point (CRVAL refit) and the next round linearises again.
 */
import { evalBasis, termCount } from './fit-poly.js';
import { deprojectPoint } from './match-plane.js';

/** Frame of the fit: reference point, normalisation length and the region covered (frame units). */
export interface FitFrame {
  /** Reference point (CRPIX): 1-based pixel of the image centre in quick mode, the optical axis (0, 0) in the focal plane. */
  crpix: [number, number];
  /** Normalisation length (frame units): polynomials use (x - crpix) / scale, about [-1, 1] over the region. */
  scale: number;
  /** Region [xmin, ymin, xmax, ymax] covered by the data (for inverse polynomials and grids). */
  box: [number, number, number, number];
  /** Image size when the frame is a CCD's pixels (0 otherwise). */
  width: number;
  height: number;
}

/** The frame of a CCD's 1-based pixels: centred on the image centre. */
export function pixelFrame(width: number, height: number): FitFrame {
  return { crpix: [(width + 1) / 2, (height + 1) / 2], scale: Math.max(width, height) / 2, box: [0.5, 0.5, width + 0.5, height + 0.5], width, height };
}

/** An astrometric solution: frame -> tangent plane (arcsec) about crval -> sky. */
export interface AstromState {
  frame: FitFrame;
  /** Tangent point [ra, dec] (deg). */
  crval: [number, number];
  /** Polynomial order of cx, cy. */
  order: number;
  /** Coefficients (arcsec) of xi and eta in the basis of fit-poly.ts over normalised frame coordinates. */
  cx: Float64Array;
  cy: Float64Array;
}

export type FitModel = { kind: 'shift' } | { kind: 'similarity' } | { kind: 'affine' } | { kind: 'poly'; order: number };

/** Number of parameters of a model. */
export function paramCount(m: FitModel): number {
  switch (m.kind) {
    case 'shift':
      return 2;
    case 'similarity':
      return 4;
    case 'affine':
      return 6;
    case 'poly':
      return 2 * termCount(m.order);
  }
}

/** A short name for messages and headers: 'shift', 'similarity', 'affine', 'poly3'. */
export function modelName(m: FitModel): string {
  return m.kind === 'poly' ? `poly${m.order}` : m.kind;
}

/** A copy of a state. */
export function cloneState(s: AstromState): AstromState {
  return { frame: s.frame, crval: [s.crval[0], s.crval[1]], order: s.order, cx: s.cx.slice(), cy: s.cy.slice() };
}

/** The state with its polynomials raised to at least `order` (new coefficients 0). */
export function withOrder(s: AstromState, order: number): AstromState {
  if (order <= s.order) return s;
  const t = termCount(order);
  const cx = new Float64Array(t);
  const cy = new Float64Array(t);
  cx.set(s.cx);
  cy.set(s.cy);
  return { frame: s.frame, crval: s.crval, order, cx, cy };
}

/** Scratch space for evaluating a state at many points without allocation. */
export class StateEvaluator {
  readonly basis: Float64Array;
  /** Results of the last eval(): xi, eta (arcsec) and their non-constant parts. */
  xi = 0;
  eta = 0;
  constructor(readonly s: AstromState, extraOrder = 0) {
    this.basis = new Float64Array(termCount(Math.max(s.order, extraOrder)));
  }
  /** Evaluate at frame coordinates (x, y); the basis is left in this.basis (order max(state, extraOrder)). */
  eval(x: number, y: number, basisOrder = this.s.order): void {
    const f = this.s.frame;
    const u = (x - f.crpix[0]) / f.scale;
    const v = (y - f.crpix[1]) / f.scale;
    evalBasis(Math.max(basisOrder, this.s.order), u, v, this.basis);
    const t = termCount(this.s.order);
    let a = 0;
    let b = 0;
    for (let k = 0; k < t; k++) {
      a += this.s.cx[k] * this.basis[k];
      b += this.s.cy[k] * this.basis[k];
    }
    this.xi = a;
    this.eta = b;
  }
}

/**
 * Design rows of one star for a model: gx, gy (length paramCount) such that the correction of xi is gx . p and
 * of eta is gy . p. `ev` must have just evaluated the star (basis order >= the poly model's order).
 */
export function designRows(m: FitModel, ev: StateEvaluator, gx: Float64Array, gy: Float64Array): void {
  const X = ev.xi - ev.s.cx[0];
  const Y = ev.eta - ev.s.cy[0];
  switch (m.kind) {
    case 'shift':
      gx[0] = 1;
      gx[1] = 0;
      gy[0] = 0;
      gy[1] = 1;
      return;
    case 'similarity':
      gx.set([1, 0, X, -Y]);
      gy.set([0, 1, Y, X]);
      return;
    case 'affine':
      gx.set([1, 0, X, Y, 0, 0]);
      gy.set([0, 1, 0, 0, X, Y]);
      return;
    case 'poly': {
      const t = termCount(m.order);
      for (let k = 0; k < t; k++) {
        gx[k] = ev.basis[k];
        gx[t + k] = 0;
        gy[k] = 0;
        gy[t + k] = ev.basis[k];
      }
    }
  }
}

/**
 * Apply a solved correction `p` to a state, then move the constant terms into the tangent point (the plane
 * offset (cx[0], cy[0]) becomes the new CRVAL; the other coefficients are kept, an approximation of second
 * order in offset x field angle that the next round removes). Returns a new state.
 */
export function applyCorrection(s0: AstromState, m: FitModel, p: Float64Array): AstromState {
  const s = cloneState(m.kind === 'poly' ? withOrder(s0, m.order) : s0);
  const t = termCount(s.order);
  switch (m.kind) {
    case 'shift':
      break;
    case 'similarity':
      for (let k = 1; k < t; k++) {
        const x = s.cx[k];
        const y = s.cy[k];
        s.cx[k] = x + p[2] * x - p[3] * y;
        s.cy[k] = y + p[3] * x + p[2] * y;
      }
      break;
    case 'affine':
      for (let k = 1; k < t; k++) {
        const x = s.cx[k];
        const y = s.cy[k];
        s.cx[k] = x + p[2] * x + p[3] * y;
        s.cy[k] = y + p[4] * x + p[5] * y;
      }
      break;
    case 'poly': {
      const n = termCount(m.order);
      for (let k = 0; k < n; k++) {
        s.cx[k] += p[k];
        s.cy[k] += p[n + k];
      }
      return recentre(s);
    }
  }
  s.cx[0] += p[0];
  s.cy[0] += p[1];
  return recentre(s);
}

/** Move the constant terms of a state into its tangent point. */
export function recentre(s: AstromState): AstromState {
  if (s.cx[0] === 0 && s.cy[0] === 0) return s;
  const [ra, dec] = deprojectPoint(s.cx[0], s.cy[0], s.crval[0], s.crval[1]);
  s.crval = [ra, dec];
  s.cx[0] = 0;
  s.cy[0] = 0;
  return s;
}

/**
 * An upper bound (arcsec) of the displacement a correction makes over the frame region |u|, |v| <= 1:
 * used as the convergence test of the rounds.
 */
export function correctionSize(s: AstromState, m: FitModel, p: Float64Array): number {
  switch (m.kind) {
    case 'shift':
      return Math.hypot(p[0], p[1]);
    case 'similarity':
    case 'affine': {
      let r = 0;
      const t = termCount(s.order);
      for (let k = 1; k < t; k++) r = Math.max(r, Math.abs(s.cx[k]), Math.abs(s.cy[k]));
      let sum = 0;
      for (let k = 2; k < p.length; k++) sum += Math.abs(p[k]);
      return Math.hypot(p[0], p[1]) + sum * r * t;
    }
    case 'poly': {
      let sum = 0;
      for (let k = 0; k < p.length; k++) sum += Math.abs(p[k]);
      return sum;
    }
  }
}

/** Sky position (deg) of frame coordinates (x, y) under a state (uses a StateEvaluator of that state). */
export function stateToSky(ev: StateEvaluator, x: number, y: number): [number, number] {
  ev.eval(x, y);
  return deprojectPoint(ev.xi, ev.eta, ev.s.crval[0], ev.s.crval[1]);
}
