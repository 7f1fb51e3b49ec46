/** Detection (SExtractor-style): public entry points. */
export { detectSources } from './detect.js';
export { DEFAULT_DETECT_OPTIONS, resolveDetectOptions, type DetectOptions, type FilterSpec, type MaskPlane } from './options.js';
export { convolve, defaultKernel, gaussianKernel, loadConv, parseConv, resolveFilter, type Kernel } from './filter.js';
export { FLAG, type DetectedObject, type DetectionMoments, type DetectionResult } from './types.js';
