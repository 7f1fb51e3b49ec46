"""Oracle for the camera tests: sky positions of 1-based pixels through astropy TAN WCSs.

Reads JSON on stdin, one of
  {"ahead": "path/to/file.ahead", "crval": [ra, dec], "points": [[block, x1, y1], ...]}
      every header block of the SCAMP .ahead file (parsed here by astropy, independently of the project's parser)
      becomes a RA---TAN / DEC--TAN WCS with the given CRVAL; block indices are 0-based;
  {"wcs": [{"crpix": [..], "cd": [..4], "crval": [..]}, ...], "points": [[index, x1, y1], ...]}
and prints {"sky": [[ra, dec], ...]} (degrees) in the order of the points.
Run with /usr/bin/python3 (Debian's astropy).
"""
import json
import sys

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS


def ahead_blocks(path):
    text = open(path).read()
    blocks, cur = [], []
    for line in text.splitlines():
        if line.startswith('END'):
            if cur:
                blocks.append(cur)
            cur = []
        elif line.strip():
            cur.append(line.ljust(80)[:80])
    if cur:
        blocks.append(cur)
    return [fits.Header.fromstring('\n'.join(b), sep='\n') for b in blocks]


def make_wcs(crpix, cd, crval):
    h = fits.Header()
    h['NAXIS'] = 2
    h['CTYPE1'] = 'RA---TAN'
    h['CTYPE2'] = 'DEC--TAN'
    h['CRPIX1'], h['CRPIX2'] = crpix
    h['CD1_1'], h['CD1_2'], h['CD2_1'], h['CD2_2'] = cd
    h['CRVAL1'], h['CRVAL2'] = crval
    return WCS(h)


def main():
    req = json.load(sys.stdin)
    if 'ahead' in req:
        wcss = []
        for b in ahead_blocks(req['ahead']):
            cd = [b.get('CD1_1', 0.0), b.get('CD1_2', 0.0), b.get('CD2_1', 0.0), b.get('CD2_2', 0.0)]
            wcss.append(make_wcs([b['CRPIX1'], b['CRPIX2']], cd, req['crval']))
    else:
        wcss = [make_wcs(w['crpix'], w['cd'], w['crval']) for w in req['wcs']]
    out = []
    for i, x1, y1 in req['points']:
        ra, dec = wcss[int(i)].all_pix2world(np.array([[x1, y1]], dtype=float), 1)[0]
        out.append([float(ra), float(dec)])
    json.dump({'sky': out, 'blocks': len(wcss)}, sys.stdout)


if __name__ == '__main__':
    main()
