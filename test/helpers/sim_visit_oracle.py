"""Oracle for the visit-simulator tests: reads simulated raw files and the reference catalogue with astropy.

Reads JSON on stdin: {"raws": [{"file": path, "points": [[x1, y1], ...]}], "refcat": path}
and prints JSON: {"raws": [{"header": {KEY: value}, "bitpix", "bzero", "shape", "min", "max",
                             "sky": [[ra, dec], ...]}],       # header WCS (all_pix2world, 1-based pixels)
                  "refcat": {"columns": [...], "n": rows, "source_id": [...], "ra": [...], "dec": [...],
                             "phot_g_mean_mag": [...]}}
Run with /usr/bin/python3.
"""
import json
import sys

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

KEYS = ['VISIT', 'DETECTOR', 'DETNAME', 'FILTER', 'MJD-OBS', 'EXPTIME', 'GAIN', 'SATURATE', 'RDNOISE',
        'CTYPE1', 'CTYPE2', 'CRVAL1', 'CRVAL2', 'CRPIX1', 'CRPIX2', 'CD1_1', 'CD1_2', 'CD2_1', 'CD2_2', 'BUNIT']


def main():
    req = json.load(sys.stdin)
    out = {'raws': []}
    for r in req.get('raws', []):
        with fits.open(r['file'], do_not_scale_image_data=True) as h:
            hdr = h[0].header
            raw = h[0].data
            entry = {
                'header': {k: hdr.get(k) for k in KEYS},
                'bitpix': hdr['BITPIX'],
                'bzero': hdr.get('BZERO'),
                'shape': list(raw.shape),
                'checksum_ok': bool(h[0].verify_checksum() == 1),
            }
            data = raw.astype(np.float64) + (hdr.get('BZERO') or 0)
            entry['min'] = float(data.min())
            entry['max'] = float(data.max())
            pts = np.array(r.get('points') or [[1.0, 1.0]], dtype=float)
            sky = WCS(hdr).all_pix2world(pts, 1)
            entry['sky'] = sky.tolist() if r.get('points') else []
        out['raws'].append(entry)
    if req.get('refcat'):
        with fits.open(req['refcat']) as h:
            t = h[1].data
            out['refcat'] = {
                'columns': list(t.columns.names),
                'n': len(t),
                'source_id': [int(v) for v in t['source_id']],
                'ra': [float(v) for v in t['ra']],
                'dec': [float(v) for v in t['dec']],
                'phot_g_mean_mag': [float(v) for v in t['phot_g_mean_mag']],
            }
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
