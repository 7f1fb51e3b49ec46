/**
 * Background benchmark: mesh statistics + filtering + interpolation of background and RMS maps
 * for a simulated 4096 x 4096 image (flat + gradient sky, Gaussian noise, stars; seeded).
 * Run: npx tsx bench/background.ts [size]
 */
import { backgroundModel, interpolate, meshStatistics } from '../src/background/index.js';
import { makePlane } from '../src/image/types.js';

/** Seeded uniform generator (mulberry32). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const n = Number(process.argv[2] ?? 4096);
const rnd = mulberry32(42);
const data = new Float32Array(n * n);
for (let y = 0; y < n; y++)
  for (let x = 0; x < n; x++) {
    const g = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    data[y * n + x] = 1000 + 0.01 * x - 0.02 * y + 10 * g;
  }
for (let s = 0; s < 2000; s++) {
  const cx = rnd() * n, cy = rnd() * n, peak = 50 * Math.exp(5 * rnd());
  for (let y = Math.max(0, Math.floor(cy - 8)); y < Math.min(n, cy + 8); y++)
    for (let x = Math.max(0, Math.floor(cx - 8)); x < Math.min(n, cx + 8); x++)
      data[y * n + x] += peak * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 4.5);
}
const image = makePlane(n, n, data);

for (let rep = 0; rep < 3; rep++) {
  const t0 = performance.now();
  const stats = meshStatistics(image);
  const t1 = performance.now();
  const model = backgroundModel(stats);
  const t2 = performance.now();
  const back = interpolate(model, 'background');
  const t3 = performance.now();
  const rms = interpolate(model, 'rms');
  const t4 = performance.now();
  console.log(
    `${n}x${n}: mesh stats ${(t1 - t0).toFixed(0)} ms, filter+splines ${(t2 - t1).toFixed(1)} ms, ` +
      `background map ${(t3 - t2).toFixed(0)} ms, rms map ${(t4 - t3).toFixed(0)} ms, total ${(t4 - t0).toFixed(0)} ms ` +
      `(global ${model.globalBackground.toFixed(2)} / ${model.globalRms.toFixed(3)}; check ${back.data[0].toFixed(1)} ${rms.data[0].toFixed(2)})`,
  );
}
