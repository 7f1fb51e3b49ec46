/**
 * SCAMP focal-plane models (.ahead): a text file of FITS-like header blocks, one per CCD, each ended by END, giving
 * the CCD's first-order TAN model about the field centre (CRPIX, CD). NAXISn may be missing: the pixel grid then
 * comes from the options, from known cameras (DECam, MegaCam) or from a leading COMMENT such as "(36x2112x4644)".
 */
import { cameraFromLinear, type LinearCcd } from './linear.js';
import type { Camera } from './types.js';

/** One header block: keyword -> number or string, plus its COMMENT lines. */
export interface AheadBlock {
  readonly values: Map<string, number | string>;
  readonly comments: string[];
}

/** Parse .ahead text into header blocks (blocks with no keyword are dropped). Throws on a malformed value. */
export function parseAhead(text: string): AheadBlock[] {
  const blocks: AheadBlock[] = [];
  let values = new Map<string, number | string>();
  let comments: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.replace(/\s+$/, '');
    if (!line.trim()) return;
    const key = line.slice(0, 8).trim().toUpperCase();
    if (key === 'END') {
      if (values.size) blocks.push({ values, comments });
      values = new Map();
      comments = [];
      return;
    }
    if (key === 'COMMENT' || key === 'HISTORY' || line.slice(8, 10) !== '= ') {
      comments.push(line.slice(8).trim());
      return;
    }
    const field = line.slice(10).trim();
    let v: number | string;
    if (field.startsWith("'")) {
      const end = field.indexOf("'", 1);
      if (end < 0) throw new RangeError(`line ${i + 1}: unterminated string for ${key}`);
      v = field.slice(1, end).trim();
    } else {
      const tok = field.split('/')[0].trim();
      v = Number(tok.replace(/[dD]/, 'E'));
      if (!tok || !Number.isFinite(v)) throw new RangeError(`line ${i + 1}: invalid value '${tok}' for ${key}`);
    }
    values.set(key, v);
  });
  if (values.size) blocks.push({ values, comments });
  return blocks;
}

/** DECam CCD names in CCDNUM order 1..62 (the order of the SCAMP DECam model). */
export const DECAM_NAMES: readonly string[] = (() => {
  const south = ['S29', 'S30', 'S31', 'S25', 'S26', 'S27', 'S28', 'S20', 'S21', 'S22', 'S23', 'S24'];
  for (let i = 14; i <= 19; i++) south.push(`S${i}`);
  for (let i = 8; i <= 13; i++) south.push(`S${i}`);
  for (let i = 1; i <= 7; i++) south.push(`S${i}`);
  const north: string[] = [];
  for (let i = 1; i <= 31; i++) north.push(`N${i}`);
  return [...south, ...north];
})();

export interface AheadOptions {
  name?: string;
  /** mm; default from a known camera, else 0.015 (only the focal-plane mm scale depends on it) */
  pixelSize?: number;
  /** pixel grid of every CCD (default NAXISn, a known camera, or the leading comment) */
  width?: number;
  height?: number;
  /** the model's 1-based pixel coordinate of our 0-based pixel (0, 0), e.g. [33, 1] to trim a prescan (default [1, 1]) */
  origin?: [number, number];
  /** CCD names in block order (default from a known camera, else 'ccdNN') */
  names?: readonly string[];
  plateScale?: number;
}

interface Known {
  name: string;
  description: string;
  pixelSize: number;
  width: number;
  height: number;
  origin: [number, number];
  names: (n: number) => string[];
}

/** Defaults for the cameras recognised from the file's leading comment. */
function knownCamera(comments: string[], count: number): Known | undefined {
  const text = comments.join(' ');
  if (/DECam/i.test(text) && count === 62) {
    return {
      name: 'decam',
      description: 'DECam (CTIO Blanco): 62 CCDs of 2040x4088 trimmed 15 um pixels, from the SCAMP first-order model',
      pixelSize: 0.015,
      width: 2040,
      height: 4088,
      origin: [1, 1],
      names: () => [...DECAM_NAMES],
    };
  }
  if (/MEGACAM/i.test(text) && count === 36) {
    // the model's grid is the spliced raw CCD, 2112x4644 with the 2048x4612 imaging area at [33:2080, 1:4612]
    return {
      name: 'megacam',
      description: 'MegaCam (CFHT): 36 CCDs, 2048x4612 imaging area of 13.5 um pixels, from the SCAMP first-order model',
      pixelSize: 0.0135,
      width: 2048,
      height: 4612,
      origin: [33, 1],
      names: (n) => Array.from({ length: n }, (_, i) => `ccd${String(i).padStart(2, '0')}`),
    };
  }
  return undefined;
}

/** A camera from .ahead text (see cameraFromLinear: no distortion field; per-CCD residual affines). */
export function cameraFromAhead(text: string, opts: AheadOptions = {}): Camera {
  const blocks = parseAhead(text);
  if (!blocks.length) throw new RangeError('no header blocks');
  const comments = blocks[0].comments;
  const known = knownCamera(comments, blocks.length);
  const grid = /(\d+)\s*x\s*(\d+)\s*x\s*(\d+)/i.exec(comments.join(' '));
  const names = opts.names ?? known?.names(blocks.length) ?? blocks.map((_, i) => `ccd${String(i).padStart(2, '0')}`);
  if (names.length !== blocks.length) throw new RangeError(`${names.length} names for ${blocks.length} CCDs`);
  const ccds: LinearCcd[] = blocks.map((b, i) => {
    const num = (k: string): number | undefined => {
      const v = b.values.get(k);
      return typeof v === 'number' ? v : undefined;
    };
    const need = (k: string): number => {
      const v = num(k);
      if (v === undefined) throw new RangeError(`CCD ${i + 1}: missing ${k}`);
      return v;
    };
    for (const k of ['CTYPE1', 'CTYPE2']) {
      const t = b.values.get(k);
      if (t !== undefined && !/-TAN$/.test(String(t))) throw new RangeError(`CCD ${i + 1}: ${k} '${String(t)}' is not TAN`);
    }
    const width = opts.width ?? num('NAXIS1') ?? known?.width ?? (grid ? Number(grid[2]) : undefined);
    const height = opts.height ?? num('NAXIS2') ?? known?.height ?? (grid ? Number(grid[3]) : undefined);
    if (!width || !height) throw new RangeError(`CCD ${i + 1}: pixel grid unknown (no NAXIS1/NAXIS2): give width and height`);
    return {
      name: names[i],
      width,
      height,
      crpix: [need('CRPIX1'), need('CRPIX2')],
      cd: [need('CD1_1'), num('CD1_2') ?? 0, num('CD2_1') ?? 0, need('CD2_2')],
      origin: opts.origin ?? known?.origin ?? [1, 1],
    };
  });
  return cameraFromLinear(ccds, {
    name: opts.name ?? known?.name ?? 'ahead',
    description: known?.description ?? (comments[0] || 'camera from a SCAMP .ahead model'),
    pixelSize: opts.pixelSize ?? known?.pixelSize ?? 0.015,
    plateScale: opts.plateScale,
  });
}
