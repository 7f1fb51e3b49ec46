#!/usr/bin/python3
"""Independent oracle for the image simulator's profile rendering (test/sim-astropy.test.ts).

Reads one JSON request on stdin and prints a JSON answer. Every image is pixel-integrated by brute-force
oversampling (each pixel split into f x f sub-pixels, profile evaluated at their centres by astropy.modeling).
Pixel (i, j) of a `size` x `size` grid covers [i - 1/2, i + 1/2] x [j - 1/2, j + 1/2] (0-based centres).

Requests (JSON):
  {"kind": "gaussian", "size", "x0", "y0", "fwhm", "e1", "e2", "f"}   elliptical Gaussian2D, unit flux
  {"kind": "moffat",   "size", "x0", "y0", "fwhm", "beta", "f"}       circular Moffat2D, unit flux
  {"kind": "sersic",   "size", "x0", "y0", "n", "rhalf", "e1", "e2", "f"}
      Sersic2D, unit total flux (b_n from scipy's gammaincinv); rhalf is the circularised half-light radius
  {"kind": "sersic_moffat", ... sersic keys ..., "fwhm", "beta", "kernel_radius", "pad"}
      the Sersic image above on the sub-pixel grid extended by `pad` pixels on every side, convolved
      (scipy.signal.fftconvolve) with a circular Moffat2D sampled on the same grid out to kernel_radius pixels and
      normalised to unit sum, summed back to pixels and cropped to the requested grid
  {"kind": "bn", "n": [...]}   the Sersic b_n constants
Answer: {"image": [row-major floats]} or {"bn": [...]}.

Ellipticity convention (the simulator's): distortion |e| = (1 - q^2) / (1 + q^2), theta = atan2(e2, e1) / 2,
sizes circularised (major = size / sqrt(q)).
"""
import json
import sys

import numpy as np
from astropy.modeling.models import Gaussian2D, Moffat2D, Sersic2D
from scipy.signal import fftconvolve
from scipy.special import gamma, gammaincinv


def axis_ratio(e1, e2):
    e = np.hypot(e1, e2)
    return np.sqrt((1 - e) / (1 + e)), 0.5 * np.arctan2(e2, e1)


def subgrid(size, f):
    """Sub-pixel centre coordinates (0-based pixel units) of a size x size grid split f x f."""
    c = (np.arange(size * f) + 0.5) / f - 0.5
    return np.meshgrid(c, c)


def binned(fine, size, f):
    return fine.reshape(size, f, size, f).mean(axis=(1, 3))


def sersic_fine(req, x, y):
    n, rh = req["n"], req["rhalf"]
    q, theta = axis_ratio(req.get("e1", 0.0), req.get("e2", 0.0))
    b = gammaincinv(2 * n, 0.5)
    r_major = rh / np.sqrt(q)
    # total flux of Sersic2D with amplitude 1: 2 pi n q r_e^2 e^b b^-2n Gamma(2n), r_e the semi-major radius
    total = 2 * np.pi * n * q * r_major**2 * np.exp(b) * b ** (-2 * n) * gamma(2 * n)
    model = Sersic2D(amplitude=1.0 / total, r_eff=r_major, n=n, x_0=req["x0"], y_0=req["y0"], ellip=1 - q, theta=theta)
    return model(x, y)


def moffat_model(fwhm, beta, x0, y0):
    alpha = fwhm / (2 * np.sqrt(2 ** (1 / beta) - 1))
    return Moffat2D(amplitude=(beta - 1) / (np.pi * alpha**2), x_0=x0, y_0=y0, gamma=alpha, alpha=beta)


def main():
    req = json.load(sys.stdin)
    kind = req["kind"]
    if kind == "bn":
        print(json.dumps({"bn": [float(gammaincinv(2 * n, 0.5)) for n in req["n"]]}))
        return
    size, f = req["size"], req["f"]
    x, y = subgrid(size, f)
    if kind == "gaussian":
        q, theta = axis_ratio(req.get("e1", 0.0), req.get("e2", 0.0))
        s = req["fwhm"] / (2 * np.sqrt(2 * np.log(2)))
        sx, sy = s / np.sqrt(q), s * np.sqrt(q)
        g = Gaussian2D(amplitude=1 / (2 * np.pi * sx * sy), x_mean=req["x0"], y_mean=req["y0"], x_stddev=sx, y_stddev=sy, theta=theta)
        fine = g(x, y)
    elif kind == "moffat":
        fine = moffat_model(req["fwhm"], req["beta"], req["x0"], req["y0"])(x, y)
    elif kind == "sersic":
        fine = sersic_fine(req, x, y)
    elif kind == "sersic_moffat":
        pad = int(req.get("pad", 0))
        big = size + 2 * pad
        xb, yb = subgrid(big, f)
        fine = sersic_fine({**req, "x0": req["x0"] + pad, "y0": req["y0"] + pad}, xb, yb)
        half = int(np.ceil(req.get("kernel_radius", 15) * f))
        k = (np.arange(-half, half + 1)) / f
        kx, ky = np.meshgrid(k, k)
        kernel = moffat_model(req["fwhm"], req["beta"], 0.0, 0.0)(kx, ky)
        kernel /= kernel.sum()
        fine = fftconvolve(fine, kernel, mode="same")[pad * f : (pad + size) * f, pad * f : (pad + size) * f]
    else:
        raise SystemExit(f"unknown kind {kind}")
    print(json.dumps({"image": binned(fine, size, f).ravel().tolist()}))


if __name__ == "__main__":
    main()
