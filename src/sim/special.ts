/**
 * Special functions for the simulator: log-gamma, the regularised incomplete gamma functions
 * (Sersic enclosed flux), the Sersic b_n constant, and Gauss-Legendre quadrature rules.
 * Written from the textbook definitions (asymptotic series, power series, Legendre continued fraction).
 */

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** ln Gamma(x) for x > 0: Stirling's asymptotic series after shifting x above 8 with the recurrence. */
export function lnGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`lnGamma needs x > 0, got ${x}`);
  let shift = 0;
  while (x < 8) {
    shift += Math.log(x);
    x += 1;
  }
  const z = 1 / (x * x);
  // Bernoulli-number terms 1/12x - 1/360x^3 + 1/1260x^5 - 1/1680x^7 + 1/1188x^9
  const series = (1 / x) * (1 / 12 - z * (1 / 360 - z * (1 / 1260 - z * (1 / 1680 - z / 1188))));
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI + series - shift;
}

const LN_FACT_TABLE = (() => {
  const t = new Float64Array(64);
  for (let k = 2; k < 64; k++) t[k] = t[k - 1] + Math.log(k);
  return t;
})();

/** ln(k!) for integer k >= 0 (table below 64, Stirling above). */
export function lnFactorial(k: number): number {
  return k < 64 ? LN_FACT_TABLE[k] : lnGamma(k + 1);
}

/**
 * Regularised incomplete gamma functions P(a, x) = gamma(a, x) / Gamma(a) and Q = 1 - P, for a > 0, x >= 0.
 * Power series for x < a + 1, Legendre continued fraction (modified Lentz) otherwise; ~1e-14 relative.
 */
export function gammaPQ(a: number, x: number): { p: number; q: number } {
  if (!(a > 0) || !(x >= 0)) throw new RangeError(`gammaPQ needs a > 0, x >= 0 (a=${a}, x=${x})`);
  if (x === 0) return { p: 0, q: 1 };
  const lnPre = a * Math.log(x) - x - lnGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let k = 1; k < 1000; k++) {
      term *= x / (a + k);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    const p = Math.min(1, sum * Math.exp(lnPre));
    return { p, q: 1 - p };
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const q = Math.min(1, Math.exp(lnPre) * h);
  return { p: 1 - q, q };
}

/**
 * Solve Q(a, x) = target (upper tail) for x by Newton iteration on ln Q, bracketed by bisection.
 * Used for the radius enclosing all but a fraction `target` of a Sersic profile's flux.
 */
export function gammaQInverse(a: number, target: number): number {
  if (!(target > 0 && target < 1)) throw new RangeError(`gammaQInverse target must be in (0,1), got ${target}`);
  let lo = 0;
  let hi = Math.max(1, a);
  while (gammaPQ(a, hi).q > target) hi *= 2;
  let x = 0.5 * (lo + hi);
  const lnT = Math.log(target);
  for (let it = 0; it < 200; it++) {
    const { p, q } = gammaPQ(a, x);
    // Q decreases with x: keep the bracket [lo, hi] with Q(lo) > target > Q(hi)
    if (q > target) lo = x;
    else hi = x;
    const dens = Math.exp((a - 1) * Math.log(x) - x - lnGamma(a));
    // Newton step on f(x) = ln Q(x) - ln target; use P when Q is near 1 for accuracy
    const f = q > 0.5 ? Math.log1p(-p) - lnT : Math.log(q) - lnT;
    let next = x + (q * f) / dens;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - x) <= 1e-14 * x || hi - lo <= 1e-14 * hi) return next;
    x = next;
  }
  return x;
}

/**
 * The Sersic constant b_n: the half-light radius encloses half the flux, P(2n, b_n) = 1/2.
 * Solved by Newton iteration from the Ciotti & Bertin (1999) asymptotic estimate.
 */
export function sersicB(n: number): number {
  if (!(n > 0.05 && n <= 20)) throw new RangeError(`Sersic index must be in (0.05, 20], got ${n}`);
  const a = 2 * n;
  let b = Math.max(1e-3, 2 * n - 1 / 3 + 4 / (405 * n) + 46 / (25515 * n * n));
  const lnGa = lnGamma(a);
  for (let it = 0; it < 100; it++) {
    const f = gammaPQ(a, b).p - 0.5;
    const dens = Math.exp((a - 1) * Math.log(b) - b - lnGa);
    let step = f / dens;
    if (step > 0.5 * b) step = 0.5 * b;
    b -= step;
    if (Math.abs(step) < 1e-15 * b) break;
  }
  return b;
}

/** Gauss-Legendre nodes on [-1/2, 1/2] and weights summing to 1, for n points. */
export interface GaussLegendre {
  readonly nodes: Float64Array;
  readonly weights: Float64Array;
}

const GL_CACHE = new Map<number, GaussLegendre>();

/** Gauss-Legendre rule of order n (1..32) mapped to the unit interval centred on 0; cached. */
export function gaussLegendre(n: number): GaussLegendre {
  const cached = GL_CACHE.get(n);
  if (cached) return cached;
  if (!(Number.isInteger(n) && n >= 1 && n <= 32)) throw new RangeError(`Gauss-Legendre order must be 1..32, got ${n}`);
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // Newton iteration on P_n from the Chebyshev-like initial guess
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 1;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      const pn = n === 1 ? x : p1;
      const pnm1 = n === 1 ? 1 : p0;
      dp = (n * (x * pn - pnm1)) / (x * x - 1);
      const dx = pn / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-16) break;
    }
    // recompute derivative at the converged root
    let p0 = 1;
    let p1 = x;
    for (let k = 2; k <= n; k++) {
      const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
      p0 = p1;
      p1 = p2;
    }
    dp = n === 1 ? 1 : (n * (x * p1 - p0)) / (x * x - 1);
    nodes[i] = 0.5 * x;
    weights[i] = 1 / ((1 - x * x) * dp * dp); // 2/((1-x^2)P'^2) on [-1,1], halved for the unit interval
  }
  const rule = { nodes, weights };
  GL_CACHE.set(n, rule);
  return rule;
}
