/**
 * Simple Imaging Polynomial distortion (Shupe et al. 2005, "The SIP Convention for Representing
 * Distortion in FITS Image Headers"). With u, v = pixel - CRPIX (pixels):
 *   intermediate = CD * (u + f(u, v), v + g(u, v)),   f = sum A_p_q u^p v^q,  g = sum B_p_q u^p v^q
 * (p + q <= A_ORDER / B_ORDER). The optional reverse coefficients AP_p_q, BP_p_q give approximately
 *   u = U + sum AP_p_q U^p V^q,  v = V + sum BP_p_q U^p V^q   with (U, V) = CD^-1 * intermediate;
 * we use them only as the starting point of an exact Newton inversion.
 */
import type { Header } from '../fits/header.js';
import { PolyMap, type PolyTerm } from './wcs-poly.js';

/** SIP coefficients: a[p][q] = A_p_q (square (order+1) x (order+1) arrays, zero where absent). */
export interface SipParams {
  aOrder: number;
  bOrder: number;
  a: number[][];
  b: number[][];
  /** Reverse coefficients, when the header has them (AP_ORDER / BP_ORDER). */
  apOrder?: number;
  bpOrder?: number;
  ap?: number[][];
  bp?: number[][];
}

const MAX_ORDER = 20;

function zeros(order: number): number[][] {
  return Array.from({ length: order + 1 }, () => new Array<number>(order + 1).fill(0));
}

/** Read the ORDER keyword and the coefficients of one SIP polynomial (prefix 'A', 'B', 'AP' or 'BP'). */
function readPoly(h: Header, prefix: string, fail: (m: string) => never): { order: number; c: number[][] } | undefined {
  const order = h.getNumber(`${prefix}_ORDER`);
  if (order === undefined) return undefined;
  if (!Number.isInteger(order) || order < 0 || order > MAX_ORDER) fail(`${prefix}_ORDER = ${order} is not an integer in 0..${MAX_ORDER}`);
  const c = zeros(order);
  for (let p = 0; p <= order; p++) {
    for (let q = 0; p + q <= order; q++) {
      const v = h.getNumber(`${prefix}_${p}_${q}`);
      if (v === undefined) continue;
      if (!Number.isFinite(v)) fail(`${prefix}_${p}_${q} is not finite`);
      c[p]![q] = v;
    }
  }
  return { order, c };
}

/** Read SIP keywords (the caller has seen a -SIP CTYPE suffix). `fail` throws a located error. */
export function readSip(h: Header, fail: (m: string) => never): SipParams {
  const a = readPoly(h, 'A', fail);
  const b = readPoly(h, 'B', fail);
  if (!a || !b) fail(`CTYPE has the -SIP suffix but ${a ? 'B_ORDER' : 'A_ORDER'} is missing`);
  const sip: SipParams = { aOrder: a.order, bOrder: b.order, a: a.c, b: b.c };
  const ap = readPoly(h, 'AP', fail);
  const bp = readPoly(h, 'BP', fail);
  if (ap && bp) {
    sip.apOrder = ap.order;
    sip.bpOrder = bp.order;
    sip.ap = ap.c;
    sip.bp = bp.c;
  }
  return sip;
}

function terms(c: readonly (readonly number[])[]): PolyTerm[] {
  const out: PolyTerm[] = [];
  for (let p = 0; p < c.length; p++) {
    const row = c[p]!;
    for (let q = 0; q < row.length; q++) if (row[q] !== 0) out.push({ c: row[q]!, a: p, b: q, e: 0 });
  }
  return out;
}

/** The forward map (u, v) -> (u + f, v + g) in pixels. */
export function sipForward(sip: SipParams): PolyMap {
  return new PolyMap([...terms(sip.a), { c: 1, a: 1, b: 0, e: 0 }], [...terms(sip.b), { c: 1, a: 0, b: 1, e: 0 }]);
}

/** The approximate reverse map (U, V) -> (U + AP, V + BP), when AP/BP are present. */
export function sipReverse(sip: SipParams): PolyMap | undefined {
  if (!sip.ap || !sip.bp) return undefined;
  return new PolyMap([...terms(sip.ap), { c: 1, a: 1, b: 0, e: 0 }], [...terms(sip.bp), { c: 1, a: 0, b: 1, e: 0 }]);
}

/** Write SIP keywords (A_ORDER, A_p_q, ... nonzero coefficients only) into a header. */
export function writeSip(h: Header, sip: SipParams): void {
  const put = (prefix: string, order: number, c: readonly (readonly number[])[]): void => {
    h.set(`${prefix}_ORDER`, order, `SIP polynomial order, axis ${prefix.startsWith('A') ? 1 : 2}`);
    for (let p = 0; p <= order; p++) {
      for (let q = 0; p + q <= order; q++) {
        const v = c[p]?.[q] ?? 0;
        if (v !== 0) h.set(`${prefix}_${p}_${q}`, v, undefined, 'float');
      }
    }
  };
  put('A', sip.aOrder, sip.a);
  put('B', sip.bOrder, sip.b);
  if (sip.ap && sip.bp && sip.apOrder !== undefined && sip.bpOrder !== undefined) {
    put('AP', sip.apOrder, sip.ap);
    put('BP', sip.bpOrder, sip.bp);
  }
}
