/**
 * Maps (x, y) -> (f(x, y), g(x, y)) where f and g are polynomials with radial terms,
 * sum_k c_k x^a_k y^b_k r^e_k with r = hypot(x, y), and their damped Newton inverse. SIP, TPV and the
 * DSS plate solution are all expressed with these (see wcs-sip.ts, wcs-tpv.ts, wcs-dss.ts).
 * f and g share one list of monomials, so each monomial is computed once per point; evaluation
 * allocates nothing (powers go to scratch arrays owned by the map).
 */

/** One term c * x^a * y^b * r^e. */
export interface PolyTerm {
  c: number;
  a: number;
  b: number;
  e: number;
}

/** A polynomial map (x, y) -> (f, g). Not re-entrant: results go to fields of the instance. */
export class PolyMap {
  /** Number of distinct monomials. */
  readonly n: number;
  private readonly cf: Float64Array;
  private readonly cg: Float64Array;
  private readonly a: Int32Array;
  private readonly b: Int32Array;
  private readonly e: Int32Array;
  private readonly maxA: number;
  private readonly maxB: number;
  private readonly maxE: number;
  private readonly xp: Float64Array;
  private readonly yp: Float64Array;
  private readonly rp: Float64Array;
  /** Result of forward()/inverse(): (f, g), resp. the solution (x, y). */
  x = 0;
  y = 0;
  /** Values and partial derivatives from the last evalGrad() call. */
  f = 0;
  g = 0;
  fx = 0;
  fy = 0;
  gx = 0;
  gy = 0;

  /** Build from the terms of f and of g (equal monomials are merged, zero coefficients dropped). */
  constructor(fTerms: readonly PolyTerm[], gTerms: readonly PolyTerm[]) {
    const mono = new Map<string, { a: number; b: number; e: number; cf: number; cg: number }>();
    const add = (t: PolyTerm, which: 'cf' | 'cg'): void => {
      if (t.c === 0) return;
      const key = `${t.a},${t.b},${t.e}`;
      let m = mono.get(key);
      if (!m) mono.set(key, (m = { a: t.a, b: t.b, e: t.e, cf: 0, cg: 0 }));
      m[which] += t.c;
    };
    for (const t of fTerms) add(t, 'cf');
    for (const t of gTerms) add(t, 'cg');
    const list = [...mono.values()];
    this.n = list.length;
    this.cf = Float64Array.from(list, (m) => m.cf);
    this.cg = Float64Array.from(list, (m) => m.cg);
    this.a = Int32Array.from(list, (m) => m.a);
    this.b = Int32Array.from(list, (m) => m.b);
    this.e = Int32Array.from(list, (m) => m.e);
    this.maxA = Math.max(0, ...this.a);
    this.maxB = Math.max(0, ...this.b);
    this.maxE = Math.max(0, ...this.e);
    this.xp = new Float64Array(this.maxA + 1);
    this.yp = new Float64Array(this.maxB + 1);
    this.rp = new Float64Array(this.maxE + 1);
  }

  /** Fill the power tables; returns r. */
  private powers(x: number, y: number): number {
    const { xp, yp, rp } = this;
    xp[0] = 1;
    for (let i = 1; i <= this.maxA; i++) xp[i] = xp[i - 1]! * x;
    yp[0] = 1;
    for (let i = 1; i <= this.maxB; i++) yp[i] = yp[i - 1]! * y;
    rp[0] = 1;
    if (this.maxE === 0) return 0;
    const r = Math.sqrt(x * x + y * y);
    for (let i = 1; i <= this.maxE; i++) rp[i] = rp[i - 1]! * r;
    return r;
  }

  /** (f, g) at (x, y) into this.x, this.y. */
  forward(x: number, y: number): void {
    this.powers(x, y);
    const { cf, cg, a, b, e, xp, yp, rp } = this;
    let sf = 0;
    let sg = 0;
    for (let k = 0; k < this.n; k++) {
      const m = xp[a[k]!]! * yp[b[k]!]! * rp[e[k]!]!;
      sf += cf[k]! * m;
      sg += cg[k]! * m;
    }
    this.x = sf;
    this.y = sg;
  }

  /** f, g and their partial derivatives at (x, y) into this.f, this.g, this.fx, this.fy, this.gx, this.gy. */
  evalGrad(x: number, y: number): void {
    const r = this.powers(x, y);
    const { cf, cg, a, b, e, xp, yp, rp } = this;
    let sf = 0;
    let sg = 0;
    let sfx = 0;
    let sfy = 0;
    let sgx = 0;
    let sgy = 0;
    for (let k = 0; k < this.n; k++) {
      const ak = a[k]!;
      const bk = b[k]!;
      const ek = e[k]!;
      const xa = xp[ak]!;
      const yb = yp[bk]!;
      const re = rp[ek]!;
      const m = xa * yb * re;
      let mx = ak > 0 ? ak * xp[ak - 1]! * yb * re : 0;
      let my = bk > 0 ? bk * xa * yp[bk - 1]! * re : 0;
      if (ek > 0 && r > 0) {
        // d(r^e)/dx = e r^(e-2) x
        const d = ek * xa * yb * (ek >= 2 ? rp[ek - 2]! : 1 / r);
        mx += d * x;
        my += d * y;
      }
      const f = cf[k]!;
      const g = cg[k]!;
      sf += f * m;
      sg += g * m;
      sfx += f * mx;
      sfy += f * my;
      sgx += g * mx;
      sgy += g * my;
    }
    this.f = sf;
    this.g = sg;
    this.fx = sfx;
    this.fy = sfy;
    this.gx = sgx;
    this.gy = sgy;
  }

  /**
   * Solve f(x, y) = tf, g(x, y) = tg from the start (x0, y0) by Newton's method with step halving.
   * Converged when a full Newton step is below `tol` (input units): result in this.x, this.y and true.
   * Otherwise (singular Jacobian, no convergence in maxIter) NaN and false.
   */
  inverse(tf: number, tg: number, x0: number, y0: number, tol: number, maxIter = 50): boolean {
    let x = x0;
    let y = y0;
    this.evalGrad(x, y);
    let rf = this.f - tf;
    let rg = this.g - tg;
    let res = rf * rf + rg * rg;
    for (let it = 0; it < maxIter; it++) {
      const det = this.fx * this.gy - this.fy * this.gx;
      if (!(det !== 0 && Number.isFinite(det))) break;
      const dx = (this.gy * rf - this.fy * rg) / det;
      const dy = (this.fx * rg - this.gx * rf) / det;
      if (Math.abs(dx) <= tol && Math.abs(dy) <= tol) {
        this.x = x - dx;
        this.y = y - dy;
        return true;
      }
      // Damped step: halve until the residual does not grow.
      let step = 1;
      for (let h = 0; h < 40; h++) {
        const nx = x - step * dx;
        const ny = y - step * dy;
        this.evalGrad(nx, ny);
        const nrf = this.f - tf;
        const nrg = this.g - tg;
        const nres = nrf * nrf + nrg * nrg;
        if (nres <= res || h === 39) {
          x = nx;
          y = ny;
          rf = nrf;
          rg = nrg;
          res = nres;
          break;
        }
        step *= 0.5;
      }
    }
    this.x = NaN;
    this.y = NaN;
    return false;
  }
}
