"""astropy oracle for the WCS tests (run with /usr/bin/python3).

Usage: wcs_oracle.py CASES.json  -> JSON on stdout.

CASES.json is a list of cases, each with
  "header": FITS header text (80-character cards, END optional)   or   "file" + "hdu": a FITS HDU,
  "key": alternate WCS letter (optional, default ' '),
  "x", "y": 1-based pixel coordinates to transform with all_pix2world (distortions included),
  "describe" (optional, true): also return the parsed parameters (ctype, crpix, crval, cd = pixel scale
      matrix, sip = {a, b, ap, bp} square arrays or null),
  "lon", "lat" (optional): sky coordinates (deg) to transform back with all_world2pix.
Sky coordinates are (longitude, latitude) whatever the order of the header's axes.
Output: a list of {"lon": [...], "lat": [...], "x": [...], "y": [...]} (x/y only when lon/lat given),
with NaN written as NaN.
"""
import json
import sys
import warnings

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS


def wcs_of(case):
    key = case.get("key", " ")
    if "header" in case:
        header = fits.Header.fromstring(case["header"])
        return WCS(header, key=key)
    with fits.open(case["file"]) as hdul:
        hdu = hdul[case["hdu"]]
        return WCS(hdu.header, fobj=hdul, key=key)


def main():
    warnings.simplefilter("ignore")
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    out = []
    for case in cases:
        w = wcs_of(case)
        x = np.asarray(case["x"], dtype=float)
        y = np.asarray(case["y"], dtype=float)
        # World axes come in header order: pick longitude and latitude by WCSLIB's axis indices.
        ilng, ilat = w.wcs.lng, w.wcs.lat
        world = w.all_pix2world(np.column_stack([x, y]), 1)
        res = {"lon": world[:, ilng].tolist(), "lat": world[:, ilat].tolist()}
        if "lon" in case:
            sky = np.empty((len(case["lon"]), 2))
            sky[:, ilng] = case["lon"]
            sky[:, ilat] = case["lat"]
            pix = w.all_world2pix(sky, 1, tolerance=1e-10, maxiter=200, quiet=True)
            res["x"] = pix[:, 0].tolist()
            res["y"] = pix[:, 1].tolist()
        if case.get("describe"):
            sip = None
            if w.sip is not None:
                sip = {k: (getattr(w.sip, k).tolist() if getattr(w.sip, k) is not None else None) for k in ("a", "b", "ap", "bp")}
            res["params"] = {
                "ctype": list(w.wcs.ctype),
                "crpix": w.wcs.crpix.tolist(),
                "crval": w.wcs.crval.tolist(),
                "cd": w.pixel_scale_matrix.ravel().tolist(),
                "lonpole": float(w.wcs.lonpole),
                "radesys": w.wcs.radesys,
                "sip": sip,
            }
        out.append(res)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
