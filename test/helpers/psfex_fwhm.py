"""Oracle for the PSF tests: FWHM (image pixels) of a PSFEx .psf model at given image positions.

Usage: /usr/bin/python3 psfex_fwhm.py MODEL.psf X Y [X Y ...]   (positions in the model's context units, e.g.
1-based X_IMAGE, Y_IMAGE). Prints one JSON object: {"fwhm": [...], "samp": PSF_SAMP, "header_fwhm": PSF_FWHM}.

The model at a position is sum_t P_t(u, v) PSF_MASK[t] with u = (X - POLZERO1) / POLSCAL1, v likewise, and the
terms ordered u^i v^j, j outer, i inner (PSFEx's convention). Its FWHM is measured independently of the project's
code: the grid is interpolated by a bicubic spline (scipy RectBivariateSpline) on a 1/10-sample grid, the area
above half of the interpolated peak is counted and FWHM = 2 sqrt(area / pi) x PSF_SAMP.
"""
import json
import sys

import numpy as np
from astropy.io import fits
from scipy.interpolate import RectBivariateSpline


def model_at(h, mask, x, y):
    naxis = h.get('POLNAXIS', 0)
    if naxis == 0:
        return mask[0]
    deg = h['POLDEG1']
    u = (x - h['POLZERO1']) / h['POLSCAL1']
    v = (y - h['POLZERO2']) / h['POLSCAL2']
    img = np.zeros(mask.shape[1:], dtype=float)
    t = 0
    for j in range(deg + 1):
        for i in range(deg + 1 - j):
            img += (u ** i) * (v ** j) * mask[t]
            t += 1
    return img


def fwhm(img, samp, sub=10):
    ny, nx = img.shape
    spl = RectBivariateSpline(np.arange(ny), np.arange(nx), img, kx=3, ky=3)
    jp, ip = np.unravel_index(np.argmax(img), img.shape)
    fine = np.arange(-1, 1 + 1e-9, 1 / sub)
    peak = max(img.max(), spl(jp + fine, ip + fine).max())
    sel = np.argwhere(img >= 0.3 * peak)
    j0, i0 = np.maximum(sel.min(axis=0) - 1, 0)
    j1, i1 = np.minimum(sel.max(axis=0) + 1, [ny - 1, nx - 1])
    yy = j0 - 0.5 + (np.arange((j1 - j0 + 1) * sub) + 0.5) / sub
    xx = i0 - 0.5 + (np.arange((i1 - i0 + 1) * sub) + 0.5) / sub
    vals = spl(yy, xx)
    area = np.count_nonzero(vals >= 0.5 * peak) / sub ** 2 * samp ** 2
    return 2 * np.sqrt(area / np.pi)


def main():
    path = sys.argv[1]
    pos = [float(a) for a in sys.argv[2:]]
    with fits.open(path) as f:
        hdu = f['PSF_DATA']
        h = hdu.header
        mask = np.asarray(hdu.data['PSF_MASK'][0], dtype=float)
    if mask.ndim == 2:
        mask = mask[None]
    samp = float(h['PSF_SAMP'])
    out = [fwhm(model_at(h, mask, pos[k], pos[k + 1]), samp) for k in range(0, len(pos), 2)]
    print(json.dumps({'fwhm': out, 'samp': samp, 'header_fwhm': h.get('PSF_FWHM')}))


if __name__ == '__main__':
    main()
