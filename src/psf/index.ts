/** Public entry points of the PSF stage (model fit as accumulate / merge / solve, PSF photometry, I/O, validation). */
export { accumulatePsf, emptySummary, mergePsfSummaries, reducePsfSummaries, STAR_EDGE, STAR_NOFLUX, STAR_OUTLIER, STAR_USED } from './accumulate.js';
export type { AccumulateOptions, AccumulateResult, PsfStarsInput, PsfSummary } from './accumulate.js';
export { PSF_COLUMN_NAMES, PSF_COLUMN_ROWS, type PsfColumnRow } from './columns.js';
export { fitPsfCcd, psfGeometry, starsOf, type CcdPsfInput, type CcdPsfResult, type PsfCatalogColumns, type PsfFitOptions } from './fit.js';
export { psfexTableHdu, readPsfex, writePsfex } from './io.js';
export { checkGeometry, modelSize, normaliseCoeffs, PsfEvaluator, psfImageAt, type PsfGeometry, type PsfModel } from './model.js';
export { isExtended, psfPhotometry, PSF_FLAG, SourceFitter, type PsfColumns, type PsfPhotometryInput, type PsfPhotometryOptions, type SourceFit } from './photometry.js';
export { ccdFrame, evalTerms, focalFrame, nTerms, termExponents, type PsfFrame } from './poly.js';
export { saturationPlateau, selectPsfStars, type StarSelection, type StarSelectOptions } from './select.js';
export { adaptiveMoments, psfShapeAt, ShapeMeasurer, type Moments } from './shape.js';
export { chooseDegree, solvePsf, type SolveOptions } from './solve.js';
export { exponentialConvolvedCoeffs } from './spread.js';
export { reserveResiduals, residualStats, type ReserveResiduals, type ReserveOptions, type ResidualStats } from './validate.js';
