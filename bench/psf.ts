/**
 * PSF benchmark: a simulated 2048 x 2048 CCD (varying Moffat PSF, ~1400 stars and ~700 galaxies: about 2000
 * detections) through the per-CCD core, then the PSF stage timed by parts: star selection, model fit (2 passes of
 * accumulate + solve), FLUX_PSF / SPREAD_MODEL / PSF shapes for every source, reserve-star residuals; best of
 * `reps`. With psfex installed, source-extractor + psfex on the same image for scale (whole processes).
 * Run: npx tsx bench/psf.ts [reps]
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fitPsfCcd, starsOf } from '../src/psf/fit.js';
import { psfPhotometry } from '../src/psf/photometry.js';
import { hasPsfex, runPsfex } from '../test/helpers/psfex.js';
import { makeScene, runCore, varyingField } from '../test/helpers/psf-scene.js';

const reps = Number(process.argv[2] ?? 3);
const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'out');
mkdirSync(OUT, { recursive: true });
const W = 2048;
const scene = makeScene({ width: W, height: W, field: varyingField(W, W, 4), nStars: 1400, nGalaxies: 700, seed: 1 });
const file = path.join(OUT, 'psf-2k.fits');
const t0 = performance.now();
const core = await runCore(scene, file);
const tCore = (performance.now() - t0) / 1000;
const input = { image: core.maps.image, rms: core.maps.rms, gain: core.ccd.gain, segmentation: core.det.segmentation, catalog: core.catalog };
const n = core.catalog.NUMBER.length;
const best = { select: Infinity, model: Infinity, photometry: Infinity, validate: Infinity, fluxOnly: Infinity };
let res = fitPsfCcd(input);
for (let r = 0; r < reps; r++) {
  res = fitPsfCcd(input);
  for (const k of ['select', 'model', 'photometry', 'validate'] as const) best[k] = Math.min(best[k], res.seconds[k]);
  const all = starsOf(input, Int32Array.from({ length: n }, (_, i) => i));
  const t = performance.now();
  psfPhotometry(res.model!, all, { spread: false, shapes: false });
  best.fluxOnly = Math.min(best.fluxOnly, (performance.now() - t) / 1000);
}
const m = res.model!;
const ms = (s: number) => `${(1000 * s).toFixed(0)} ms`;
console.log(`2048 x 2048 simulated CCD, ${n} sources; core (load, background, detect, measure) ${tCore.toFixed(2)} s`);
console.log(`PSF model ${m.size} x ${m.size} samples, degree ${m.degree}, ${m.nStars} stars (+${res.selection.reserved.length} reserved); best of ${reps}:`);
console.log('| step | time |');
console.log('|---|---|');
console.log(`| star selection | ${ms(best.select)} |`);
console.log(`| model fit (2 x accumulate + solve) | ${ms(best.model)} |`);
console.log(`| FLUX_PSF + SPREAD_MODEL + PSF shapes, ${n} sources | ${ms(best.photometry)} |`);
console.log(`| FLUX_PSF only, ${n} sources | ${ms(best.fluxOnly)} |`);
console.log(`| reserve-star residuals | ${ms(best.validate)} |`);
if (hasPsfex) {
  const t = performance.now();
  runPsfex(file, { GAIN: String(scene.gain) }, {}, 3, false);
  console.log(`| source-extractor (VIGNET catalog) + psfex, whole processes | ${ms((performance.now() - t) / 1000)} |`);
}
