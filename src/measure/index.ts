/** Public entry points of the measurement stage. */
export { measureObjects, fluxToMag, fluxErrToMagErr, MEASURED_COLUMNS } from './measure.js';
export type { BackgroundMesh, MeasureConfig, MeasureImages, MaskType } from './context.js';
export { pixelCircleOverlap, rectCircleOverlap } from './overlap.js';
