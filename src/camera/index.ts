/** Camera geometry: types and conventions, transforms, built-in and imported cameras. */
export * from './types.js';
export * from './tan.js';
export * from './geometry.js';
export { detectorFromLinear, cameraFromLinear, nominalLinear, cdPixelScale, type LinearCcd, type LinearCameraOptions } from './linear.js';
export { parseAhead, cameraFromAhead, DECAM_NAMES, type AheadBlock, type AheadOptions } from './ahead.js';
export { cameraFromHdus, cameraFromWcs, headerTanWcs, type FromWcsOptions, type HduRef } from './from-wcs.js';
export { lsstcamLayout, testLayout } from './builtin.js';
export { loadCamera, validateCamera, cameraToJson, camerasDir, BUILTIN_CAMERAS, CAMERA_FORMAT } from './load.js';
