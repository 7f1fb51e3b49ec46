/** Public FITS API: headers, files and HDUs, images, writing, checksums. */
export { FitsError } from './errors.js';
export { Header, formatCard, MAX_HEADER_CARDS, type Card, type CardValue, type Where } from './header.js';
export { BLOCK, CARD, normalizeKey, isHierarchKey } from './card.js';
export {
  FileSource,
  MemorySource,
  openSource,
  memorySource,
  gunzipBytes,
  isGzip,
  DEFAULT_MAX_GUNZIP,
  type ByteSource,
  type OpenSourceOptions,
} from './source.js';
export { FitsFile, describeHdu, fitsFromBuffer, type Hdu, type HduType, type OpenOptions } from './file.js';
export {
  decodePixels,
  encodePixels,
  defaultOutput,
  isOffsetInteger,
  swapToHost,
  type Bitpix,
  type PixelArray,
  type PixelOutput,
  type Scaling,
  type EncodeOptions,
} from './pixels.js';
export {
  readImage,
  readImageRows,
  readImageFile,
  readPlane,
  imageScaling,
  firstImageHdu,
  registerCompressedImageReader,
  compressedImagesSupported,
  type FitsImage,
  type ImageReadOptions,
  type CompressedImageReader,
} from './image.js';
export {
  writeFits,
  fitsBytes,
  imageHdu,
  writeImage,
  normalizeHeader,
  type HduInput,
  type HduData,
  type WriteOptions,
  type ImageHduOptions,
} from './write.js';
export {
  Checksum,
  onesComplementSum,
  addSums,
  encodeChecksum,
  datasumString,
  dataSum,
  verifyChecksum,
  type ChecksumStatus,
  type SumStatus,
} from './checksum.js';

// Binary tables and tile-compressed images.
export {
  readTable, readColumn, readTableHdu, readAsciiTable, buildTable, parseTForm, formatTForm, tableLayout, findColumn,
  type Column, type ColumnData, type HeapCell, type NumericArray, type ReadTableOptions, type Table,
  type BuildTableOptions, type BuiltTable, type ColumnSpec, type ColumnInfo, type TForm, type TableLayout,
} from './table.js';
export { decompressImage, type DecompressOptions, type DecompressedImage, type TilePixels } from './compress/tiled.js';
export { compressedImageInfo, imageHeaderFromCompressed, isCompressedImage, type CompressedImageInfo } from './compress/params.js';
export { compressImage, type CompressImageOptions } from './compress/compress-image.js';
// importing reader.js registers the ZIMAGE decoder with readImage / readImageRows: import FITS from
// this index (not from image.ts directly) wherever compressed images must be readable.
export { readCompressedImage } from './compress/reader.js';
