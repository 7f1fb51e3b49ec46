/**
 * One detector of a simulated visit: collect the sky objects landing on it (true pointing, distortion, geometry),
 * render them over the focal-plane background, pass the expected electrons through the per-CCD simulator's detector
 * stage (detector.ts: Poisson and read noise, cosmic rays, hot pixels, bad columns, bleeding above full well, gain,
 * 16-bit ADC) and return the raw pixels with the truth rows. Depends only on (visit model, detector): any subset,
 * in any order, gives identical results.
 */
import { pixelToFocal, pixelToSky, skyToPixel } from '../camera/geometry.js';
import { skyToStd } from '../camera/tan.js';
import type { DetectorGeom } from '../camera/types.js';
import { Rng } from './rng.js';
import { detect, SIM_MASK } from './detector.js';
import { VISIT_PURPOSE, type VisitModel } from './visit-model.js';
import { fillBackground, MAX_GALAXY_RADIUS, MAX_STAR_RADIUS, renderGalaxy, renderStar } from './visit-render.js';
import { cellGalaxies, cellRange, cellStars } from './visit-scene.js';
import { backgroundAtFocal, psfInPixels, shapeInPixels } from './visit-truth.js';

/** Truth of one object whose centre lies on the detector. Pixel coordinates 1-based. */
export interface TruthRow {
  id: number;
  type: 'star' | 'galaxy';
  x: number;
  y: number;
  ra: number;
  dec: number;
  /** total flux, ADU */
  flux: number;
  mag: number;
  /** PSF at the object: FWHM (pixels) and ellipticity in pixel axes */
  fwhm: number;
  e1: number;
  e2: number;
  /** galaxies: intrinsic half-light radius (pixels), Sersic index and ellipticity in pixel axes (0 for stars) */
  rHalf: number;
  sersicN: number;
  shapeE1: number;
  shapeE2: number;
  inRefcat: boolean;
  /** noise-free peak of the object plus background reaches the saturation level */
  saturated: boolean;
  /** noise-free peak pixel of the object alone, ADU */
  peak: number;
}

/** A bad column: 0-based column x, dead from row y0 to y1 (inclusive). */
export interface BadColumn {
  readonly x: number;
  readonly y0: number;
  readonly y1: number;
}

export interface SimulatedCcd {
  readonly det: DetectorGeom;
  readonly pixels: Uint16Array;
  /** SIM_MASK bits per pixel (bad column, hot pixel, cosmic ray, ADC saturation, bleed) */
  readonly mask: Uint8Array;
  readonly rows: TruthRow[];
  readonly badColumns: BadColumn[];
  readonly hotPixels: number;
  readonly cosmics: number;
}

/** ADC range of the 16-bit raws. */
const ADC_MAX = 65535;

/** Sky footprint of a detector on the nominal tangent plane (deg): bounding box of its true boundary, plus a margin. */
function footprint(m: VisitModel, det: DetectorGeom, marginPx: number): [number, number, number, number] {
  const b: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  const w = det.width - 0.5;
  const h = det.height - 0.5;
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    for (const [x, y] of [[-0.5 + f * det.width, -0.5], [-0.5 + f * det.width, h], [-0.5, -0.5 + f * det.height], [w, -0.5 + f * det.height]]) {
      const [ra, dec] = pixelToSky(m.camera, det, m.truePointing, x, y);
      const [xi, eta] = skyToStd(ra, dec, m.nominal.ra, m.nominal.dec);
      b[0] = Math.min(b[0], xi);
      b[1] = Math.min(b[1], eta);
      b[2] = Math.max(b[2], xi);
      b[3] = Math.max(b[3], eta);
    }
  }
  const mg = (marginPx * det.pixelSize * m.camera.plateScale * 1.05) / 3600;
  return [b[0] - mg, b[1] - mg, b[2] + mg, b[3] + mg];
}

/** Simulate one detector of the visit. */
export function simulateVisitCcd(m: VisitModel, det: DetectorGeom): SimulatedCcd {
  const { width, height } = det;
  const ph = m.photometry;
  const gain = ph.gain;
  const img = new Float32Array(width * height);
  fillBackground(img, det, m.background, gain);
  const level = 0.05 * Math.sqrt(m.background.level * gain);
  const rows: TruthRow[] = [];
  const [xmin, ymin, xmax, ymax] = footprint(m, det, MAX_STAR_RADIUS);
  const [i0, j0, i1, j1] = cellRange(m, xmin, ymin, xmax, ymax);
  const target = { data: img, width, height };
  const rotTrue = m.truePointing.rotation;
  const onCcd = (x: number, y: number) => x >= -0.5 && x < width - 0.5 && y >= -0.5 && y < height - 0.5;
  const near = (x: number, y: number, r: number) => x >= -r && x <= width - 1 + r && y >= -r && y <= height - 1 + r;
  const galaxyRows: TruthRow[] = [];
  for (let j = j0; j <= j1; j++) {
    for (let i = i0; i <= i1; i++) {
      for (const s of cellStars(m, i, j)) {
        const [x, y] = skyToPixel(m.camera, det, m.truePointing, s.ra, s.dec);
        if (!near(x, y, MAX_STAR_RADIUS)) continue;
        const [fx, fy] = pixelToFocal(det, x, y);
        const psf = psfInPixels(m, det, fx, fy);
        const fluxAdu = 10 ** (-0.4 * (s.mag - ph.zeroPoint));
        const stats = renderStar(target, x, y, psf, fluxAdu * gain, level);
        if (!onCcd(x, y)) continue;
        const bg = backgroundAtFocal(m.background, fx, fy) * gain;
        rows.push({
          id: s.id, type: 'star', x: x + 1, y: y + 1, ra: s.ra, dec: s.dec, flux: fluxAdu, mag: s.mag,
          fwhm: psf.fwhm, e1: psf.e1, e2: psf.e2, rHalf: 0, sersicN: 0, shapeE1: 0, shapeE2: 0,
          inRefcat: s.inRefcat, saturated: stats.peak + bg > ph.fullWell, peak: stats.peak / gain,
        });
      }
      for (const g of cellGalaxies(m, i, j)) {
        const [x, y] = skyToPixel(m.camera, det, m.truePointing, g.ra, g.dec);
        if (!near(x, y, 1.5 * MAX_GALAXY_RADIUS + 20)) continue;
        const [fx, fy] = pixelToFocal(det, x, y);
        const psf = psfInPixels(m, det, fx, fy);
        // position angle on the sky -> angle from the focal-plane +x axis: 90 + pa - rotator
        const twoTheta = ((90 + g.pa - rotTrue) * Math.PI) / 90;
        const shape = shapeInPixels(det, g.rHalf / m.camera.plateScale, g.e * Math.cos(twoTheta), g.e * Math.sin(twoTheta));
        const fluxAdu = 10 ** (-0.4 * (g.mag - ph.zeroPoint));
        const gal = { rHalf: shape.size, n: g.sersicN, e1: shape.e1, e2: shape.e2 };
        const peak = renderGalaxy(target, x, y, gal, psf, fluxAdu * gain, level).peak;
        if (!onCcd(x, y)) continue;
        const bg = backgroundAtFocal(m.background, fx, fy) * gain;
        galaxyRows.push({
          id: g.id, type: 'galaxy', x: x + 1, y: y + 1, ra: g.ra, dec: g.dec, flux: fluxAdu, mag: g.mag,
          fwhm: psf.fwhm, e1: psf.e1, e2: psf.e2, rHalf: shape.size, sersicN: g.sersicN, shapeE1: shape.e1, shapeE2: shape.e2,
          inRefcat: false, saturated: peak + bg > ph.fullWell, peak: peak / gain,
        });
      }
    }
  }
  rows.sort((a, b) => a.id - b.id);
  galaxyRows.sort((a, b) => a.id - b.id);
  // defect counts from the visit simulator's own stream; their positions from the detector stage's streams
  const drng = Rng.stream(m.seed, m.visitKey, det.id, VISIT_PURPOSE.DEFECTS);
  const areaCm2 = (width * height * det.pixelSize * det.pixelSize) / 100;
  const badColumns = 1 + drng.int(1 + Math.round((2 * width) / 4096));
  const hotPixels = drng.poisson(Math.max(3, 1.2 * areaCm2));
  // cosmic rays at the visit's rate, at least a few even on tiny test CCDs
  const cosmics = drng.poisson(Math.max(4, m.cosmicRate * areaCm2 * m.exptime));
  const out = detect(
    { width, height, data: img },
    {
      gain,
      readNoise: ph.readNoise,
      bias: 0,
      saturation: ADC_MAX,
      fullWell: ph.fullWell,
      quantize: true,
      noise: true,
      defects: { badColumns, badColumnLevel: 0, hotPixels, cosmicRays: cosmics },
    },
    { seed: m.seed, visit: m.visitKey, detector: det.id },
  );
  const pixels = new Uint16Array(width * height);
  const mask = new Uint8Array(width * height);
  const od = out.image.data;
  const md = out.mask.data;
  for (let i = 0; i < pixels.length; i++) {
    pixels[i] = od[i];
    mask[i] = md[i];
  }
  // bad columns run from their first bad row to the top of the CCD
  const first = new Int32Array(width).fill(-1);
  for (let y = height - 1; y >= 0; y--) {
    const row = y * width;
    for (let x = 0; x < width; x++) if (mask[row + x] & SIM_MASK.BAD_COLUMN) first[x] = y;
  }
  const cols: BadColumn[] = [];
  for (let x = 0; x < width; x++) if (first[x] >= 0) cols.push({ x, y0: first[x], y1: height - 1 });
  return { det, pixels, mask, rows: [...rows, ...galaxyRows], badColumns: cols, hotPixels, cosmics };
}
