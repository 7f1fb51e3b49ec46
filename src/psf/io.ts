/**
 * PSF models as PSFEx-compatible .psf files: an empty primary HDU and a binary table PSF_DATA of one row with one
 * column PSF_MASK of TDIM (size, size, nterms): plane t holds polynomial term t (PSFEx order 1, u, u^2, ..., v, uv,
 * ..., see poly.ts) with u = (POLNAME1 - POLZERO1) / POLSCAL1, v likewise for POLNAME2 (one polynomial group of
 * degree POLDEG1). Samples are PSF_SAMP image pixels apart, centred on sample (size - 1) / 2 (0-based), and scaled
 * as PSFEx's: values per image pixel area (our unit-sum-per-sample model divided by PSF_SAMP^2), so the model sums to
 * 1 / PSF_SAMP^2. Header keys as PSFEx writes them (LOADED, ACCEPTED, POLNAXIS, POLGRPi, POLNAMEi, POLZEROi,
 * POLSCALi, POLNGRP, POLDEG1, PSF_FWHM, PSF_SAMP, PSFNAXIS, PSFAXISi), plus PSF_RESI (our fit residual).
 */
import { FitsError } from '../fits/errors.js';
import { FitsFile } from '../fits/file.js';
import { Header } from '../fits/header.js';
import { readTableHdu } from '../fits/table.js';
import { buildTable } from '../fits/table-write.js';
import { writeFits, type HduInput } from '../fits/write.js';
import { checkGeometry, type PsfModel } from './model.js';
import { nTerms } from './poly.js';

/** The PSF_DATA table HDU of a model. */
export function psfexTableHdu(model: PsfModel, extra: { loaded?: number } = {}): HduInput {
  checkGeometry(model);
  const { size, step, degree, frame } = model;
  const nt = nTerms(degree);
  const npix = size * size;
  const mask = new Float32Array(nt * npix);
  const inv = 1 / (step * step);
  for (let q = 0; q < mask.length; q++) mask[q] = model.coeffs[q] * inv;
  const t = buildTable([{ name: 'PSF_MASK', data: mask, repeat: nt * npix, dims: [size, size, nt] }], { extname: 'PSF_DATA' });
  const h = t.header;
  h.set('LOADED', extra.loaded ?? model.nStars, 'Number of loaded sources');
  h.set('ACCEPTED', model.nStars, 'Number of accepted sources');
  h.set('POLNAXIS', 2, 'Number of context parameters');
  for (let a = 0; a < 2; a++) {
    h.set(`POLGRP${a + 1}`, 1, 'Polynom group for this context parameter');
    h.set(`POLNAME${a + 1}`, frame.names[a], 'Name of this context parameter');
    h.set(`POLZERO${a + 1}`, frame.zero[a], 'Offset value for this context parameter', 'float');
    h.set(`POLSCAL${a + 1}`, frame.scale[a], 'Scale value for this context parameter', 'float');
  }
  h.set('POLNGRP', 1, 'Number of context groups');
  h.set('POLDEG1', degree, 'Polynom degree for this context group');
  if (Number.isFinite(model.fwhm)) h.set('PSF_FWHM', model.fwhm, 'PSF FWHM in image pixels', 'float');
  h.set('PSF_SAMP', step, 'Sampling step of the PSF data in image pixels', 'float');
  if (Number.isFinite(model.residual)) h.set('PSF_RESI', model.residual, 'Mean squared residual of normalised stamps', 'float');
  h.set('PSFNAXIS', 3, 'Dimensionality of the PSF data');
  h.set('PSFAXIS1', size, 'Number of element along this axis');
  h.set('PSFAXIS2', size, 'Number of element along this axis');
  h.set('PSFAXIS3', nt, 'Number of element along this axis');
  return { header: h, data: t.data };
}

/** Write a model as a PSFEx-compatible .psf file (atomic). */
export function writePsfex(file: string, model: PsfModel, extra: { loaded?: number } = {}): void {
  writeFits(file, [psfexTableHdu(model, extra)]);
}

/**
 * Read a .psf file (ours or PSFEx's; one polynomial group over two context parameters, or none). The samples are
 * converted back to unit-sum-per-sample units; PSFEx's own models are not renormalised (their sum is PSFEx's
 * photometric normalisation).
 */
export function readPsfex(file: string): PsfModel {
  const f = FitsFile.open(file);
  try {
    const hdu = f.hdu('PSF_DATA');
    const h: Header = hdu.header;
    const where = (p: string) => new FitsError(p, file, hdu.index);
    const naxis = h.getInt('POLNAXIS', 0);
    const size = h.getInt('PSFAXIS1', 0);
    if (h.getInt('PSFAXIS2', 0) !== size) throw where('non-square PSF_MASK is not supported');
    const nt = h.getInt('PSFNAXIS', 2) >= 3 ? h.getInt('PSFAXIS3', 1) : 1;
    let degree = 0;
    let names: [string, string] = ['X_IMAGE', 'Y_IMAGE'];
    let zero: [number, number] = [0, 0];
    let scale: [number, number] = [1, 1];
    if (naxis === 2) {
      if (h.getInt('POLNGRP', 1) !== 1) throw where('only one polynomial group is supported');
      degree = h.getInt('POLDEG1', 0);
      names = [h.getString('POLNAME1') ?? 'X_IMAGE', h.getString('POLNAME2') ?? 'Y_IMAGE'];
      zero = [h.getNumber('POLZERO1', 0), h.getNumber('POLZERO2', 0)];
      scale = [h.getNumber('POLSCAL1', 1), h.getNumber('POLSCAL2', 1)];
    } else if (naxis !== 0) throw where(`POLNAXIS ${naxis} is not supported`);
    if (nTerms(degree) !== nt) throw where(`PSFAXIS3 ${nt} does not match POLDEG1 ${degree}`);
    const step = h.getNumber('PSF_SAMP', 1);
    const col = readTableHdu(f, hdu).columns.find((c) => c.name.toUpperCase() === 'PSF_MASK');
    if (!col) throw where('no PSF_MASK column');
    const data = col.data as ArrayLike<number>;
    if (data.length < nt * size * size) throw where('PSF_MASK is shorter than PSFAXIS1 x PSFAXIS2 x PSFAXIS3');
    const coeffs = new Float64Array(nt * size * size);
    const s2 = step * step;
    for (let q = 0; q < coeffs.length; q++) coeffs[q] = data[q] * s2;
    const model: PsfModel = {
      size, step, degree, frame: { names, zero, scale }, coeffs,
      nStars: h.getInt('ACCEPTED', 0), fwhm: h.getNumber('PSF_FWHM', NaN), residual: h.getNumber('PSF_RESI', NaN),
    };
    checkGeometry(model);
    return model;
  } finally {
    f.close();
  }
}
