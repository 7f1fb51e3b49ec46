/**
 * Astrometry: FITS WCS (pixel <-> sky, header reading and writing), reference catalogues, pattern and
 * nearest-neighbour matching on the tangent plane, and the TAN-SIP fit as accumulate/merge/solve.
 */
export * from './wcs.js';
export * from './wcs-header.js';
export * from './wcs-proj.js';
export * from './wcs-poly.js';
export * from './wcs-sip.js';
export * from './wcs-tpv.js';
export * from './wcs-dss.js';
export * from './refcat.js';
export * from './match-plane.js';
export * from './match-nn.js';
export * from './match-pattern.js';
export * from './fit-poly.js';
export * from './fit-model.js';
export * from './fit-accum.js';
export * from './fit-sip.js';
export * from './fit-solve.js';
export * from './fit-ccd.js';
