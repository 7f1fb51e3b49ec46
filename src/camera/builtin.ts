/**
 * Synthetic camera layouts generated from a few numbers: LSSTCam's science focal plane and the small 'test' camera.
 * (DECam and MegaCam come from SCAMP models, ahead.ts.) The committed data/cameras/*.json are made from these by
 * src/camera/generate.ts.
 */
import type { Camera, DetectorGeom } from './types.js';

/**
 * LSSTCam science sensors: a 5x5 grid of rafts minus the four corner (wavefront / guider) rafts, 3x3 CCDs each,
 * 189 CCDs of 4072x4000 10 um pixels (one sensor format for all), 0.2 arcsec/pixel.
 * Names R<row><col>_S<row><col> (row along focal-plane y, column along x, both from 0 at the -x/-y corner; R22_S11
 * is the centre). Ids 0..188 in name order: R01_S00 .. R01_S22, R02_S00, ..., R43_S22 (R22_S11 is 94).
 * Raft pitch 127 mm, CCD pitch within a raft 42.25 mm, all detectors unrotated.
 */
export function lsstcamLayout(): Camera {
  const raftPitch = 127;
  const ccdPitch = 42.25;
  const detectors: DetectorGeom[] = [];
  for (let rr = 0; rr < 5; rr++) {
    for (let rc = 0; rc < 5; rc++) {
      if ((rr === 0 || rr === 4) && (rc === 0 || rc === 4)) continue;
      for (let sr = 0; sr < 3; sr++) {
        for (let sc = 0; sc < 3; sc++) {
          detectors.push({
            id: detectors.length,
            name: `R${rr}${rc}_S${sr}${sc}`,
            width: 4072,
            height: 4000,
            pixelSize: 0.01,
            center: [(rc - 2) * raftPitch + (sc - 1) * ccdPitch, (rr - 2) * raftPitch + (sr - 1) * ccdPitch],
            rotation: 0,
          });
        }
      }
    }
  }
  return {
    name: 'lsstcam',
    description: 'LSSTCam science focal plane: 21 rafts x 9 CCDs of 4072x4000 10 um pixels, 0.2 arcsec/pixel (corner rafts excluded)',
    plateScale: 20,
    detectors,
    // ~0.3 mm (6 arcsec) radial displacement at r = 300 mm, plus a small decentering term
    distortion: { rRef: 300, k1: 8e-4, k2: 2e-4, p1: 2e-5, p2: -1e-5 },
  };
}

/**
 * The 'test' camera: 3x3 CCDs of 512x512 10 um pixels at 0.25 arcsec/pixel with 0.3 mm gaps (ids 0..8 row by row
 * from the -x/-y corner, names T<row><col>). To exercise the conventions, the centre CCD (4) is rotated by 90
 * degrees, CCD 5 by 180 degrees, and CCD 8 has a mirrored y axis. A strong distortion field makes it visible.
 */
export function testLayout(): Camera {
  const pitch = 5.12 + 0.3;
  const detectors: DetectorGeom[] = [];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      const id = detectors.length;
      detectors.push({
        id,
        name: `T${r}${c}`,
        width: 512,
        height: 512,
        pixelSize: 0.01,
        center: [(c - 1) * pitch, (r - 1) * pitch],
        rotation: id === 4 ? 90 : id === 5 ? 180 : 0,
        ...(id === 8 ? { flip: true } : {}),
      });
    }
  }
  return {
    name: 'test',
    description: 'small test camera: 3x3 CCDs of 512x512 10 um pixels, 0.25 arcsec/pixel, 0.3 mm gaps',
    plateScale: 25,
    detectors,
    // ~0.04 mm (4 pixels) radial displacement at the corners (r ~ 11.5 mm)
    distortion: { rRef: 10, k1: 3e-3, k2: 5e-4, p1: 1e-4, p2: 5e-5 },
  };
}
