/**
 * Visit-level (focal-plane) background, replacing the CCD-by-CCD fit: accumulate -> merge -> solve -> apply.
 *  1. focalBackgroundGrid(camera): superpixels in focal-plane mm over the whole camera (same grid for every CCD);
 *  2. per CCD, summarizeFocalBackground(mesh statistics, det, grid): small mergeable samples;
 *  3. reducer: solveFocalBackground(mergeFocalBackground(summaries), grid): surface + CCD offsets + residual grid;
 *  4. per CCD, applyFocalBackground(model, det, fb): the CCD's model with focal-plane mesh levels.
 */
export { focalBackgroundGrid, type FocalGrid, type FocalGridOptions } from './focal-grid.js';
export { mergeFocalBackground, summarizeFocalBackground, type FocalBackgroundSummary, type SummarizeOptions } from './focal-summary.js';
export { evaluateFocalBackground, focalEvaluator, focalOffset, solveFocalBackground, type FocalBackground, type SolveOptions } from './focal-solve.js';
export { applyFocalBackground, type ApplyOptions } from './focal-apply.js';
