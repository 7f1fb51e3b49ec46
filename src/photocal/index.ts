/** Photometric calibration: zero points and aperture corrections as accumulate/merge/solve. */
export * from './robust-mean.js';
export * from './zeropoint.js';
export * from './apcorr.js';
