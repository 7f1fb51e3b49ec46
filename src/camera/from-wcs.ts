/**
 * A camera derived from the per-HDU celestial WCS of a multi-extension exposure: each 2-D image HDU with a TAN WCS
 * (CD, or PC with CDELT) is placed where its pixels land on the tangent plane about the exposure centre.
 * Only the linear TAN part is used (SIP / TPV polynomial terms are ignored); the result has no distortion field.
 */
import { FitsFile } from '../fits/file.js';
import type { Header } from '../fits/header.js';
import { UserError } from '../util/errors.js';
import { stdToFocal } from './geometry.js';
import { cdPixelScale, detectorFromLinear, median } from './linear.js';
import { skyToStd, tanPixelToSky, type TanWcs } from './tan.js';
import type { Camera, DetectorGeom, Pointing } from './types.js';
import { NO_DISTORTION } from './types.js';

/** The linear TAN WCS of a header, or undefined when it has no celestial TAN-like WCS on axes 1 and 2. */
export function headerTanWcs(h: Header): TanWcs | undefined {
  const t1 = h.getString('CTYPE1') ?? '';
  const t2 = h.getString('CTYPE2') ?? '';
  if (!/^RA---(TAN|TPV)/.test(t1) || !/^DEC--(TAN|TPV)/.test(t2)) return undefined;
  const num = (k: string, d: number): number => h.getNumber(k) ?? d;
  let cd: [number, number, number, number];
  if (h.has('CD1_1') || h.has('CD2_2') || h.has('CD1_2') || h.has('CD2_1')) {
    cd = [num('CD1_1', 0), num('CD1_2', 0), num('CD2_1', 0), num('CD2_2', 0)];
  } else {
    const c1 = num('CDELT1', 1);
    const c2 = num('CDELT2', 1);
    cd = [c1 * num('PC1_1', 1), c1 * num('PC1_2', 0), c2 * num('PC2_1', 0), c2 * num('PC2_2', 1)];
  }
  if (!(Math.abs(cd[0] * cd[3] - cd[1] * cd[2]) > 0)) return undefined;
  return { crpix: [num('CRPIX1', 0), num('CRPIX2', 0)], cd, crval: [num('CRVAL1', 0), num('CRVAL2', 0)] };
}

export interface FromWcsOptions {
  name?: string;
  /** mm; default PIXSIZE1 (microns) from the header, else 0.01 */
  pixelSize?: number;
  /** arcsec per mm; default the median pixel scale over the pixel size */
  plateScale?: number;
  /** cameraFromHdus: rotator angle (deg) of the pointing; default the one giving the first CCD rotation 0 */
  rotation?: number;
  /** exposure centre (deg); default the common CRVAL, else the mean direction of the CCD centres */
  center?: [number, number];
}

interface Ccd {
  name: string;
  width: number;
  height: number;
  wcs: TanWcs;
  pixelSize?: number;
}

/** Least-squares affine fit fp = fp0 + M p over sample points (exact for linear maps). */
function fitAffine(ps: [number, number][], fs: [number, number][]): { fp0: [number, number]; m: [number, number, number, number] } {
  // normal equations for [1, x, y]
  const a = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  const bx = [0, 0, 0];
  const by = [0, 0, 0];
  ps.forEach(([x, y], i) => {
    const v = [1, x, y];
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) a[r * 3 + c] += v[r] * v[c];
      bx[r] += v[r] * fs[i][0];
      by[r] += v[r] * fs[i][1];
    }
  });
  const solve = (b: number[]): number[] => {
    const m = a.slice();
    const rhs = b.slice();
    for (let k = 0; k < 3; k++) {
      let p = k;
      for (let r = k + 1; r < 3; r++) if (Math.abs(m[r * 3 + k]) > Math.abs(m[p * 3 + k])) p = r;
      for (let c = 0; c < 3; c++) [m[k * 3 + c], m[p * 3 + c]] = [m[p * 3 + c], m[k * 3 + c]];
      [rhs[k], rhs[p]] = [rhs[p], rhs[k]];
      for (let r = k + 1; r < 3; r++) {
        const f = m[r * 3 + k] / m[k * 3 + k];
        for (let c = k; c < 3; c++) m[r * 3 + c] -= f * m[k * 3 + c];
        rhs[r] -= f * rhs[k];
      }
    }
    const x = [0, 0, 0];
    for (let k = 2; k >= 0; k--) {
      let s = rhs[k];
      for (let c = k + 1; c < 3; c++) s -= m[k * 3 + c] * x[c];
      x[k] = s / m[k * 3 + k];
    }
    return x;
  };
  const sx = solve(bx);
  const sy = solve(by);
  return { fp0: [sx[0], sy[0]], m: [sx[1], sx[2], sy[1], sy[2]] };
}

/** Mean direction (deg) of sky positions. */
function meanDirection(pts: [number, number][]): [number, number] {
  let x = 0;
  let y = 0;
  let z = 0;
  const d2r = Math.PI / 180;
  for (const [ra, dec] of pts) {
    x += Math.cos(dec * d2r) * Math.cos(ra * d2r);
    y += Math.cos(dec * d2r) * Math.sin(ra * d2r);
    z += Math.sin(dec * d2r);
  }
  const ra = (Math.atan2(y, x) / d2r + 360) % 360;
  return [ra, Math.atan2(z, Math.hypot(x, y)) / d2r];
}

/** One image HDU of an exposure: where it is, and the detector id it gets (default: its position in the list). */
export interface HduRef {
  readonly file: string;
  readonly hdu: number;
  readonly id?: number;
}

/** The CCD description of one image HDU, or undefined when it has no usable celestial TAN WCS. */
function ccdOfHeader(h: Header, compressed: boolean, fallbackName: string): Ccd | undefined {
  const width = h.getInt(compressed ? 'ZNAXIS1' : 'NAXIS1') ?? 0;
  const height = h.getInt(compressed ? 'ZNAXIS2' : 'NAXIS2') ?? 0;
  const wcs = headerTanWcs(h);
  if (width < 2 || height < 2 || !wcs) return undefined;
  const name = h.getString('EXTNAME') || h.getString('DETNAME') || h.getString('DETPOS') || fallbackName;
  const pix = h.getNumber('PIXSIZE1');
  return { name: name.trim(), width, height, wcs, ...(pix ? { pixelSize: pix / 1000 } : {}) };
}

/** A camera from the headers of a multi-extension FITS exposure (UserError when it has no usable HDU). */
export function cameraFromWcs(mefFile: string, opts: FromWcsOptions = {}): Camera {
  const f = FitsFile.open(mefFile);
  const ccds: (Ccd & { id: number })[] = [];
  try {
    for (const hdu of f.hdus) {
      const compressed = hdu.type === 'compressed-image';
      if (hdu.type !== 'image' && !compressed) continue;
      const c = ccdOfHeader(hdu.header, compressed, `hdu${hdu.index}`);
      if (c) ccds.push({ ...c, id: ccds.length });
    }
  } finally {
    f.close();
  }
  if (!ccds.length) throw new UserError(`${mefFile}: no image HDU with a celestial TAN WCS`);
  return cameraFromCcds(ccds, opts, `camera derived from the WCS of ${mefFile}`).camera;
}

/**
 * The camera and nominal pointing of an exposure whose CCDs are image HDUs of
 * possibly separate files, from their headers' linear TAN WCS. A HDU without one is a UserError naming it
 * (with `skipBad`, it is left out).
 */
export function cameraFromHdus(refs: readonly HduRef[], opts: FromWcsOptions & { skipBad?: boolean } = {}): { camera: Camera; pointing: Pointing } {
  const ccds: (Ccd & { id: number })[] = [];
  refs.forEach((r, i) => {
    try {
      const f = FitsFile.open(r.file);
      try {
        const hdu = f.hdu(r.hdu);
        const c = ccdOfHeader(hdu.header, hdu.type === 'compressed-image', `hdu${r.hdu}`);
        if (!c) throw new UserError(`${r.file}[${r.hdu}]: no celestial TAN WCS to place the CCD in the focal plane`);
        ccds.push({ ...c, id: r.id ?? i });
      } finally {
        f.close();
      }
    } catch (e) {
      // skipBad: an unreadable CCD is left out of the camera (it fails alone later)
      if (!opts.skipBad) throw e;
    }
  });
  if (!ccds.length) throw new UserError('no CCD with a celestial TAN WCS to derive a camera from');
  // rotator angle: the one that turns the first CCD's pixel axes onto the focal-plane axes (rotation 0 for a
  // camera whose CCDs share one orientation), so PSF stamps of most CCDs need no re-orientation
  const first = cameraFromCcds(ccds, opts, '', 0);
  const rotator = opts.rotation ?? first.camera.detectors[0].rotation;
  return cameraFromCcds(ccds, opts, "camera derived from the raw headers' WCS", rotator);
}

function cameraFromCcds(ccds: readonly (Ccd & { id: number })[], opts: FromWcsOptions, description: string, rotator = 0): { camera: Camera; pointing: Pointing } {
  const sameCrval = ccds.every((c) => Math.abs(c.wcs.crval[0] - ccds[0].wcs.crval[0]) < 1e-9 && Math.abs(c.wcs.crval[1] - ccds[0].wcs.crval[1]) < 1e-9);
  const center =
    opts.center ??
    (sameCrval
      ? ([ccds[0].wcs.crval[0], ccds[0].wcs.crval[1]] as [number, number])
      : meanDirection(ccds.map((c) => tanPixelToSky(c.wcs, (c.width + 1) / 2, (c.height + 1) / 2))));
  const pixelSize = opts.pixelSize ?? ccds[0].pixelSize ?? 0.01;
  const plateScale = opts.plateScale ?? median(ccds.map((c) => cdPixelScale(c.wcs.cd))) / pixelSize;
  const detectors: DetectorGeom[] = ccds.map((c) => {
    const ps: [number, number][] = [];
    const fs: [number, number][] = [];
    for (const fy of [0, 0.5, 1]) {
      for (const fx of [0, 0.5, 1]) {
        const x = fx * (c.width - 1);
        const y = fy * (c.height - 1);
        const [ra, dec] = tanPixelToSky(c.wcs, x + 1, y + 1);
        const [xi, eta] = skyToStd(ra, dec, center[0], center[1]);
        ps.push([x, y]);
        fs.push(stdToFocal(plateScale, rotator, xi, eta));
      }
    }
    const { fp0, m } = fitAffine(ps, fs);
    return detectorFromLinear(c.id, c.name, c.width, c.height, pixelSize, fp0, m);
  });
  return {
    camera: { name: opts.name ?? 'from-wcs', description, plateScale, detectors, distortion: NO_DISTORTION },
    pointing: { ra: center[0], dec: center[1], rotation: rotator },
  };
}
