/**
 * Celestial FITS WCS: pixel <-> sky for TAN, SIN, ZEA, ARC, STG, ZPN projections with SIP or TPV
 * distortion, and DSS plate solutions.
 *
 * PIXEL CONVENTION: every pixel coordinate in this API is 1-BASED, as in FITS and SExtractor's
 * X_IMAGE/Y_IMAGE: the centre of the first pixel is (1, 1). Add 1 to 0-based array indices.
 * Sky coordinates are degrees in the WCS's own frame (see `radesys`): longitude in [0, 360), latitude.
 * For RADESYS = FK5 (any EQUINOX given as 2000) or ICRS we treat the result as ICRS/J2000: the two
 * frames differ by less than 0.03 arcsec, and no precession or frame conversion is applied (FK4/B1950
 * or other equinoxes are returned as they are; check `radesys`/`equinox`).
 *
 * Pixel -> sky: (SIP) -> CD matrix -> (TPV | DSS polynomial) -> projection -> rotation.
 * Sky -> pixel: exact inverse projection, then the polynomial steps are inverted by Newton's method
 * (SIP AP/BP, when present, only give the starting point), converged to 1e-10 pixel.
 */
import { FitsError } from '../fits/errors.js';
import type { Header } from '../fits/header.js';
import { dssLinear, dssMap } from './wcs-dss.js';
import { readWcsParams, wcsHeader, writeWcsParams, type WcsParams } from './wcs-header.js';
import type { PolyMap } from './wcs-poly.js';
import { makeProjection, nativeToCelestialMatrix, type Projection } from './wcs-proj.js';
import { sipForward, sipReverse } from './wcs-sip.js';
import { tpvMap } from './wcs-tpv.js';

export type { WcsParams } from './wcs-header.js';
export type { SipParams } from './wcs-sip.js';
export type { TpvParams } from './wcs-tpv.js';

const D2R = Math.PI / 180;
const R2D = 180 / Math.PI;
/** Newton tolerance of the inverse, in pixels. */
const INVERSE_TOL_PX = 1e-10;

function projectionOrFail(p: WcsParams): Projection {
  try {
    return makeProjection(p.projection, p.pv);
  } catch (e) {
    throw new FitsError(`invalid WCS: ${(e as Error).message}`);
  }
}

/** A celestial WCS ready for transformations. Not thread-safe (scratch state); cheap to construct. */
export class Wcs {
  readonly params: WcsParams;
  readonly projection: Projection;
  private readonly c1: number;
  private readonly c2: number;
  private readonly m: Float64Array;
  private readonly mi: Float64Array;
  private readonly sip: PolyMap | undefined;
  private readonly sipRev: PolyMap | undefined;
  private readonly post: PolyMap | undefined;
  /** Linear start for inverting `post`: guess = J0^-1 (target - f0). */
  private readonly postStart: Float64Array;
  private readonly postTol: number;
  private readonly lng: 0 | 1;
  private readonly rot: Float64Array;
  private readonly v = new Float64Array(3);
  private readonly q = new Float64Array(2);
  /** Result of the last fwd/inv call. */
  private r0 = 0;
  private r1 = 0;

  constructor(params: WcsParams) {
    this.params = params;
    const fail = (m: string): never => {
      throw new FitsError(`invalid WCS: ${m}`);
    };
    this.projection = projectionOrFail(params);
    let crpix = params.crpix;
    let m = params.cd;
    if (params.dss) {
      const lin = dssLinear(params.dss);
      crpix = lin.crpix;
      m = lin.matrix;
      this.post = dssMap(params.dss);
    } else if (params.tpv) {
      this.post = tpvMap(params.tpv);
    }
    this.c1 = crpix[0];
    this.c2 = crpix[1];
    const det = m[0] * m[3] - m[1] * m[2];
    if (!(det !== 0 && Number.isFinite(det))) fail(`singular CD matrix [${m.join(', ')}]`);
    this.m = Float64Array.from(m);
    this.mi = Float64Array.of(m[3] / det, -m[1] / det, -m[2] / det, m[0] / det);
    if (params.sip) {
      this.sip = sipForward(params.sip);
      this.sipRev = sipReverse(params.sip);
    }
    this.postStart = new Float64Array(6);
    this.postTol = INVERSE_TOL_PX * Math.sqrt(Math.abs(det));
    if (this.post) {
      const p = this.post;
      p.evalGrad(0, 0);
      const d = p.fx * p.gy - p.fy * p.gx;
      if (!(d !== 0 && Number.isFinite(d))) fail('the distortion polynomial is singular at the reference point');
      this.postStart.set([p.f, p.g, p.gy / d, -p.fy / d, -p.gx / d, p.fx / d]);
    }
    this.lng = params.lngAxis;
    this.rot = nativeToCelestialMatrix(params.crval[params.lngAxis], params.crval[1 - params.lngAxis]!, params.lonpole);
  }

  /** Image width and height from the header (0 when unknown). */
  get width(): number {
    return this.params.width;
  }
  get height(): number {
    return this.params.height;
  }
  /** Reference frame (ICRS, FK5, FK4, GALACTIC, ...). */
  get radesys(): string {
    return this.params.radesys;
  }

  /** Pixel (1-based) -> sky in this.r0/r1 (deg); false (NaN) outside the projection's domain. */
  private fwd(x1: number, y1: number): boolean {
    if (!(Number.isFinite(x1) && Number.isFinite(y1))) {
      this.r0 = this.r1 = NaN;
      return false;
    }
    let u = x1 - this.c1;
    let w = y1 - this.c2;
    if (this.sip) {
      this.sip.forward(u, w);
      u = this.sip.x;
      w = this.sip.y;
    }
    const m = this.m;
    let a = m[0]! * u + m[1]! * w;
    let b = m[2]! * u + m[3]! * w;
    if (this.post) {
      this.post.forward(a, b);
      a = this.post.x;
      b = this.post.y;
    }
    const v = this.v;
    if (!(this.lng === 0 ? this.projection.toNative(a, b, v) : this.projection.toNative(b, a, v))) {
      this.r0 = this.r1 = NaN;
      return false;
    }
    const r = this.rot;
    const X = r[0]! * v[0]! + r[1]! * v[1]! + r[2]! * v[2]!;
    const Y = r[3]! * v[0]! + r[4]! * v[1]! + r[5]! * v[2]!;
    const Z = r[6]! * v[0]! + r[7]! * v[1]! + r[8]! * v[2]!;
    let lon = Math.atan2(Y, X) * R2D;
    if (lon < 0) lon += 360;
    if (lon >= 360) lon -= 360;
    this.r0 = lon;
    this.r1 = Math.atan2(Z, Math.sqrt(X * X + Y * Y)) * R2D;
    return true;
  }

  /** Sky (deg) -> 1-based pixel in this.r0/r1; false (NaN) when not projectable or not converged. */
  private inv(lon: number, lat: number): boolean {
    this.r0 = this.r1 = NaN;
    if (!(Number.isFinite(lon) && Math.abs(lat) <= 90)) return false;
    const cl = Math.cos(lat * D2R);
    const X = cl * Math.cos(lon * D2R);
    const Y = cl * Math.sin(lon * D2R);
    const Z = Math.sin(lat * D2R);
    const r = this.rot;
    const q = this.q;
    const nx = r[0]! * X + r[3]! * Y + r[6]! * Z;
    const ny = r[1]! * X + r[4]! * Y + r[7]! * Z;
    const nz = r[2]! * X + r[5]! * Y + r[8]! * Z;
    if (!this.projection.toPlane(nx, ny, nz, q)) return false;
    let a = this.lng === 0 ? q[0]! : q[1]!;
    let b = this.lng === 0 ? q[1]! : q[0]!;
    if (this.post) {
      const s = this.postStart;
      const da = a - s[0]!;
      const db = b - s[1]!;
      if (!this.post.inverse(a, b, s[2]! * da + s[3]! * db, s[4]! * da + s[5]! * db, this.postTol)) return false;
      a = this.post.x;
      b = this.post.y;
    }
    const mi = this.mi;
    let u = mi[0]! * a + mi[1]! * b;
    let w = mi[2]! * a + mi[3]! * b;
    if (this.sip) {
      let gu = u;
      let gw = w;
      if (this.sipRev) {
        this.sipRev.forward(u, w);
        gu = this.sipRev.x;
        gw = this.sipRev.y;
      }
      if (!this.sip.inverse(u, w, gu, gw, INVERSE_TOL_PX)) return false;
      u = this.sip.x;
      w = this.sip.y;
    }
    this.r0 = u + this.c1;
    this.r1 = w + this.c2;
    return true;
  }

  /** 1-based pixel (x1, y1) -> [lon, lat] in degrees (NaN outside the projection's domain). */
  pixToSky(x1: number, y1: number): [number, number] {
    this.fwd(x1, y1);
    return [this.r0, this.r1];
  }

  /** [lon, lat] in degrees -> 1-based pixel [x1, y1] (NaN when the point cannot be projected). */
  skyToPix(lon: number, lat: number): [number, number] {
    this.inv(lon, lat);
    return [this.r0, this.r1];
  }

  /**
   * Vectorised pixel -> sky over `n` objects: 1-based x1[i], y1[i] -> lon[i], lat[i] (deg).
   * No allocation. Returns the number of points that could not be transformed (set to NaN).
   */
  pixToSkyArrays(x1: ArrayLike<number>, y1: ArrayLike<number>, lon: Float64Array, lat: Float64Array, n = x1.length): number {
    let bad = 0;
    for (let i = 0; i < n; i++) {
      if (!this.fwd(x1[i]!, y1[i]!)) bad++;
      lon[i] = this.r0;
      lat[i] = this.r1;
    }
    return bad;
  }

  /** Vectorised sky -> 1-based pixel; returns the number of failures (NaN outputs). No allocation. */
  skyToPixArrays(lon: ArrayLike<number>, lat: ArrayLike<number>, x1: Float64Array, y1: Float64Array, n = lon.length): number {
    let bad = 0;
    for (let i = 0; i < n; i++) {
      if (!this.inv(lon[i]!, lat[i]!)) bad++;
      x1[i] = this.r0;
      y1[i] = this.r1;
    }
    return bad;
  }

  /** Pixel scale at the reference point from the linear part, arcsec/pixel (sqrt |det CD|). */
  pixelScale(): number {
    const m = this.m;
    const det = Math.abs(m[0]! * m[3]! - m[1]! * m[2]!);
    // For DSS the linear part is mm/pixel: scale by the plate polynomial's linear terms (deg/mm).
    if (this.post) {
      const s = this.postStart;
      const jd = 1 / Math.abs(s[2]! * s[5]! - s[3]! * s[4]!);
      return Math.sqrt(det * jd) * 3600;
    }
    return Math.sqrt(det) * 3600;
  }

  /**
   * A cone (centre lon/lat and radius, degrees) containing the image grown by `margin` pixels on each
   * side: centre at the image centre, radius the largest distance to points along the border.
   * Needs the image size (width/height > 0).
   */
  boundingCone(margin = 0): { lon: number; lat: number; radius: number } {
    const { width, height } = this.params;
    if (!(width > 0 && height > 0)) throw new FitsError('WCS: image size unknown (no NAXIS1/NAXIS2)');
    this.fwd((width + 1) / 2, (height + 1) / 2);
    const lon0 = this.r0;
    const lat0 = this.r1;
    let radius = 0;
    const steps = 16;
    for (let k = 0; k < 4 * steps; k++) {
      const t = (k % steps) / steps;
      const side = Math.floor(k / steps);
      const x = 0.5 - margin + (side === 0 ? t : side === 1 ? 1 : side === 2 ? 1 - t : 0) * (width + 2 * margin);
      const y = 0.5 - margin + (side === 0 ? 0 : side === 1 ? t : side === 2 ? 1 : 1 - t) * (height + 2 * margin);
      if (!this.fwd(x, y)) continue;
      radius = Math.max(radius, angularDistance(lon0, lat0, this.r0, this.r1));
    }
    return { lon: lon0, lat: lat0, radius };
  }

  /** The WCS as header cards (CD form); see writeWcsParams. With `into`, cards are written there. */
  toHeader(into?: Header): Header {
    return into ? writeWcsParams(into, this.params) : wcsHeader(this.params);
  }
}

/** Great-circle distance between two points (deg), accurate at all separations (Vincenty formula). */
export function angularDistance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const dl = (lon2 - lon1) * D2R;
  const p1 = lat1 * D2R;
  const p2 = lat2 * D2R;
  const c2 = Math.cos(p2);
  const a = c2 * Math.sin(dl);
  const b = Math.cos(p1) * Math.sin(p2) - Math.sin(p1) * c2 * Math.cos(dl);
  const c = Math.sin(p1) * Math.sin(p2) + Math.cos(p1) * c2 * Math.cos(dl);
  return Math.atan2(Math.sqrt(a * a + b * b), c) * R2D;
}

/**
 * The celestial WCS of a header (primary WCS, or alternate `alt` = 'A'..'Z'); undefined when the
 * header has none. Throws a one-line FitsError (naming file/HDU from header.where) when the WCS is
 * invalid or unsupported: singular CD matrix, unknown projection, missing SIP order, unpaired axis...
 * Tile-compressed image headers (ZIMAGE = T) may be passed as they are.
 */
export function celestialWcs(header: Header, alt = ''): Wcs | undefined {
  const params = readWcsParams(header, alt);
  if (!params) return undefined;
  try {
    return new Wcs(params);
  } catch (e) {
    if (e instanceof FitsError) throw e.locate(header.where.file, header.where.hdu);
    throw e;
  }
}

/** Options of makeWcs: a WCS built from numbers (e.g. by an astrometric fit). */
export interface MakeWcsOptions {
  crval: [number, number];
  crpix: [number, number];
  cd: [number, number, number, number];
  /** Default TAN. */
  projection?: 'TAN' | 'SIN' | 'ZEA' | 'ARC' | 'STG';
  sip?: WcsParams['sip'];
  tpv?: WcsParams['tpv'];
  width?: number;
  height?: number;
  /** Default ICRS. */
  radesys?: string;
  equinox?: number;
}

/** Build a Wcs (RA/DEC axes 1/2) from explicit parameters. */
export function makeWcs(o: MakeWcsOptions): Wcs {
  const projection = o.projection ?? 'TAN';
  const p: WcsParams = {
    ctype: ['RA---' + (o.tpv ? 'TPV' : projection) + (o.sip ? '-SIP' : ''), 'DEC--' + (o.tpv ? 'TPV' : projection) + (o.sip ? '-SIP' : '')],
    projection,
    lngAxis: 0,
    crpix: [...o.crpix],
    crval: [...o.crval],
    cd: [...o.cd],
    lonpole: o.crval[1] >= 90 ? 0 : 180,
    radesys: o.radesys ?? 'ICRS',
    pv: [],
    width: o.width ?? 0,
    height: o.height ?? 0,
  };
  if (o.tpv && projection !== 'TAN') throw new FitsError('invalid WCS: TPV distortion needs the TAN projection');
  if (o.sip) p.sip = o.sip;
  if (o.tpv) p.tpv = o.tpv;
  if (o.equinox !== undefined) p.equinox = o.equinox;
  return new Wcs(p);
}
