/**
 * Loading one CCD's inputs: the image HDU, optional weight map and mask (same shape), and the
 * header-derived GAIN and SATURATE (the header keyword wins over the config value, as in SExtractor).
 */
import { FitsFile } from '../fits/index.js';
import { readImage } from '../fits/index.js';
// installs the tile-compressed image decoder (RICE_1, GZIP_1/2, HCOMPRESS_1, PLIO_1) into readImage
import '../fits/compress/reader.js';
import type { Header } from '../fits/header.js';
import { imageHeaderFromCompressed, isCompressedImage } from '../fits/compress/params.js';
import type { Plane } from '../image/types.js';
import { UserError } from '../util/errors.js';
import type { Config } from './config.js';

export interface HduRef {
  file: string;
  /** 0-based HDU index */
  hdu: number;
}

export interface CcdInput {
  image: HduRef;
  weight?: HduRef;
  mask?: HduRef;
}

export interface LoadedCcd {
  image: Plane;
  header: Header;
  weight?: Plane;
  weightType?: 'weight' | 'variance' | 'rms';
  /** non-zero = bad pixel */
  mask?: Uint8Array;
  gain: number;
  saturLevel: number;
}

function readHdu(ref: HduRef): { plane: Plane; header: Header } {
  const f = FitsFile.open(ref.file);
  try {
    const img = readImage(f, ref.hdu, { as: 'float32' });
    if (img.axes.length !== 2) throw new UserError(`${ref.file}: HDU ${ref.hdu}: image has ${img.axes.length} axes, expected 2`);
    return { plane: { width: img.width, height: img.height, data: img.data as Float32Array }, header: img.header };
  } finally {
    f.close();
  }
}

/** The image HDU's header alone (a tile-compressed HDU's as the uncompressed image's), without reading pixels. */
export function loadHeader(input: CcdInput): Header {
  const f = FitsFile.open(input.image.file);
  try {
    const h = f.hdu(input.image.hdu).header;
    return isCompressedImage(h) ? imageHeaderFromCompressed(h) : h;
  } finally {
    f.close();
  }
}

function sameShape(what: string, ref: HduRef, p: Plane, img: Plane): void {
  if (p.width !== img.width || p.height !== img.height) {
    throw new UserError(`${ref.file}: HDU ${ref.hdu}: ${what} is ${p.width}x${p.height} but the image is ${img.width}x${img.height}`);
  }
}

const WEIGHT_TYPES = { map_weight: 'weight', map_var: 'variance', map_rms: 'rms' } as const;

export function loadCcd(input: CcdInput, c: Config): LoadedCcd {
  const { plane: image, header } = readHdu(input.image);
  let weight: Plane | undefined;
  let weightType: LoadedCcd['weightType'];
  if (input.weight) {
    weight = readHdu(input.weight).plane;
    sameShape('the weight map', input.weight, weight, image);
    weightType = WEIGHT_TYPES[(c.WEIGHT_TYPE as keyof typeof WEIGHT_TYPES) ?? 'map_weight'] ?? 'weight';
  }
  let mask: Uint8Array | undefined;
  if (input.mask) {
    const m = readHdu(input.mask).plane;
    sameShape('the mask', input.mask, m, image);
    mask = new Uint8Array(m.data.length);
    for (let i = 0; i < mask.length; i++) mask[i] = m.data[i] !== 0 ? 1 : 0;
  }
  const gain = header.getNumber(c.GAIN_KEY as string) ?? (c.GAIN as number);
  const saturLevel = header.getNumber(c.SATUR_KEY as string) ?? (c.SATUR_LEVEL as number);
  return { image, header, weight, weightType, mask, gain: Number.isFinite(gain) && gain >= 0 ? gain : 0, saturLevel };
}
