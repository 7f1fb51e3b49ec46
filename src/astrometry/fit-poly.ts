/**
 * Building blocks of the astrometric fit: 2-D monomial bases in normalised coordinates, and a small dense
 * symmetric positive-definite solver for normal equations.
 *
 * Monomials u^p v^q with p + q <= order are ordered by total degree, then by decreasing power of u:
 *   1, u, v, u^2, u v, v^2, u^3, u^2 v, u v^2, v^3, ...
 * so a basis of order n is a prefix of the basis of any higher order. Term k of degree d with power p of u
 * has index d (d + 1) / 2 + (d - p).
 */

/** Number of monomials with p + q <= order. */
export function termCount(order: number): number {
  return ((order + 1) * (order + 2)) / 2;
}

/** Index of the monomial u^p v^q in the ordering above. */
export function termIndex(p: number, q: number): number {
  const d = p + q;
  return (d * (d + 1)) / 2 + q;
}

/** Exponents [p, q] of every term of a basis of the given order, in basis order. */
export function termPowers(order: number): [number, number][] {
  const out: [number, number][] = [];
  for (let d = 0; d <= order; d++) for (let p = d; p >= 0; p--) out.push([p, d - p]);
  return out;
}

/** The largest order whose basis has exactly `n` terms, or -1 when n is not a triangular number. */
export function orderOfTerms(n: number): number {
  for (let o = 0; termCount(o) <= n; o++) if (termCount(o) === n) return o;
  return -1;
}

/** Fill out[0 .. termCount(order)) with the monomials at (u, v). No allocation. */
export function evalBasis(order: number, u: number, v: number, out: Float64Array): void {
  out[0] = 1;
  for (let d = 1; d <= order; d++) {
    const s = (d * (d + 1)) / 2;
    const sPrev = ((d - 1) * d) / 2;
    // terms of degree d: p = d .. 1 come from degree d-1 (p-1) times u; p = 0 from (0, d-1) times v.
    for (let k = 0; k < d; k++) out[s + k] = out[sPrev + k] * u;
    out[s + d] = out[sPrev + d - 1] * v;
  }
}

/** sum_k c[k] basis[k] over the first n terms. */
export function dot(c: ArrayLike<number>, basis: Float64Array, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += c[k] * basis[k];
  return s;
}

/**
 * Solve the symmetric positive-definite system A x = b (A: n x n row-major, only the upper triangle read) by
 * Cholesky factorisation after Jacobi scaling (A' = D^-1/2 A D^-1/2), which makes the pivot test scale-free.
 * Returns undefined when A is singular or too ill-conditioned (a scaled pivot below `minPivot`).
 * Neither input is modified.
 */
export function solveSpd(a: Float64Array, b: Float64Array, n: number, minPivot = 1e-13): Float64Array | undefined {
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = a[i * n + i];
    if (!(d > 0) || !Number.isFinite(d)) return undefined;
    s[i] = 1 / Math.sqrt(d);
  }
  // L (lower, row-major) of the scaled matrix
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[j * n + i] * s[i] * s[j];
      for (let k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(sum > minPivot)) return undefined;
        l[i * n + i] = Math.sqrt(sum);
      } else {
        l[i * n + j] = sum / l[j * n + j];
      }
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i] * s[i];
    for (let k = 0; k < i; k++) sum -= l[i * n + k] * y[k];
    y[i] = sum / l[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i];
    for (let k = i + 1; k < n; k++) sum -= l[k * n + i] * x[k];
    x[i] = sum / l[i * n + i];
  }
  for (let i = 0; i < n; i++) x[i] *= s[i];
  return x;
}

/**
 * Least-squares fit of two polynomials of one order sharing a basis: fx(u, v) ~ zx, fy(u, v) ~ zy over points
 * (u[i], v[i]) (normalised coordinates), unit weights. Returns the coefficients, or undefined when singular.
 */
export function fitPolyPair(
  order: number,
  u: ArrayLike<number>,
  v: ArrayLike<number>,
  zx: ArrayLike<number>,
  zy: ArrayLike<number>,
  n = u.length,
): { cx: Float64Array; cy: Float64Array } | undefined {
  const t = termCount(order);
  const ata = new Float64Array(t * t);
  const bx = new Float64Array(t);
  const by = new Float64Array(t);
  const phi = new Float64Array(t);
  for (let i = 0; i < n; i++) {
    evalBasis(order, u[i], v[i], phi);
    for (let r = 0; r < t; r++) {
      const pr = phi[r];
      bx[r] += pr * zx[i];
      by[r] += pr * zy[i];
      for (let c = r; c < t; c++) ata[r * t + c] += pr * phi[c];
    }
  }
  const cx = solveSpd(ata, bx, t);
  const cy = solveSpd(ata, by, t);
  return cx && cy ? { cx, cy } : undefined;
}
