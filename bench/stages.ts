/**
 * Per-stage wall time of the CCD core (load, background, maps, detect, measure) on one image, in one process:
 * the first pass is cold (JIT warm-up), the later ones warm. What `lsst-quick` spends outside these stages
 * (Node start-up, module loading, option parsing, catalog writing) is the difference to its wall time.
 *
 *   npx tsx bench/stages.ts bench/out/gal2x4.fits --reps 3 [--apertures 5,10,20]
 */
import { performance } from 'node:perf_hooks';
import { backgroundStep, detectStep, mapsStep, measureStep } from '../src/pipeline/ccd.js';
import { defaultConfig } from '../src/pipeline/config.js';
import { loadCcd } from '../src/pipeline/load.js';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--') && !/^[0-9,.]+$/.test(a));
if (!file) throw new Error('usage: bench/stages.ts IMAGE.fits [--reps N] [--apertures D1,D2,...]');
const opt = (k: string, d: string) => {
  const i = args.indexOf(k);
  return i >= 0 ? args[i + 1] : d;
};
const reps = Number(opt('--reps', '3'));
const c = { ...defaultConfig(), PHOT_APERTURES: opt('--apertures', '5,10,20').split(',').map(Number) };

const names = ['load', 'background', 'maps', 'detect', 'measure', 'total'];
console.log(`| pass | ${names.join(' | ')} |\n|${'---|'.repeat(names.length + 1)}`);
for (let r = 0; r < reps; r++) {
  const t: number[] = [performance.now()];
  const ccd = loadCcd({ image: { file, hdu: 0 } }, c);
  t.push(performance.now());
  const bg = backgroundStep(ccd, c);
  t.push(performance.now());
  const maps = mapsStep(ccd, bg.model);
  t.push(performance.now());
  let filtered: Float32Array | undefined;
  const det = detectStep(maps, ccd, c, bg.globalRms, (f) => (filtered = f));
  t.push(performance.now());
  const cat = measureStep(det, filtered!, maps, ccd, c, bg);
  t.push(performance.now());
  const d = t.slice(1).map((v, i) => v - t[i]);
  d.push(t[t.length - 1] - t[0]);
  console.log(`| ${r === 0 ? 'cold' : 'warm'} (${cat.NUMBER.length} obj) | ${d.map((v) => v.toFixed(0)).join(' | ')} |`);
}
