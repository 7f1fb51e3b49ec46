/**
 * Pattern matching of detections against reference stars on a tangent plane, in the spirit of the
 * "optimistic pattern matching" of Tabur (2007) as used by LSST (matchOptimisticB): a pattern is a bright
 * detection (the centre) and the "spokes" joining it to other bright detections. A spoke matches a reference
 * pair when their lengths agree within the scale tolerance and their position angles within the rotation
 * tolerance; a centre correspondence (detection i <-> reference j) is a hypothesis when at least `minSpokes`
 * of its spokes agree on one rotation and scale. Each hypothesis gives a similarity transform (least
 * squares over the centre and its spokes), verified by counting one-to-one nearest-neighbour matches of
 * all the bright detections; the best verified hypothesis wins.
 *
 * Pair geometry does not depend on translation, so any pointing offset is found; the offset is only bounded
 * by `maxOffset` (at the detections' centroid, allowing for rotation and scale about the tangent point) to
 * reject chance alignments. Inputs are plane points (arcsec) in brightness order, e.g. detections projected
 * through an approximate WCS (or a camera model) and reference stars projected about the same tangent point.
 * Everything is deterministic: candidates are visited in index order and ties go to the lower index.
 */
import { matchNearest, PlaneGrid } from './match-nn.js';
import { applySimilarity, fitSimilarity, type PlanePoints, type Similarity } from './match-plane.js';

export interface PatternOptions {
  /** Largest pointing offset to search (arcsec). Default 180. */
  maxOffset?: number;
  /** Largest rotation error (deg). Default 3. */
  maxRotation?: number;
  /** Largest relative scale error. Default 0.02. */
  maxScale?: number;
  /** Positional tolerance of one star (arcsec): centroid errors, distortion left in the input, catalogue errors. Default 2. */
  tolerance?: number;
  /** Spokes that must agree (pattern = centre + spokes). Default 3; 2 accepts triangles (sparse fields). */
  minSpokes?: number;
  /** Brightest detections used. Default 50. */
  maxDetections?: number;
  /** Brightest reference stars used. Default 100. */
  maxReferences?: number;
  /** Verified matches required. Default 6 (at least minSpokes + 1). */
  minMatches?: number;
  /** Matching radius of the verification (arcsec). Default 2 x tolerance. */
  verifyRadius?: number;
  /** Stop at the first hypothesis verifying this fraction of the detections used. Default 0.3. */
  acceptFraction?: number;
}

export interface PatternResult {
  ok: boolean;
  /** Reference plane ~ transform(detection plane). Identity when not ok. */
  transform: Similarity;
  /** Scale and rotation (deg, counter-clockwise from +xi to +eta) of the transform. */
  scale: number;
  rotation: number;
  /** Pairs (detection index, reference index) of the verification. */
  det: Int32Array;
  ref: Int32Array;
  nMatched: number;
  /** Rms (arcsec, per axis) of the verified pairs after the transform. */
  rms: number;
  /** Hypotheses verified. */
  tried: number;
  /** Why it failed (when not ok). */
  reason?: string;
}

const D2R = Math.PI / 180;

/** Reference pairs sorted by length. */
interface PairTable {
  d: Float64Array;
  phi: Float64Array;
  j: Int32Array;
  k: Int32Array;
}

function pairTable(p: PlanePoints, n: number, minLen: number): PairTable {
  const list: { d: number; phi: number; j: number; k: number }[] = [];
  for (let j = 0; j < n; j++) {
    for (let k = j + 1; k < n; k++) {
      const dx = p.xi[k] - p.xi[j];
      const dy = p.eta[k] - p.eta[j];
      const d = Math.hypot(dx, dy);
      if (d >= minLen) list.push({ d, phi: Math.atan2(dy, dx), j, k });
    }
  }
  list.sort((a, b) => a.d - b.d || a.j - b.j || a.k - b.k);
  return {
    d: Float64Array.from(list, (e) => e.d),
    phi: Float64Array.from(list, (e) => e.phi),
    j: Int32Array.from(list, (e) => e.j),
    k: Int32Array.from(list, (e) => e.k),
  };
}

/** First index with d[i] >= x. */
function lowerBound(d: Float64Array, x: number): number {
  let lo = 0;
  let hi = d.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (d[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Angle wrapped to (-pi, pi]. */
function wrapPi(a: number): number {
  let r = a % (2 * Math.PI);
  if (r <= -Math.PI) r += 2 * Math.PI;
  else if (r > Math.PI) r -= 2 * Math.PI;
  return r;
}

/** A spoke candidate: detection spoke (centre -> i2) matched to reference spoke (centre j -> k). */
interface Spoke {
  j: number;
  i2: number;
  k: number;
  theta: number;
  scale: number;
  /** angular and relative-scale tolerance of this spoke */
  tol: number;
}

const FAIL = (reason: string, tried = 0): PatternResult => ({
  ok: false,
  transform: { a: 1, b: 0, tx: 0, ty: 0 },
  scale: 1,
  rotation: 0,
  det: new Int32Array(0),
  ref: new Int32Array(0),
  nMatched: 0,
  rms: NaN,
  tried,
  reason,
});

/**
 * Find the similarity transform taking detections onto reference stars. `det` and `ref` are plane points
 * (arcsec) about the same tangent point, each sorted brightest first; only the first maxDetections /
 * maxReferences are used.
 */
export function matchPattern(det: PlanePoints, ref: PlanePoints, options: PatternOptions = {}): PatternResult {
  const maxOffset = options.maxOffset ?? 180;
  const maxRot = (options.maxRotation ?? 3) * D2R;
  const maxScale = options.maxScale ?? 0.02;
  const tol = options.tolerance ?? 2;
  const minSpokes = Math.max(2, options.minSpokes ?? 3);
  const nd = Math.min(det.n, options.maxDetections ?? 50);
  const nr = Math.min(ref.n, options.maxReferences ?? 100);
  const minMatches = Math.max(minSpokes + 1, options.minMatches ?? 6);
  const verifyRadius = options.verifyRadius ?? 2 * tol;
  const acceptFraction = options.acceptFraction ?? 0.3;
  if (nd < minSpokes + 1 || nr < minSpokes + 1) return FAIL(`too few points for a pattern (${nd} detections, ${nr} references; need ${minSpokes + 1})`);
  const minLen = 4 * tol;
  const pairs = pairTable(ref, nr, minLen * (1 - maxScale));
  const detUsed: PlanePoints = { xi: det.xi.subarray(0, nd), eta: det.eta.subarray(0, nd), n: nd };
  const refUsed: PlanePoints = { xi: ref.xi.subarray(0, nr), eta: ref.eta.subarray(0, nr), n: nr };
  const refGrid = new PlaneGrid(refUsed, verifyRadius);
  // centroid of the detections: the offset bound applies there
  let cx = 0;
  let cy = 0;
  let nc = 0;
  for (let i = 0; i < nd; i++) {
    if (!(Number.isFinite(det.xi[i]) && Number.isFinite(det.eta[i]))) continue;
    cx += det.xi[i];
    cy += det.eta[i];
    nc++;
  }
  cx /= Math.max(nc, 1);
  cy /= Math.max(nc, 1);
  const rho = Math.hypot(cx, cy);
  const ctx: Search = { det: detUsed, ref: refUsed, refGrid, radius: verifyRadius, offsetBound: maxOffset + rho * (maxRot + maxScale) + 2 * tol, cx, cy, maxRot, maxScale, tol, q: new Float64Array(2) };

  let best: PatternResult | undefined;
  let tried = 0;
  const spokes: Spoke[] = [];
  for (let i = 0; i < nd; i++) {
    const x0 = det.xi[i];
    const y0 = det.eta[i];
    if (!(Number.isFinite(x0) && Number.isFinite(y0))) continue;
    spokes.length = 0;
    for (let i2 = 0; i2 < nd; i2++) {
      if (i2 === i) continue;
      const dx = det.xi[i2] - x0;
      const dy = det.eta[i2] - y0;
      const dd = Math.hypot(dx, dy);
      if (!(dd >= minLen)) continue;
      const phiD = Math.atan2(dy, dx);
      const slack = (2 * tol) / dd;
      const lo = lowerBound(pairs.d, dd * (1 - maxScale) - 2 * tol);
      const hi = dd * (1 + maxScale) + 2 * tol;
      for (let p = lo; p < pairs.d.length && pairs.d[p] <= hi; p++) {
        // both orientations of the unordered reference pair
        for (let o = 0; o < 2; o++) {
          const theta = wrapPi(pairs.phi[p] + (o === 0 ? 0 : Math.PI) - phiD);
          if (Math.abs(theta) > maxRot + slack) continue;
          spokes.push({ j: o === 0 ? pairs.j[p] : pairs.k[p], k: o === 0 ? pairs.k[p] : pairs.j[p], i2, theta, scale: pairs.d[p] / dd, tol: slack });
        }
      }
    }
    if (spokes.length < minSpokes) continue;
    spokes.sort((a, b) => a.j - b.j || a.i2 - b.i2 || a.k - b.k);
    for (let g0 = 0; g0 < spokes.length; ) {
      let g1 = g0;
      while (g1 < spokes.length && spokes[g1].j === spokes[g0].j) g1++;
      if (g1 - g0 >= minSpokes) {
        const members = consistentSpokes(spokes, g0, g1);
        if (members.length >= minSpokes) {
          const r = verify(ctx, i, spokes[g0].j, members);
          tried++;
          if (r && r.nMatched >= minMatches && (!best || r.nMatched > best.nMatched || (r.nMatched === best.nMatched && r.rms < best.rms))) best = r;
          if (best && best.nMatched >= acceptFraction * Math.min(nd, nr)) {
            best.tried = tried;
            return best;
          }
        }
      }
      g0 = g1;
    }
  }
  if (!best) return FAIL(`no pattern of ${minSpokes + 1} stars verified by ${minMatches} matches (${nd} detections, ${nr} references)`, tried);
  best.tried = tried;
  return best;
}

/** The largest set of spokes in [g0, g1) agreeing on rotation and scale, with distinct detections and references. */
function consistentSpokes(s: Spoke[], g0: number, g1: number): Spoke[] {
  let bestSet: Spoke[] = [];
  for (let a = g0; a < g1; a++) {
    const set: Spoke[] = [];
    const seenI = new Set<number>();
    const seenK = new Set<number>();
    for (let b = g0; b < g1; b++) {
      const t = s[a].tol + s[b].tol;
      if (Math.abs(s[b].theta - s[a].theta) > t || Math.abs(s[b].scale - s[a].scale) > t * s[a].scale) continue;
      if (seenI.has(s[b].i2) || seenK.has(s[b].k)) continue;
      seenI.add(s[b].i2);
      seenK.add(s[b].k);
      set.push(s[b]);
    }
    if (set.length > bestSet.length) bestSet = set;
  }
  return bestSet;
}

/** What the verification of a hypothesis needs: the points used, the reference grid and the search bounds. */
interface Search {
  det: PlanePoints;
  ref: PlanePoints;
  refGrid: PlaneGrid;
  /** verification radius (arcsec) */
  radius: number;
  /** largest offset at the detections' centroid (cx, cy) */
  offsetBound: number;
  cx: number;
  cy: number;
  maxRot: number;
  maxScale: number;
  tol: number;
  q: Float64Array;
}

/** Rotation, scale and offset (at the detections' centroid) of a transform within the searched ranges plus `slack`. */
function withinBounds(c: Search, t: Similarity, slack: number): boolean {
  if (Math.abs(Math.atan2(t.b, t.a)) > c.maxRot + slack || Math.abs(Math.hypot(t.a, t.b) - 1) > c.maxScale + slack) return false;
  applySimilarity(t, c.cx, c.cy, c.q);
  return Math.hypot(c.q[0] - c.cx, c.q[1] - c.cy) <= c.offsetBound;
}

/** Fit the similarity of a hypothesis and count the one-to-one matches it gives; undefined when out of bounds. */
function verify(c: Search, i: number, j: number, members: Spoke[]): PatternResult | undefined {
  const { det, ref, refGrid, radius, tol, q } = c;
  const m = members.length + 1;
  const px = new Float64Array(m);
  const py = new Float64Array(m);
  const qx = new Float64Array(m);
  const qy = new Float64Array(m);
  px[0] = det.xi[i];
  py[0] = det.eta[i];
  qx[0] = ref.xi[j];
  qy[0] = ref.eta[j];
  members.forEach((s, k) => {
    px[k + 1] = det.xi[s.i2];
    py[k + 1] = det.eta[s.i2];
    qx[k + 1] = ref.xi[s.k];
    qy[k + 1] = ref.eta[s.k];
  });
  const t = fitSimilarity(px, py, qx, qy, m);
  if (!t) return undefined;
  // cheap bounds first (slack for the longest spoke), exact ones on the refined transform below
  let span = 0;
  for (let k = 1; k < m; k++) span = Math.max(span, Math.hypot(px[k] - px[0], py[k] - py[0]));
  if (!withinBounds(c, t, (2 * tol) / span)) return undefined;
  // transform the bright detections, match them one-to-one and refit on the matches, until their number stops growing
  const moved: PlanePoints = { xi: new Float64Array(det.n), eta: new Float64Array(det.n), n: det.n };
  let t2 = t;
  let m2: ReturnType<typeof matchNearest> | undefined;
  for (let iter = 0; iter < 5; iter++) {
    for (let k = 0; k < det.n; k++) {
      applySimilarity(t2, det.xi[k], det.eta[k], q);
      moved.xi[k] = q[0];
      moved.eta[k] = q[1];
    }
    const mm = matchNearest(moved, ref, radius, refGrid);
    if (mm.n < 2 || (m2 && mm.n <= m2.n)) break;
    m2 = mm;
    t2 =
      fitSimilarity(
        Array.from(mm.ia, (k) => det.xi[k]),
        Array.from(mm.ia, (k) => det.eta[k]),
        Array.from(mm.ib, (k) => ref.xi[k]),
        Array.from(mm.ib, (k) => ref.eta[k]),
        mm.n,
      ) ?? t2;
  }
  if (!m2) return undefined;
  // the pairs and residuals of the final transform
  for (let k = 0; k < det.n; k++) {
    applySimilarity(t2, det.xi[k], det.eta[k], q);
    moved.xi[k] = q[0];
    moved.eta[k] = q[1];
  }
  m2 = matchNearest(moved, ref, radius, refGrid);
  // extent of the verified detections: the rotation and scale are known to about tol / extent
  let mx = 0;
  let my = 0;
  for (let k = 0; k < m2.n; k++) {
    mx += det.xi[m2.ia[k]] / m2.n;
    my += det.eta[m2.ia[k]] / m2.n;
  }
  let ext = 0;
  for (let k = 0; k < m2.n; k++) ext = Math.max(ext, Math.hypot(det.xi[m2.ia[k]] - mx, det.eta[m2.ia[k]] - my));
  if (!(ext > 0) || !withinBounds(c, t2, (2 * tol) / ext)) return undefined;
  let ss = 0;
  for (let k = 0; k < m2.n; k++) ss += m2.dist[k] * m2.dist[k];
  return {
    ok: true,
    transform: t2,
    scale: Math.hypot(t2.a, t2.b),
    rotation: (Math.atan2(t2.b, t2.a) * 180) / Math.PI,
    det: m2.ia,
    ref: m2.ib,
    nMatched: m2.n,
    rms: m2.n > 0 ? Math.sqrt(ss / (2 * m2.n)) : NaN,
    tried: 0,
  };
}
