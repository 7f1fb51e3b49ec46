/**
 * Reading and writing the celestial FITS WCS of a header (Greisen & Calabretta 2002, Paper I;
 * Calabretta & Greisen 2002, Paper II): CTYPEi, CRPIXi, CRVALi, CDi_j or PCi_j + CDELTi (or the
 * deprecated CROTA2), CUNITi, LONPOLE, RADESYS, EQUINOX, projection parameters PVi_m, plus SIP and TPV
 * distortions and DSS plate solutions.
 *
 * Precedence as in WCSLIB: PCi_j over CDi_j over CROTA<lat>; unset CDi_j are 0; unset PCi_j come from
 * the identity. Only celestial axes 1 and 2 (in either order) are supported. All supported projections
 * are zenithal (reference point at the native pole), so the celestial pole follows from CRVAL and
 * LONPOLE alone and LATPOLE is not needed. CTYPE 'TAN' with PVi_m keywords is read as TPV (SCAMP's
 * original convention, as SExtractor/SCAMP read it; WCSLIB rejects such headers).
 */
import { FitsError } from '../fits/errors.js';
import { Header } from '../fits/header.js';
import { hasDss, readDss, type DssParams } from './wcs-dss.js';
import { ZENITHAL_CODES } from './wcs-proj.js';
import { readSip, writeSip, type SipParams } from './wcs-sip.js';
import { readTpv, writeTpv, type TpvParams } from './wcs-tpv.js';

/** A celestial WCS as read from (or to be written to) a header. Angles in degrees, pixels 1-based. */
export interface WcsParams {
  /** CTYPE1, CTYPE2 as they stand (e.g. 'RA---TAN-SIP'); for DSS solutions, the equivalent 'RA---TAN'. */
  ctype: [string, string];
  /** Projection code: TAN, SIN, ZEA, ARC, STG, ZPN; TPV distortion and DSS solutions use TAN. */
  projection: string;
  /** Which header axis (0 = axis 1) is the longitude. */
  lngAxis: 0 | 1;
  /** Reference pixel (1-based); unused for DSS solutions (the plate model in `dss` replaces CRPIX and CD). */
  crpix: [number, number];
  /** Reference point (deg) in header axis order; for DSS, the plate centre. */
  crval: [number, number];
  /** CD matrix row-major [CD1_1, CD1_2, CD2_1, CD2_2] in deg/pixel (PC x CDELT, CROTA and CUNIT folded in). */
  cd: [number, number, number, number];
  /** Native longitude of the celestial pole (deg), default resolved. */
  lonpole: number;
  /** Reference frame: RADESYS (default per Paper II from EQUINOX), or GALACTIC/ECLIPTIC/... from CTYPE. */
  radesys: string;
  equinox?: number;
  /** Projection parameters PV<lat>_0..20 (undefined where unset). */
  pv: (number | undefined)[];
  sip?: SipParams;
  tpv?: TpvParams;
  dss?: DssParams;
  /** Image size (NAXIS1/2 or ZNAXIS1/2 of a tile-compressed image); 0 when unknown. */
  width: number;
  height: number;
}

const UNIT_DEG: Record<string, number> = { '': 1, DEG: 1, DEGREE: 1, DEGREES: 1, ARCMIN: 1 / 60, ARCSEC: 1 / 3600, MAS: 1 / 3_600_000, RAD: 180 / Math.PI };

interface AxisType {
  kind: 'lng' | 'lat';
  /** Pairing key: lng and lat axes of one system share it ('RA/DEC' -> 'EQ', 'GLON/GLAT' -> 'G', ...). */
  sys: string;
  proj: string;
  suffix: string;
}

/** Classify a CTYPE value; undefined when not a celestial axis. Throws via fail on a malformed one. */
function axisType(ctype: string, key: string, fail: (m: string) => never): AxisType | undefined {
  const s = ctype.trim().toUpperCase();
  const coord = s.slice(0, 4).replace(/-+$/, '');
  let kind: 'lng' | 'lat' | undefined;
  let sys = '';
  if (coord === 'RA' || coord === 'DEC') [kind, sys] = [coord === 'RA' ? 'lng' : 'lat', 'EQ'];
  else if (/^[A-Z]LON$/.test(coord) || /^[A-Z]LAT$/.test(coord)) [kind, sys] = [coord.endsWith('LON') ? 'lng' : 'lat', coord[0]!];
  else if (/^[A-Z]{2}LN$/.test(coord) || /^[A-Z]{2}LT$/.test(coord)) [kind, sys] = [coord.endsWith('LN') ? 'lng' : 'lat', coord.slice(0, 2)];
  if (!kind) return undefined;
  if (s.length < 8 || s[4] !== '-') fail(`${key} = '${ctype}' has no projection code`);
  return { kind, sys, proj: s.slice(5, 8), suffix: s.slice(8) };
}

/** Parse the celestial WCS of a header; undefined when it has none. Throws FitsError when it is invalid. */
export function readWcsParams(h: Header, alt = ''): WcsParams | undefined {
  const fail = (m: string): never => {
    throw new FitsError(`invalid WCS: ${m}`, h.where.file, h.where.hdu);
  };
  const k = (name: string): string => name + alt;
  const compressed = h.getBool('ZIMAGE', false);
  const width = h.getNumber(compressed ? 'ZNAXIS1' : 'NAXIS1', 0);
  const height = h.getNumber(compressed ? 'ZNAXIS2' : 'NAXIS2', 0);
  const naxes = Math.min(99, Math.max(2, h.getNumber(k('WCSAXES'), 0), h.getNumber(compressed ? 'ZNAXIS' : 'NAXIS', 0)));
  const types: (AxisType | undefined)[] = [];
  for (let i = 1; i <= naxes; i++) {
    const ct = h.getString(k(`CTYPE${i}`));
    types.push(ct === undefined ? undefined : axisType(ct, k(`CTYPE${i}`), fail));
  }
  const lngIdx = types.findIndex((t) => t?.kind === 'lng');
  const latIdx = types.findIndex((t) => t?.kind === 'lat');
  if (lngIdx < 0 && latIdx < 0) return alt === '' && hasDss(h) ? dssParams(h, width, height, fail) : undefined;
  if (lngIdx < 0 || latIdx < 0) {
    const i = Math.max(lngIdx, latIdx);
    fail(`CTYPE${i + 1}${alt} = '${h.getString(k(`CTYPE${i + 1}`))}' has no matching ${lngIdx < 0 ? 'longitude' : 'latitude'} axis`);
  }
  if (lngIdx > 1 || latIdx > 1) fail(`celestial axes ${lngIdx + 1} and ${latIdx + 1}: only axes 1 and 2 are supported`);
  const lt = types[lngIdx]!;
  const at = types[latIdx]!;
  if (lt.sys !== at.sys) fail(`CTYPE${lngIdx + 1}${alt} and CTYPE${latIdx + 1}${alt} are not a longitude/latitude pair`);
  if (lt.proj !== at.proj || lt.suffix !== at.suffix) fail(`CTYPE1${alt} and CTYPE2${alt} use different projections`);
  if (lt.suffix !== '' && lt.suffix !== '-SIP') fail(`unsupported CTYPE suffix '${lt.suffix}' in CTYPE1${alt}`);
  const lngAxis = lngIdx as 0 | 1;
  const latAxis = (1 - lngAxis) as 0 | 1;
  if (lt.proj !== 'TPV' && !(ZENITHAL_CODES as readonly string[]).includes(lt.proj)) {
    fail(`unsupported projection '${lt.proj}' in CTYPE1${alt} (supported: ${ZENITHAL_CODES.join(', ')}, TPV, with optional -SIP)`);
  }

  const num = (key: string, dflt: number): number => {
    const v = h.getNumber(key, dflt);
    if (!Number.isFinite(v)) fail(`${key} is not finite`);
    return v;
  };
  const unit = (i: number): number => {
    const u = (h.getString(k(`CUNIT${i}`)) ?? '').trim().toUpperCase();
    const f = UNIT_DEG[u];
    if (f === undefined) fail(`CUNIT${i}${alt} = '${u}' is not an angle unit`);
    return f;
  };
  const units = [unit(1), unit(2)];
  const crpix: [number, number] = [num(k('CRPIX1'), 0), num(k('CRPIX2'), 0)];
  const crval: [number, number] = [num(k('CRVAL1'), 0) * units[0]!, num(k('CRVAL2'), 0) * units[1]!];
  const cd = linearMatrix(h, alt, latAxis, units, num);
  const det = cd[0] * cd[3] - cd[1] * cd[2];
  const scale = Math.max(...cd.map(Math.abs));
  if (!(Math.abs(det) > 1e-14 * scale * scale)) fail(`singular CD matrix [${cd.join(', ')}]`);
  const lat0 = crval[latAxis];
  if (Math.abs(lat0) > 90) fail(`reference latitude CRVAL${latAxis + 1}${alt} = ${lat0} is outside [-90, 90]`);

  // Projection parameters PV<lat>_m (SIN: 1, 2; ZPN: 0..20); the native reference point (PV<lng>_1, _2)
  // must be the default.
  const pv: (number | undefined)[] = [];
  const npv = lt.proj === 'SIN' ? 3 : lt.proj === 'ZPN' ? 21 : 0;
  for (let m = 0; m < npv; m++) pv.push(h.getNumber(k(`PV${latAxis + 1}_${m}`)));
  let projection = lt.proj;
  let tpv: TpvParams | undefined;
  let sip: SipParams | undefined;
  if (lt.suffix === '-SIP') {
    if (projection === 'TPV') fail(`CTYPE1${alt} combines TPV with -SIP`);
    sip = readSip(h, fail);
  } else if (projection === 'TPV' || projection === 'TAN') {
    // TAN with PV keywords is SCAMP's original form of TPV (read so by SExtractor/SCAMP; WCSLIB refuses it).
    tpv = readTpv(h, alt, fail);
    projection = 'TAN';
  }
  if (!tpv && !sip) {
    for (const m of [1, 2]) {
      const v = h.getNumber(k(`PV${lngAxis + 1}_${m}`));
      if (v !== undefined && v !== (m === 1 ? 0 : 90)) fail(`PV${lngAxis + 1}_${m}${alt} = ${v}: a non-default native reference point is not supported`);
    }
  }
  const lonpole = num(k('LONPOLE'), lat0 >= 90 ? 0 : 180);
  const equinox = h.getNumber(k('EQUINOX')) ?? h.getNumber('EPOCH');
  let radesys = (h.getString(k('RADESYS')) ?? h.getString(k('RADECSYS')) ?? '').trim().toUpperCase();
  if (lt.sys !== 'EQ') radesys = ({ G: 'GALACTIC', E: 'ECLIPTIC', S: 'SUPERGALACTIC', H: 'HELIOECLIPTIC' } as Record<string, string>)[lt.sys] ?? lt.sys;
  else if (radesys === '') radesys = equinox === undefined ? 'ICRS' : equinox < 1984 ? 'FK4' : 'FK5';
  const out: WcsParams = {
    ctype: [h.getString(k('CTYPE1'))!.trim(), h.getString(k('CTYPE2'))!.trim()],
    projection,
    lngAxis,
    crpix,
    crval,
    cd,
    lonpole,
    radesys,
    pv,
    width,
    height,
  };
  if (equinox !== undefined) out.equinox = equinox;
  if (sip) out.sip = sip;
  if (tpv) out.tpv = tpv;
  return out;
}

/** CD matrix from CDi_j, or PCi_j x CDELTi, or CROTA<lat> x CDELTi (WCSLIB precedence), in degrees. */
function linearMatrix(
  h: Header,
  alt: string,
  latAxis: 0 | 1,
  units: number[],
  num: (key: string, dflt: number) => number,
): [number, number, number, number] {
  const ij = [
    [1, 1],
    [1, 2],
    [2, 1],
    [2, 2],
  ];
  const hasPC = ij.some(([i, j]) => h.has(`PC${i}_${j}${alt}`));
  const hasCD = ij.some(([i, j]) => h.has(`CD${i}_${j}${alt}`));
  if (hasCD && !hasPC) return ij.map(([i, j]) => num(`CD${i}_${j}${alt}`, 0) * units[i! - 1]!) as [number, number, number, number];
  const cdelt = [num(`CDELT1${alt}`, 1) * units[0]!, num(`CDELT2${alt}`, 1) * units[1]!];
  let pc = ij.map(([i, j]) => num(`PC${i}_${j}${alt}`, i === j ? 1 : 0));
  const rotKey = `CROTA${latAxis + 1}${alt}`;
  if (!hasPC && h.has(rotKey)) {
    const rho = (num(rotKey, 0) * Math.PI) / 180;
    const c = Math.cos(rho);
    const s = Math.sin(rho);
    const lng = 1 - latAxis;
    const lat = latAxis;
    // Paper II eq. 188 written for axis indices: PC(lng,lat) = -s cdelt_lat/cdelt_lng, PC(lat,lng) = s cdelt_lng/cdelt_lat.
    pc = [c, 0, 0, c];
    pc[lng * 2 + lat] = (-s * cdelt[lat]!) / cdelt[lng]!;
    pc[lat * 2 + lng] = (s * cdelt[lng]!) / cdelt[lat]!;
  }
  // "+ 0" turns -0 (negative CDELT times a zero PC element) into 0.
  return [cdelt[0]! * pc[0]! + 0, cdelt[0]! * pc[1]! + 0, cdelt[1]! * pc[2]! + 0, cdelt[1]! * pc[3]! + 0];
}

/** Params of a DSS plate solution: TAN about the plate centre, the plate model carried in `dss`. */
function dssParams(h: Header, width: number, height: number, fail: (m: string) => never): WcsParams {
  const dss = readDss(h, fail);
  const equinox = h.getNumber('EQUINOX');
  const out: WcsParams = {
    ctype: ['RA---TAN', 'DEC--TAN'],
    projection: 'TAN',
    lngAxis: 0,
    crpix: [0, 0],
    crval: [dss.ra, dss.dec],
    cd: [1, 0, 0, 1],
    lonpole: dss.dec >= 90 ? 0 : 180,
    radesys: equinox === undefined || equinox >= 1984 ? 'FK5' : 'FK4',
    pv: [],
    dss,
    width,
    height,
  };
  if (equinox !== undefined) out.equinox = equinox;
  return out;
}

/**
 * Write a celestial WCS into a header as CTYPE/CRPIX/CRVAL/CD (degrees) + LONPOLE, RADESYS/EQUINOX,
 * projection parameters, and SIP (CTYPE suffix -SIP) or TPV (CTYPE ...-TPV) coefficients.
 * Existing WCS keywords of the same names are replaced; others (e.g. a stale PC matrix) are removed.
 * DSS plate solutions cannot be written.
 */
export function writeWcsParams(h: Header, p: WcsParams): Header {
  if (p.dss) throw new FitsError('cannot write a DSS plate solution as FITS WCS keywords', h.where.file, h.where.hdu);
  for (const key of h.keys()) {
    if (/^(PC|CD)[12]_[12]$|^CDELT[12]$|^CROTA[12]$|^CUNIT[12]$|^PV[12]_\d+$|^(A|B|AP|BP)_(ORDER|\d+_\d+)$|^LATPOLE$/.test(key)) h.delete(key);
  }
  const lat = 1 - p.lngAxis;
  const coord = (i: number): string => p.ctype[i]!.slice(0, 4).replace(/-+$/, '');
  const lngName = coord(p.lngAxis);
  const latName = coord(lat);
  const proj = p.tpv ? 'TPV' : p.projection;
  const ctype = (name: string): string => `${name.padEnd(4, '-')}-${proj}${p.sip ? '-SIP' : ''}`;
  h.set('WCSAXES', 2, 'Number of WCS axes');
  for (let i = 0; i < 2; i++) {
    h.set(`CTYPE${i + 1}`, ctype(i === p.lngAxis ? lngName : latName), i === p.lngAxis ? 'longitude axis, projection' : 'latitude axis, projection');
  }
  for (let i = 0; i < 2; i++) h.set(`CUNIT${i + 1}`, 'deg', 'unit of CRVAL and CD');
  for (let i = 0; i < 2; i++) h.set(`CRPIX${i + 1}`, p.crpix[i]!, 'reference pixel (1-based)', 'float');
  for (let i = 0; i < 2; i++) h.set(`CRVAL${i + 1}`, p.crval[i]!, 'reference point (deg)', 'float');
  const names = ['CD1_1', 'CD1_2', 'CD2_1', 'CD2_2'];
  for (let i = 0; i < 4; i++) h.set(names[i]!, p.cd[i]!, 'linear transformation (deg/pixel)', 'float');
  h.set('LONPOLE', p.lonpole, 'native longitude of the celestial pole (deg)', 'float');
  if (lngName === 'RA') {
    h.set('RADESYS', p.radesys, 'reference frame');
    if (p.equinox !== undefined) h.set('EQUINOX', p.equinox, 'equinox of the reference frame', 'float');
  }
  if (!p.tpv) {
    p.pv.forEach((v, m) => {
      if (v !== undefined) h.set(`PV${lat + 1}_${m}`, v, 'projection parameter', 'float');
    });
  }
  if (p.sip) writeSip(h, p.sip);
  if (p.tpv) writeTpv(h, p.tpv);
  return h;
}

/** A new header holding only the WCS cards of `p` (see writeWcsParams). */
export function wcsHeader(p: WcsParams): Header {
  return writeWcsParams(new Header(), p);
}
