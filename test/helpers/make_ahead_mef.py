"""Fixture for the cameraFromWcs tests: a multi-extension FITS exposure whose image HDUs carry the TAN WCS of
each CCD of a SCAMP .ahead focal-plane model (parsed here by astropy), with CRVAL set to a given pointing.

usage: make_ahead_mef.py AHEAD OUT.fits WIDTH HEIGHT BIN COMPRESS RA DEC [cd|pc]
  WIDTH x HEIGHT is the CCD pixel grid of the model; BIN > 1 writes BIN x BIN binned images (CRPIX / CD rescaled so
  that every binned pixel covers the same sky as the original pixels it contains); COMPRESS=1 writes RICE
  tile-compressed HDUs (ZNAXISn) instead of plain images; 'pc' writes the linear part as PCi_j + CDELTi instead of
  CDi_j; the pixels are all zero.
Run with /usr/bin/python3.
"""
import sys

import numpy as np
from astropy.io import fits


def blocks(path):
    out, cur = [], []
    for line in open(path).read().splitlines():
        if line.startswith('END'):
            if cur:
                out.append(fits.Header.fromstring('\n'.join(cur), sep='\n'))
            cur = []
        elif line.strip():
            cur.append(line.ljust(80)[:80])
    return out


def main():
    ahead, out, width, height, binf, compress, ra, dec = sys.argv[1:9]
    width, height, binf, compress = int(width), int(height), int(binf), int(compress) == 1
    ra, dec = float(ra), float(dec)
    form = sys.argv[9] if len(sys.argv) > 9 else 'cd'
    hdus = [fits.PrimaryHDU()]
    for i, b in enumerate(blocks(ahead)):
        w, h = width // binf, height // binf
        hdr = fits.Header()
        hdr['EXTNAME'] = f'CCD{i:02d}'
        hdr['CTYPE1'] = 'RA---TAN'
        hdr['CTYPE2'] = 'DEC--TAN'
        hdr['CRVAL1'] = ra
        hdr['CRVAL2'] = dec
        # pixel edges: original 1-based P covers [P - 0.5, P + 0.5]; binned p covers original [(p-1)B + 0.5, pB + 0.5]
        hdr['CRPIX1'] = (b['CRPIX1'] - 0.5) / binf + 0.5
        hdr['CRPIX2'] = (b['CRPIX2'] - 0.5) / binf + 0.5
        cd = np.array([[b.get('CD1_1', 0.0), b.get('CD1_2', 0.0)], [b.get('CD2_1', 0.0), b.get('CD2_2', 0.0)]]) * binf
        if form == 'pc':
            # CDELTi scales row i of the PC matrix: CD = diag(CDELT) PC
            cdelt = np.sqrt(np.abs(np.linalg.det(cd))) * np.array([-1.0, 1.0])
            pc = cd / cdelt[:, None]
            hdr['CDELT1'], hdr['CDELT2'] = cdelt
            hdr['PC1_1'], hdr['PC1_2'], hdr['PC2_1'], hdr['PC2_2'] = pc[0, 0], pc[0, 1], pc[1, 0], pc[1, 1]
        else:
            hdr['CD1_1'], hdr['CD1_2'], hdr['CD2_1'], hdr['CD2_2'] = cd[0, 0], cd[0, 1], cd[1, 0], cd[1, 1]
        data = np.zeros((h, w), dtype=np.int16 if compress else np.uint8)
        if compress:
            hdus.append(fits.CompImageHDU(data=data, header=hdr, compression_type='RICE_1'))
        else:
            hdus.append(fits.ImageHDU(data=data, header=hdr))
    fits.HDUList(hdus).writeto(out, overwrite=True)


if __name__ == '__main__':
    main()
