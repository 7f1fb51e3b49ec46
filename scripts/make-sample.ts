/**
 * Makes data/samples/sim-ccd.fits, the shipped demo image: a 512x512 simulated CCD (stars and galaxies,
 * Moffat PSF of 3.5 px FWHM, sky 1000 e-, gain 1.5) stored as unsigned 16-bit with GAIN, SATURATE and a
 * TAN WCS. Deterministic. Run: npx tsx scripts/make-sample.ts
 */
import path from 'node:path';
import { simulateCcd } from '../src/sim/index.js';
import { Header } from '../src/fits/header.js';
import { writeImage } from '../src/fits/write.js';

const sim = simulateCcd({
  width: 512,
  height: 512,
  seed: 2026,
  quantize: true,
  bias: 100,
  saturation: 65000,
  stars: { count: 120, magMin: 15.5, magMax: 22, slope: 0.15 },
  galaxies: { count: 90, magMin: 18, magMax: 22.5 },
});
const u16 = Uint16Array.from(sim.image.data, (v) => Math.max(0, Math.min(65535, Math.round(v))));
const h = new Header()
  .set('OBJECT', 'lsst-pipe demo field (simulated)')
  .set('GAIN', sim.params.gain, 'e-/ADU')
  .set('SATURATE', 65000, 'ADU')
  .set('MAGZP', sim.params.zeroPoint, 'mag of 1 ADU')
  .set('CTYPE1', 'RA---TAN')
  .set('CTYPE2', 'DEC--TAN')
  .set('CRPIX1', 256.5)
  .set('CRPIX2', 256.5)
  .set('CRVAL1', 150.1)
  .set('CRVAL2', 2.2)
  .set('CD1_1', -0.2 / 3600, undefined, 'float')
  .set('CD1_2', 0, undefined, 'float')
  .set('CD2_1', 0, undefined, 'float')
  .set('CD2_2', 0.2 / 3600, undefined, 'float');
const out = path.resolve(import.meta.dirname, '../data/samples/sim-ccd.fits');
writeImage(out, u16, { width: 512, header: h });
console.log(`wrote ${out}: ${sim.truth.count} objects`);
