/**
 * Loading and saving cameras. `loadCamera` accepts a built-in name ('lsstcam', 'decam', 'megacam', 'test': the
 * committed data/cameras/<name>.json), a camera .json file, or a SCAMP .ahead file. Bad input gives a UserError.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/errors.js';
import { cameraFromAhead, type AheadOptions } from './ahead.js';
import type { Camera, DetectorGeom, Distortion } from './types.js';

export const BUILTIN_CAMERAS = ['lsstcam', 'decam', 'megacam', 'test'] as const;

/** Format tag written in camera JSON files. */
export const CAMERA_FORMAT = 'lsst-pipe-camera';

/** data/cameras of this package (found by walking up from this module: works from src/ and dist/). */
export function camerasDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const cand = path.join(dir, 'data', 'cameras');
    if (existsSync(path.join(cand, 'lsstcam.json'))) return cand;
    dir = path.dirname(dir);
  }
  throw new Error('data/cameras not found next to the package');
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Validate a parsed camera object; throws RangeError naming the first problem. */
export function validateCamera(o: unknown): Camera {
  const c = o as Record<string, unknown>;
  if (!c || typeof c !== 'object') throw new RangeError('not a JSON object');
  if (typeof c.name !== 'string' || !c.name) throw new RangeError('missing camera name');
  if (!isNum(c.plateScale) || c.plateScale <= 0) throw new RangeError('plateScale must be a positive number (arcsec/mm)');
  const d = (c.distortion ?? { rRef: 1, k1: 0, k2: 0 }) as Record<string, unknown>;
  for (const k of ['rRef', 'k1', 'k2']) if (!isNum(d[k])) throw new RangeError(`distortion.${k} must be a number`);
  for (const k of ['p1', 'p2']) if (d[k] !== undefined && !isNum(d[k])) throw new RangeError(`distortion.${k} must be a number`);
  if (!((d.rRef as number) > 0)) throw new RangeError('distortion.rRef must be > 0');
  if (!Array.isArray(c.detectors) || !c.detectors.length) throw new RangeError('detectors must be a non-empty array');
  const ids = new Set<number>();
  const detectors = c.detectors.map((x: Record<string, unknown>, i: number): DetectorGeom => {
    const where = `detectors[${i}]`;
    if (!Number.isInteger(x.id) || (x.id as number) < 0 || (x.id as number) > 99999) throw new RangeError(`${where}.id must be an integer 0..99999`);
    if (ids.has(x.id as number)) throw new RangeError(`${where}: duplicate id ${String(x.id)}`);
    ids.add(x.id as number);
    if (typeof x.name !== 'string') throw new RangeError(`${where}.name must be a string`);
    for (const k of ['width', 'height']) if (!Number.isInteger(x[k]) || (x[k] as number) < 1) throw new RangeError(`${where}.${k} must be a positive integer`);
    if (!isNum(x.pixelSize) || x.pixelSize <= 0) throw new RangeError(`${where}.pixelSize must be > 0 (mm)`);
    if (!Array.isArray(x.center) || x.center.length !== 2 || !x.center.every(isNum)) throw new RangeError(`${where}.center must be [x, y] (mm)`);
    if (!isNum(x.rotation)) throw new RangeError(`${where}.rotation must be a number (deg)`);
    if (x.flip !== undefined && typeof x.flip !== 'boolean') throw new RangeError(`${where}.flip must be a boolean`);
    if (x.affine !== undefined && !(Array.isArray(x.affine) && x.affine.length === 4 && x.affine.every(isNum))) {
      throw new RangeError(`${where}.affine must be [a11, a12, a21, a22]`);
    }
    return {
      id: x.id as number,
      name: x.name,
      width: x.width as number,
      height: x.height as number,
      pixelSize: x.pixelSize,
      center: [x.center[0], x.center[1]],
      rotation: x.rotation,
      ...(x.flip ? { flip: true } : {}),
      ...(x.affine ? { affine: x.affine as [number, number, number, number] } : {}),
    };
  });
  const distortion: Distortion = { rRef: d.rRef as number, k1: d.k1 as number, k2: d.k2 as number, p1: (d.p1 as number) ?? 0, p2: (d.p2 as number) ?? 0 };
  return {
    name: c.name,
    ...(typeof c.description === 'string' ? { description: c.description } : {}),
    plateScale: c.plateScale,
    detectors,
    distortion,
  };
}

/** The camera as pretty, stable JSON text (the data/cameras format). */
export function cameraToJson(cam: Camera): string {
  const detectors = cam.detectors.map((d) => JSON.stringify(d));
  const head = {
    format: CAMERA_FORMAT,
    version: 1,
    name: cam.name,
    description: cam.description ?? '',
    conventions:
      'pixels 0-based (FITS = +1); fp = center + pixelSize * R(rotation) * diag(1, flip ? -1 : 1) * affine * (p - ((width-1)/2, (height-1)/2)), mm; ' +
      'rotator 0: +y north, +x west; plateScale arcsec/mm; distortion maps ideal to actual focal plane (see src/camera/types.ts)',
    plateScale: cam.plateScale,
    distortion: cam.distortion,
  };
  const body = JSON.stringify(head, null, 2).replace(/\n}$/, '');
  return `${body},\n  "detectors": [\n    ${detectors.join(',\n    ')}\n  ]\n}\n`;
}

/**
 * Load a camera: a built-in name, a .json camera file, or a SCAMP .ahead file (options for .ahead grids).
 * Throws UserError with a one-line message on a missing or malformed file.
 */
export function loadCamera(nameOrPath: string, aheadOpts: AheadOptions = {}): Camera {
  const key = nameOrPath.trim();
  let file: string;
  if ((BUILTIN_CAMERAS as readonly string[]).includes(key.toLowerCase())) file = path.join(camerasDir(), `${key.toLowerCase()}.json`);
  else file = key;
  if (!existsSync(file)) {
    throw new UserError(`camera '${nameOrPath}': not a built-in camera (${BUILTIN_CAMERAS.join(', ')}) nor an existing .json / .ahead file`);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`${file}: cannot read camera (${(e as Error).message})`);
  }
  try {
    if (/\.ahead$/i.test(file) || /^(COMMENT|CRPIX1|CTYPE1)\s/m.test(text.slice(0, 400))) return cameraFromAhead(text, aheadOpts);
    return validateCamera(JSON.parse(text));
  } catch (e) {
    throw new UserError(`${file}: invalid camera (${(e as Error).message.split('\n')[0]})`);
  }
}
