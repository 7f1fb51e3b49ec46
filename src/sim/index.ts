/** The CCD image simulator with truth: public entry points. */
export { simulateCcd, renderObjects, addStar, DEFAULT_PSF, type SimulateCcdOptions, type SimulatedCcd, type RenderSettings } from './ccd.js';
export { detect, SIM_MASK, type DefectOptions, type DetectorOptions, type DetectorOutput } from './detector.js';
export { renderGalaxy, convolvedGalaxy, type GalaxyRenderOptions } from './galaxy.js';
export { renderGaussians, type GaussianList } from './gaussmix.js';
export { renderRadial, pixelIntegral, type RenderTarget, type RenderStats } from './integrate.js';
export { sersicMixture, moffatMixture, type Mixture } from './mog.js';
export {
  ellipseForm,
  axisRatioAngle,
  distortion,
  psfProfile,
  moffatAlpha,
  GaussianProfile,
  MoffatProfile,
  SersicProfile,
  type PsfModel,
  type PsfAt,
  type GaussianPsf,
  type MoffatPsf,
  type SersicShape,
  type RadialProfile,
  type EllipseForm,
} from './profiles.js';
export { Rng, PixelRng, RandomSource, PURPOSE, streamState } from './rng.js';
export { drawMagnitudes, drawStars, drawGalaxies, type ObjectSpec, type PowerLawCounts, type GalaxyPopulation } from './scene.js';
export { sersicB, gammaPQ, lnGamma } from './special.js';
export { OBJ_TYPE, truthRows, type TruthTable } from './truth.js';
