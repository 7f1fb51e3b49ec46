/**
 * PSF models as PSFEx-compatible .psf files:
 *  - our writer round-trips through our reader;
 *  - astropy (Debian python) reads our file and, evaluating PSF_MASK with PSFEx's documented polynomial convention,
 *    gets our model image at any position; its independent FWHM agrees with ours;
 *  - PSFEx's own .psf (fitted by psfex on a simulated image) read by our reader and evaluated at the positions of
 *    psfex's SNAPSHOTS check image reproduces those snapshots (PSFEx itself is the oracle of the term order and the
 *    POLZERO / POLSCAL convention); a transposed term order would not.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readImageFile } from '../src/fits/image.js';
import { fitPsfCcd } from '../src/psf/fit.js';
import { readPsfex, writePsfex } from '../src/psf/io.js';
import { psfImageAt, type PsfModel } from '../src/psf/model.js';
import { termExponents } from '../src/psf/poly.js';
import { hasPsfex, hasScipy, psfexFwhm, psfexModelAt, runPsfex } from './helpers/psfex.js';
import { makeScene, runCore, varyingField } from './helpers/psf-scene.js';

const CACHE = path.resolve(__dirname, '.cache/psf');
if (!hasScipy) console.warn('SKIPPED psf-io astropy checks: Debian python3 with astropy/numpy/scipy not found');
if (!hasPsfex) console.warn('SKIPPED psf-io PSFEx checks: psfex or source-extractor not installed');

const W = 768;
let model: PsfModel;
let imageFile: string;

beforeAll(async () => {
  mkdirSync(CACHE, { recursive: true });
  const scene = makeScene({ width: W, height: W, field: varyingField(W, W, 4), nStars: 350, nGalaxies: 60, seed: 3 });
  imageFile = path.join(CACHE, 'io-768.fits');
  const core = await runCore(scene, imageFile);
  const res = fitPsfCcd({ image: core.maps.image, rms: core.maps.rms, gain: core.ccd.gain, segmentation: core.det.segmentation, catalog: core.catalog }, { oversampling: 2 });
  model = res.model!;
}, 60_000);

describe('our .psf files', () => {
  it('round-trip through writePsfex / readPsfex', () => {
    const file = path.join(CACHE, 'io-model.psf');
    writePsfex(file, model);
    const back = readPsfex(file);
    expect(back.size).toBe(model.size);
    expect(back.step).toBe(0.5);
    expect(back.degree).toBe(model.degree);
    expect(back.frame).toEqual(model.frame);
    expect(back.nStars).toBe(model.nStars);
    expect(back.fwhm).toBeCloseTo(model.fwhm, 10);
    const peak = Math.max(...model.coeffs.subarray(0, model.size * model.size));
    for (let q = 0; q < model.coeffs.length; q++) expect(Math.abs(back.coeffs[q] - model.coeffs[q])).toBeLessThan(1e-6 * peak);
  });

  it.skipIf(!hasScipy)('are read by astropy and evaluate as PSFEx models to our model', () => {
    const file = path.join(CACHE, 'io-model.psf');
    writePsfex(file, model);
    const n = model.size;
    for (const [x, y] of [[384.5, 384.5], [40, 700], [760, 12]]) {
      const py = psfexModelAt(file, x, y);
      expect(py.size).toBe(n);
      const ours = psfImageAt(model, x, y);
      // PSFEx's scale: per image-pixel area, i.e. ours / step^2
      const peak = Math.max(...ours) / model.step ** 2;
      for (let k = 0; k < n * n; k++) expect(Math.abs(py.data[k] - ours[k] / model.step ** 2)).toBeLessThan(2e-6 * peak);
    }
    const [f] = psfexFwhm(file, [[model.frame.zero[0], model.frame.zero[1]]]);
    expect(Math.abs(f / model.fwhm - 1)).toBeLessThan(0.01);
  });
});

describe.skipIf(!hasPsfex || !hasScipy)('PSFEx .psf files', () => {
  it("are read by our reader and reproduce psfex's SNAPSHOTS check image", () => {
    const run = runPsfex(imageFile, {}, {}, 3);
    const m = readPsfex(run.psf);
    expect(m.frame.names).toEqual(['X_IMAGE', 'Y_IMAGE']);
    expect(m.degree).toBe(2);
    const snap = readImageFile(run.snapshots, 0, { as: 'float64' });
    const n = m.size;
    expect(snap.width).toBe(run.nsnap * n);
    const s2 = m.step * m.step;
    const wrong = { ...m, coeffs: transposeTerms(m) };
    let worst = 0;
    let worstWrong = 0;
    for (let j = 0; j < run.nsnap; j++) {
      for (let i = 0; i < run.nsnap; i++) {
        // PSFEx lays the snapshots over the context range of its stars, POLZERO +- POLSCAL / 2: snapshot (i, j) is
        // the model at the centre of cell (i, j) of an nsnap x nsnap division of that range
        const x = m.frame.zero[0] + ((i + 0.5) / run.nsnap - 0.5) * m.frame.scale[0];
        const y = m.frame.zero[1] + ((j + 0.5) / run.nsnap - 0.5) * m.frame.scale[1];
        const ours = psfImageAt(m, x, y);
        const bad = psfImageAt(wrong, x, y);
        let peak = 0;
        let err = 0;
        let errWrong = 0;
        for (let b = 0; b < n; b++) {
          for (let a = 0; a < n; a++) {
            const v = (snap.data as Float64Array)[(j * n + b) * snap.width + i * n + a];
            peak = Math.max(peak, v);
            err = Math.max(err, Math.abs(ours[b * n + a] / s2 - v));
            errWrong = Math.max(errWrong, Math.abs(bad[b * n + a] / s2 - v));
          }
        }
        worst = Math.max(worst, err / peak);
        worstWrong = Math.max(worstWrong, errWrong / peak);
      }
    }
    console.log(`psf-io: psfex snapshots vs our evaluation of psfex's .psf: max |diff| / peak ${worst.toExponential(2)} (transposed term order: ${worstWrong.toExponential(2)})`);
    expect(worst).toBeLessThan(1e-5);
    expect(worstWrong).toBeGreaterThan(10 * worst);
  });
});

/** The model with the roles of u and v swapped in its term list (a plausible mistake the snapshot check must catch). */
function transposeTerms(m: PsfModel): Float64Array {
  const ex = termExponents(m.degree);
  const nt = ex.length / 2;
  const npix = m.size * m.size;
  const out = new Float64Array(m.coeffs.length);
  for (let t = 0; t < nt; t++) {
    let u = -1;
    for (let q = 0; q < nt; q++) if (ex[2 * q] === ex[2 * t + 1] && ex[2 * q + 1] === ex[2 * t]) u = q;
    out.set(m.coeffs.subarray(t * npix, (t + 1) * npix), u * npix);
  }
  return out;
}
