/**
 * Exact area of overlap between a circle and a unit pixel.
 *
 * SExtractor approximates this by sub-sampling boundary pixels (5x5 for MAG_APER, 11x11 for WIN); we integrate
 * the circle analytically instead: for a rectangle [x0,x1]x[y0,y1] relative to the circle centre, the overlap is
 * the inclusion-exclusion sum S(x1,y1) - S(x0,y1) - S(x1,y0) + S(x0,y0), where S(x,y) is the signed area of the
 * disc inside the axis-aligned box spanned by the centre and (x,y).
 */

/** Area of {0 <= X <= a, 0 <= Y <= b, X^2 + Y^2 <= r^2} for a, b >= 0. */
function quadrantArea(a: number, b: number, r: number, r2: number): number {
  if (a <= 0 || b <= 0) return 0;
  const am = a < r ? a : r;
  // for X < xb the disc is taller than b: the strip is a rectangle of height b
  const xb = b < r ? Math.sqrt(r2 - b * b) : 0;
  if (am <= xb) return am * b;
  return xb * b + arcPrimitive(am, r, r2) - arcPrimitive(xb, r, r2);
}

/** Primitive of sqrt(r^2 - X^2): (X sqrt(r^2 - X^2) + r^2 asin(X / r)) / 2. */
function arcPrimitive(x: number, r: number, r2: number): number {
  const t = x / r;
  return 0.5 * (x * Math.sqrt(Math.max(r2 - x * x, 0)) + r2 * Math.asin(t > 1 ? 1 : t));
}

function signedArea(x: number, y: number, r: number, r2: number): number {
  const q = quadrantArea(Math.abs(x), Math.abs(y), r, r2);
  return (x < 0) !== (y < 0) ? -q : q;
}

/** Exact area of the rectangle [x0,x1]x[y0,y1] (coordinates relative to the circle centre) inside a circle of radius r. */
export function rectCircleOverlap(x0: number, y0: number, x1: number, y1: number, r: number): number {
  const r2 = r * r;
  return signedArea(x1, y1, r, r2) - signedArea(x0, y1, r, r2) - signedArea(x1, y0, r, r2) + signedArea(x0, y0, r, r2);
}

/**
 * Area of {x0 <= X <= x1, y0 <= Y <= y1, X^2 + Y^2 <= r^2} for 0 <= x0 < x1, 0 <= y0 < y1 (one quadrant):
 * the full-height part left of the circle's crossing of y = y1, plus the integral of sqrt(r^2 - X^2) - y0 up to
 * its crossing of y = y0, with the two arcsines combined into one (asin a - asin b = asin(a sqrt(1-b^2) - b sqrt(1-a^2))).
 */
function quadrantStrip(x0: number, x1: number, y0: number, y1: number, r: number, r2: number): number {
  if (y0 >= r) return 0;
  const xa = y1 < r ? Math.sqrt(r2 - y1 * y1) : 0;
  const xb = Math.sqrt(r2 - y0 * y0);
  let area = 0;
  const fa = x1 < xa ? x1 : xa;
  if (fa > x0) area += (fa - x0) * (y1 - y0);
  const u0 = x0 > xa ? x0 : xa;
  const u1 = x1 < xb ? x1 : xb;
  if (u1 > u0) {
    const h0 = Math.sqrt(Math.max(r2 - u0 * u0, 0));
    const h1 = Math.sqrt(Math.max(r2 - u1 * u1, 0));
    let sd = (u1 * h0 - u0 * h1) / r2;
    if (sd > 1) sd = 1;
    area += 0.5 * (u1 * h1 - u0 * h0) + 0.5 * r2 * Math.asin(sd) - y0 * (u1 - u0);
  }
  return area;
}

/**
 * Fraction of the unit pixel centred at offset (dx, dy) from the circle centre that lies inside a circle of
 * radius r (0..1). Fast paths for pixels entirely inside or outside.
 */
export function pixelCircleOverlap(dx: number, dy: number, r: number): number {
  let ax = dx < 0 ? -dx : dx;
  let ay = dy < 0 ? -dy : dy;
  if (ay > ax) {
    // the disc is symmetric about the diagonal: work with ax >= ay
    const t = ax;
    ax = ay;
    ay = t;
  }
  const fx = ax + 0.5;
  const fy = ay + 0.5;
  const r2 = r * r;
  if (fx * fx + fy * fy <= r2) return 1;
  const x0 = ax - 0.5;
  const y0 = ay - 0.5;
  const nx = x0 > 0 ? x0 : 0;
  const ny = y0 > 0 ? y0 : 0;
  if (nx * nx + ny * ny >= r2) return 0;
  let v = 0;
  if (x0 < 0) v = rectCircleOverlap(x0, y0, fx, fy, r); // the pixel contains the centre (r < 0.71)
  else {
    // y0 >= 0: one strip; y0 < 0: the pixel straddles the axis, two strips [0, fy] and [0, -y0]. One call site,
    // so that callers can inline it (a call passes its doubles boxed)
    const strips = y0 >= 0 ? 1 : 2;
    for (let k = 0; k < strips; k++) v += quadrantStrip(x0, fx, k === 0 && y0 >= 0 ? y0 : 0, k === 0 ? fy : -y0, r, r2);
  }
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
