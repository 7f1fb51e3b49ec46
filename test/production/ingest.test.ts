/** lsst-prod ingest: ids from header keys (real DECam raws), CCD names through the camera, from-wcs cameras. */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Header } from '../../src/fits/header.js';
import { imageHdu, writeFits } from '../../src/fits/write.js';

const BIN = path.resolve(__dirname, '../../bin/lsst-prod.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
const DECAM = path.resolve(__dirname, '../../../shared/data/real/decam');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ingest-'));

describe('lsst-prod ingest', () => {
  it.skipIf(!existsSync(DECAM))('takes visit and detector from EXPNUM and CCDNUM of real DECam raws', () => {
    const repo = path.join(tmp, 'decam');
    const r = run(['ingest', '--repo', repo, '--camera', 'decam', path.join(DECAM, 'c4d_170316_062107_ooi_z_ls9.N2.fits')]);
    expect(r.status, r.stderr).toBe(0);
    const raws = JSON.parse(readFileSync(path.join(repo, 'raws.json'), 'utf8'));
    // astropy: EXPNUM 630780, CCDNUM 33 (DETPOS N2); the DETECTOR key holds a serial, not an id
    expect(raws).toEqual([expect.objectContaining({ visit: '630780', detector: 33, hdu: 1, mjd: 57828.26285591 })]);
  });

  it('maps CCD names (EXTNAME) to detector ids through the camera, and derives a camera from a MEF WCS', () => {
    // a 3-CCD MEF named after the test camera's CCDs, with TAN WCS placing them side by side, and no ids
    const hdus = [{ header: new Header().set('BITPIX', 8).set('NAXIS', 0).set('EXPID', 77) }];
    ['T22', 'T00', 'T11'].forEach((name, k) => {
      const h = new Header()
        .set('CTYPE1', 'RA---TAN').set('CTYPE2', 'DEC--TAN')
        .set('CRVAL1', 10).set('CRVAL2', -30)
        .set('CRPIX1', 32.5 - 70 * k).set('CRPIX2', 32.5)
        .set('CD1_1', -5e-5, undefined, 'float').set('CD1_2', 0, undefined, 'float')
        .set('CD2_1', 0, undefined, 'float').set('CD2_2', 5e-5, undefined, 'float');
      hdus.push(imageHdu(new Float32Array(64 * 64).fill(100 + k), { width: 64, extname: name, header: h }) as never);
    });
    const mef = path.join(tmp, 'mef.fits');
    writeFits(mef, hdus as never);
    const repo = path.join(tmp, 'names');
    const r = run(['ingest', '--repo', repo, '--camera', 'test', mef]);
    expect(r.status, r.stderr).toBe(0);
    const raws = JSON.parse(readFileSync(path.join(repo, 'raws.json'), 'utf8'));
    const cam = JSON.parse(readFileSync(path.resolve(__dirname, '../../data/cameras/test.json'), 'utf8'));
    const id = (n: string) => cam.detectors.find((d: { name: string }) => d.name === n).id;
    expect(raws.map((e: { detector: number; hdu: number }) => [e.detector, e.hdu])).toEqual(
      [[id('T00'), 2], [id('T11'), 3], [id('T22'), 1]],
    );
    const w = path.join(tmp, 'fromwcs');
    const f = run(['ingest', '--repo', w, '--camera', 'from-wcs', mef]);
    expect(f.status, f.stderr).toBe(0);
    const derived = JSON.parse(readFileSync(path.join(w, 'camera.json'), 'utf8'));
    expect(derived.detectors).toHaveLength(3);
  });
});
