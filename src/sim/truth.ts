/**
 * The truth table of a simulated image: one row per object, column arrays (typed where numeric).
 */
import { SIM_MASK } from './detector.js';
import type { IntPlane } from '../image/types.js';

export const OBJ_TYPE = { STAR: 0, GALAXY: 1 } as const;

/** Truth columns; row k describes object id[k] = k + 1. */
export interface TruthTable {
  readonly count: number;
  readonly id: Int32Array;
  /** OBJ_TYPE.STAR or OBJ_TYPE.GALAXY */
  readonly type: Uint8Array;
  /** centre, 1-based pixel coordinates (SExtractor X_IMAGE / Y_IMAGE convention) */
  readonly x: Float64Array;
  readonly y: Float64Array;
  /** total flux, ADU (all of the profile, as the magnitude says) */
  readonly flux: Float64Array;
  /** magnitude with the simulation's zero point: zp - 2.5 log10(flux) */
  readonly mag: Float64Array;
  /** flux actually deposited inside the image (after stamp truncation and the image edges, before noise), ADU */
  readonly fluxInImage: Float64Array;
  /** brightest noiseless pixel of the object alone (no sky, no bias), ADU */
  readonly peak: Float64Array;
  /** FWHM of the PSF at the object's position, pixels (circularised) */
  readonly fwhm: Float64Array;
  /** the object's own ellipticity (distortion): the PSF's for stars, the intrinsic (pre-PSF) shape for galaxies */
  readonly e1: Float64Array;
  readonly e2: Float64Array;
  /** the PSF's ellipticity at the object's position */
  readonly psfE1: Float64Array;
  readonly psfE2: Float64Array;
  /** Sersic index and circularised half-light radius (pixels) of galaxies; NaN for stars */
  readonly sersicN: Float64Array;
  readonly rHalf: Float64Array;
  /** 1 if a pixel within one pixel of the centre is saturated or holds bled charge */
  readonly saturated: Uint8Array;
}

/** An empty (zero-filled) table for n objects. */
export function makeTruth(n: number): TruthTable {
  const f = () => new Float64Array(n);
  const id = new Int32Array(n);
  for (let i = 0; i < n; i++) id[i] = i + 1;
  return {
    count: n,
    id,
    type: new Uint8Array(n),
    x: f(),
    y: f(),
    flux: f(),
    mag: f(),
    fluxInImage: f(),
    peak: f(),
    fwhm: f(),
    e1: f(),
    e2: f(),
    psfE1: f(),
    psfE2: f(),
    sersicN: f(),
    rHalf: f(),
    saturated: new Uint8Array(n),
  };
}

/** Flag objects whose centre pixel or a neighbour is saturated or bled into. */
export function flagSaturated(truth: TruthTable, mask: IntPlane): void {
  const { width, height, data } = mask;
  const bad = SIM_MASK.SATURATED | SIM_MASK.BLEED;
  for (let k = 0; k < truth.count; k++) {
    const cx = Math.round(truth.x[k] - 1);
    const cy = Math.round(truth.y[k] - 1);
    let sat = 0;
    for (let y = Math.max(0, cy - 1); y <= Math.min(height - 1, cy + 1); y++) {
      for (let x = Math.max(0, cx - 1); x <= Math.min(width - 1, cx + 1); x++) if (data[y * width + x] & bad) sat = 1;
    }
    truth.saturated[k] = sat;
  }
}

/** The truth rows as plain objects (for JSON output or assertions). */
export function truthRows(t: TruthTable): Array<Record<string, number | string | boolean>> {
  const rows: Array<Record<string, number | string | boolean>> = [];
  for (let k = 0; k < t.count; k++) {
    rows.push({
      id: t.id[k],
      type: t.type[k] === OBJ_TYPE.STAR ? 'star' : 'galaxy',
      x: t.x[k],
      y: t.y[k],
      flux: t.flux[k],
      mag: t.mag[k],
      fluxInImage: t.fluxInImage[k],
      peak: t.peak[k],
      fwhm: t.fwhm[k],
      e1: t.e1[k],
      e2: t.e2[k],
      psfE1: t.psfE1[k],
      psfE2: t.psfE2[k],
      sersicN: t.sersicN[k],
      rHalf: t.rHalf[k],
      saturated: t.saturated[k] === 1,
    });
  }
  return rows;
}
