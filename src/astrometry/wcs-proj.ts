/**
 * Zenithal sky projections of FITS WCS Paper II (Calabretta & Greisen 2002, sect. 5.1): TAN, SIN (with
 * the slant parameters PV2_1, PV2_2), ZEA, ARC, STG and ZPN, and the spherical rotation between native
 * and celestial coordinates.
 *
 * Native directions are handled as unit vectors n = (cos t cos p, cos t sin p, sin t) (p, t: native
 * longitude, latitude); on the projection plane (degrees) x = R sin p, y = -R cos p, where R is a
 * function of the native colatitude z = 90 deg - t. Working with vectors keeps full precision near the
 * reference point, where asin-based formulas lose half the digits.
 */

const D2R = Math.PI / 180;
const R2D = 180 / Math.PI;

/** Projection codes handled here. */
export const ZENITHAL_CODES = ['TAN', 'SIN', 'ZEA', 'ARC', 'STG', 'ZPN'] as const;
export type ProjCode = (typeof ZENITHAL_CODES)[number];

/** A zenithal projection. Methods write into `out` and return false outside the projection's domain. */
export interface Projection {
  readonly code: ProjCode;
  /** Plane (x, y) in degrees -> native unit vector out[0..2]. */
  toNative(x: number, y: number, out: Float64Array): boolean;
  /** Native unit vector -> plane (x, y) in degrees, out[0..1]. */
  toPlane(nx: number, ny: number, nz: number, out: Float64Array): boolean;
}

/** Native vector from plane (x, y), radius r and colatitude z (radians). */
function fromColatitude(x: number, y: number, r: number, z: number, out: Float64Array): boolean {
  if (!(z >= 0 && z <= Math.PI)) return false;
  if (r === 0) {
    out[0] = 0;
    out[1] = 0;
    out[2] = 1;
    return true;
  }
  const s = Math.sin(z) / r;
  out[0] = -y * s;
  out[1] = x * s;
  out[2] = Math.cos(z);
  return true;
}

/** Plane (x, y) for a native vector given the plane radius rOf(z) of its colatitude. */
function planeFrom(nx: number, ny: number, nz: number, rOf: (z: number) => number, out: Float64Array): boolean {
  const s = Math.sqrt(nx * nx + ny * ny);
  if (s === 0) {
    if (nz < 0) return false;
    out[0] = 0;
    out[1] = 0;
    return true;
  }
  const r = rOf(Math.atan2(s, nz));
  if (!Number.isFinite(r)) return false;
  out[0] = (r * ny) / s;
  out[1] = (-r * nx) / s;
  return true;
}

const TAN: Projection = {
  code: 'TAN',
  toNative(x, y, out) {
    const u = -y * D2R;
    const v = x * D2R;
    const k = 1 / Math.sqrt(1 + u * u + v * v);
    out[0] = u * k;
    out[1] = v * k;
    out[2] = k;
    return Number.isFinite(k);
  },
  toPlane(nx, ny, nz, out) {
    if (!(nz > 0)) return false;
    out[0] = (ny / nz) * R2D;
    out[1] = (-nx / nz) * R2D;
    return true;
  },
};

/** SIN with slant parameters xi = PV2_1, eta = PV2_2 (orthographic when both are 0). */
function sin(xi: number, eta: number): Projection {
  const a = 1 + xi * xi + eta * eta;
  return {
    code: 'SIN',
    toNative(x, y, out) {
      const X = x * D2R;
      const Y = y * D2R;
      // w = 1 - sin(t) is the small root of a w^2 - 2 b w + c = 0 (Paper II eq. 49, rearranged).
      const b = 1 + X * xi + Y * eta;
      const c = X * X + Y * Y;
      const disc = b * b - a * c;
      if (disc < 0) return false;
      const den = b + Math.sqrt(disc);
      const w = den > 0 ? c / den : (b - Math.sqrt(disc)) / a;
      if (!(w >= 0 && w <= 2)) return false;
      out[0] = -Y + eta * w;
      out[1] = X - xi * w;
      out[2] = 1 - w;
      return true;
    },
    toPlane(nx, ny, nz, out) {
      // Only points on the branch toNative returns (the small root): a w <= b; for xi = eta = 0, nz >= 0.
      const w = 1 - nz;
      const X = ny + xi * w;
      const Y = eta * w - nx;
      if (a * w > 1 + X * xi + Y * eta + 1e-15) return false;
      out[0] = X * R2D;
      out[1] = Y * R2D;
      return true;
    },
  };
}

const zeaR = (z: number): number => 2 * Math.sin(z / 2) * R2D;
const arcR = (z: number): number => z * R2D;
const stgR = (z: number): number => (z < Math.PI ? 2 * Math.tan(z / 2) * R2D : NaN);

const ZEA: Projection = {
  code: 'ZEA',
  toNative(x, y, out) {
    const r = Math.hypot(x, y);
    const h = (r * D2R) / 2;
    if (h > 1 + 1e-13) return false;
    return fromColatitude(x, y, r, 2 * Math.asin(Math.min(1, h)), out);
  },
  toPlane(nx, ny, nz, out) {
    return planeFrom(nx, ny, nz, zeaR, out);
  },
};

const ARC: Projection = {
  code: 'ARC',
  toNative(x, y, out) {
    const r = Math.hypot(x, y);
    return fromColatitude(x, y, r, r * D2R, out);
  },
  toPlane(nx, ny, nz, out) {
    return planeFrom(nx, ny, nz, arcR, out);
  },
};

const STG: Projection = {
  code: 'STG',
  toNative(x, y, out) {
    const r = Math.hypot(x, y);
    return fromColatitude(x, y, r, 2 * Math.atan((r * D2R) / 2), out);
  },
  toPlane(nx, ny, nz, out) {
    return planeFrom(nx, ny, nz, stgR, out);
  },
};

/**
 * ZPN: R = (180/pi) sum_m P_m z^m (z in radians, P_m = PV2_m, m = 0..20). Valid up to the first
 * maximum of R(z) in (0, pi] (or pi); inverted by bisection-safeguarded Newton.
 */
function zpn(p: readonly number[]): Projection {
  let deg = p.length - 1;
  while (deg > 0 && p[deg] === 0) deg--;
  const poly = (z: number): number => {
    let s = 0;
    for (let m = deg; m >= 0; m--) s = s * z + p[m]!;
    return s;
  };
  const dpoly = (z: number): number => {
    let s = 0;
    for (let m = deg; m >= 1; m--) s = s * z + m * p[m]!;
    return s;
  };
  // Domain end: first z where dR/dz changes sign (scan, then bisect).
  let zmax = Math.PI;
  const steps = 2000;
  for (let i = 1; i <= steps; i++) {
    const z1 = (Math.PI * i) / steps;
    if (dpoly(z1) <= 0) {
      let lo = (Math.PI * (i - 1)) / steps;
      let hi = z1;
      for (let k = 0; k < 60; k++) {
        const mid = (lo + hi) / 2;
        if (dpoly(mid) > 0) lo = mid;
        else hi = mid;
      }
      zmax = lo;
      break;
    }
  }
  const rmax = poly(zmax);
  const zpnR = (z: number): number => (z <= zmax + 1e-12 ? poly(z) * R2D : NaN);
  const r0 = poly(0);
  return {
    code: 'ZPN',
    toNative(x, y, out) {
      const r = Math.hypot(x, y);
      const target = r * D2R;
      if (target > rmax + 1e-12 || target < r0 - 1e-12) return false;
      if (deg <= 1) return fromColatitude(x, y, r, deg === 1 ? (target - r0) / p[1]! : 0, out);
      let lo = 0;
      let hi = zmax;
      let z = Math.min(zmax, Math.max(0, p[1] !== 0 ? (target - r0) / p[1]! : zmax / 2));
      for (let k = 0; k < 100; k++) {
        const f = poly(z) - target;
        if (f > 0) hi = z;
        else lo = z;
        const d = dpoly(z);
        let nz = d > 0 ? z - f / d : NaN;
        if (!(nz > lo && nz < hi)) nz = (lo + hi) / 2;
        if (Math.abs(nz - z) < 1e-15) {
          z = nz;
          break;
        }
        z = nz;
      }
      return fromColatitude(x, y, r, z, out);
    },
    toPlane(nx, ny, nz, out) {
      return planeFrom(nx, ny, nz, zpnR, out);
    },
  };
}

/**
 * The projection for a code with its parameters `pv[m]` = PV<lat>_m (undefined when unset).
 * Throws (plain Error, the caller adds context) for codes not handled here.
 */
export function makeProjection(code: string, pv: readonly (number | undefined)[]): Projection {
  switch (code) {
    case 'TAN':
      return TAN;
    case 'SIN':
      return (pv[1] ?? 0) === 0 && (pv[2] ?? 0) === 0 ? sin(0, 0) : sin(pv[1] ?? 0, pv[2] ?? 0);
    case 'ZEA':
      return ZEA;
    case 'ARC':
      return ARC;
    case 'STG':
      return STG;
    case 'ZPN': {
      const p: number[] = [];
      for (let m = 0; m <= 20; m++) p.push(pv[m] ?? 0);
      if (p.every((v) => v === 0)) throw new Error('ZPN projection without any PV coefficient');
      return zpn(p);
    }
    default:
      throw new Error(`unsupported projection '${code}' (supported: ${ZENITHAL_CODES.join(', ')}, TPV, with optional -SIP)`);
  }
}

/**
 * Rotation between native and celestial frames for a zenithal projection (reference point at the
 * native pole): celestial = M * native. Built from the celestial coordinates of the reference point
 * (alpha0, delta0) and the native longitude of the celestial pole phiP (LONPOLE), in degrees.
 * Row-major 3x3.
 */
export function nativeToCelestialMatrix(alpha0: number, delta0: number, phiP: number): Float64Array {
  const ca = Math.cos(alpha0 * D2R);
  const sa = Math.sin(alpha0 * D2R);
  const cd = Math.cos(delta0 * D2R);
  const sd = Math.sin(delta0 * D2R);
  const cp = Math.cos(phiP * D2R);
  const sp = Math.sin(phiP * D2R);
  // Paper II eq. 2 written linearly in the native vector n:
  //   A = cos d cos(a - a0) = nz cd - sd (nx cp + ny sp)
  //   B = cos d sin(a - a0) = nx sp - ny cp
  //   C = sin d            = nz sd + cd (nx cp + ny sp)
  const A = [-sd * cp, -sd * sp, cd];
  const B = [sp, -cp, 0];
  const C = [cd * cp, cd * sp, sd];
  const m = new Float64Array(9);
  for (let j = 0; j < 3; j++) {
    m[j] = A[j]! * ca - B[j]! * sa;
    m[3 + j] = A[j]! * sa + B[j]! * ca;
    m[6 + j] = C[j]!;
  }
  return m;
}
