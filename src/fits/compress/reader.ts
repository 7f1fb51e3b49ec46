/**
 * Plugs the tile-compressed image decoder into readImage / readImageRows (image.ts): importing this
 * module registers it. The returned FitsImage carries the reconstructed image header (BITPIX, NAXISn
 * from ZBITPIX, ZNAXISn; WCS and other keywords kept) and the same pixel conversions
 * (BSCALE/BZERO/BLANK, output type) as uncompressed images.
 */
import { FitsError } from '../errors.js';
import type { FitsFile, Hdu } from '../file.js';
import { type FitsImage, type ImageReadOptions, imageScaling, registerCompressedImageReader } from '../image.js';
import { decodePixels, defaultOutput, swapToHost } from '../pixels.js';
import { imageHeaderFromCompressed } from './params.js';
import { decompressImage } from './tiled.js';

/** Read rows [y0, y0 + ny) of a tile-compressed image HDU (rows of NAXIS1 pixels over all higher axes). */
export function readCompressedImage(file: FitsFile, hdu: Hdu, y0: number, ny: number, opts: ImageReadOptions = {}): FitsImage {
  try {
    const img = decompressImage(hdu.header, file.readData(hdu), { rows: [y0, y0 + ny] });
    const header = imageHeaderFromCompressed(hdu.header);
    const bitpix = img.info.zbitpix;
    const scaling = imageScaling(header, bitpix);
    // decodePixels takes big-endian bytes (it swaps in place): hand it our host-order pixels swapped.
    const bpp = Math.abs(bitpix) / 8;
    const raw = new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength);
    swapToHost(raw, bpp);
    const { data, scaled } = decodePixels(raw, bitpix, scaling, opts.as ?? defaultOutput(bitpix));
    return { width: img.width, height: img.height, y0, axes: img.info.axes, bitpix, data, scaled, scaling, header, hdu: hdu.index };
  } catch (e) {
    if (e instanceof FitsError) throw e.locate(file.name, hdu.index);
    throw e;
  }
}

registerCompressedImageReader(readCompressedImage);
