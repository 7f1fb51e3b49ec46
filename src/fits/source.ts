/**
 * Byte sources: random access to the bytes of a FITS file, either on disk (sync fs reads, nothing
 * loaded up front) or in memory (a Buffer, or a whole-file gzip decompressed at open).
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { constants as bufferConstants } from 'node:buffer';
import { FitsError } from './errors.js';

/** Random-access bytes. Reads outside [0, size) throw FitsError. */
export interface ByteSource {
  /** Name used in error messages (usually the file path). */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /** Bytes [offset, offset + length): a fresh copy for files, possibly a view for memory sources. */
  read(offset: number, length: number): Uint8Array;
  /** Fill `target` with the bytes starting at `offset`. */
  readInto(offset: number, target: Uint8Array): void;
  /** Release the file descriptor (no-op for memory sources). */
  close(): void;
}

function checkRange(src: ByteSource, offset: number, length: number): void {
  if (!(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0)) {
    throw new FitsError(`invalid read of ${length} bytes at offset ${offset}`, src.name);
  }
  if (offset + length > src.size) {
    throw new FitsError(`file truncated: needs bytes up to ${offset + length}, file holds ${src.size}`, src.name);
  }
}

/** Bytes held in memory. `read` returns views (no copy): do not modify them. */
export class MemorySource implements ByteSource {
  readonly size: number;
  constructor(
    readonly bytes: Uint8Array,
    readonly name = '<memory>',
  ) {
    this.size = bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    checkRange(this, offset, length);
    return this.bytes.subarray(offset, offset + length);
  }
  readInto(offset: number, target: Uint8Array): void {
    checkRange(this, offset, target.length);
    target.set(this.bytes.subarray(offset, offset + target.length));
  }
  close(): void {}
}

/** A file on disk read with positioned synchronous reads. */
export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number | undefined;
  constructor(readonly name: string) {
    try {
      this.fd = fs.openSync(name, 'r');
      this.size = fs.fstatSync(this.fd).size;
    } catch (e) {
      throw new FitsError(`cannot open: ${(e as Error).message}`, name);
    }
  }
  read(offset: number, length: number): Uint8Array {
    checkRange(this, offset, length);
    const out = new Uint8Array(length);
    this.readInto(offset, out);
    return out;
  }
  readInto(offset: number, target: Uint8Array): void {
    checkRange(this, offset, target.length);
    if (this.fd === undefined) throw new FitsError('file already closed', this.name);
    let done = 0;
    // readSync caps a single read near 2 GB: loop in chunks.
    const CHUNK = 1 << 30;
    while (done < target.length) {
      const want = Math.min(CHUNK, target.length - done);
      const n = fs.readSync(this.fd, target, done, want, offset + done);
      if (n <= 0) throw new FitsError(`file truncated: read stopped at byte ${offset + done}`, this.name);
      done += n;
    }
  }
  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Default cap on the decompressed size of a whole-file gzip (bytes). */
export const DEFAULT_MAX_GUNZIP = bufferConstants.MAX_LENGTH;

export interface OpenSourceOptions {
  /** Maximum decompressed size accepted for .gz input (default: the largest Buffer, 4 GiB on 64-bit Node). */
  maxGunzipBytes?: number;
}

/** True when the bytes start with the gzip magic 1f 8b. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Decompress a whole gzip stream (multi-member allowed) under a size cap; FitsError on corrupt input or overflow. */
export function gunzipBytes(gz: Uint8Array, name: string, maxBytes = DEFAULT_MAX_GUNZIP): Uint8Array {
  try {
    return zlib.gunzipSync(gz, { maxOutputLength: Math.min(maxBytes, DEFAULT_MAX_GUNZIP) });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new FitsError(`gzip data decompresses to more than ${maxBytes} bytes`, name);
    }
    throw new FitsError(`corrupt gzip data: ${err.message}`, name);
  }
}

/** Open a file as a ByteSource; gzip-compressed files (detected by magic bytes, not by name) are decompressed into memory. */
export function openSource(path: string, opts: OpenSourceOptions = {}): ByteSource {
  const file = new FileSource(path);
  if (file.size < 2) return file;
  if (!isGzip(file.read(0, 2))) return file;
  try {
    const gz = file.read(0, file.size);
    return new MemorySource(gunzipBytes(gz, path, opts.maxGunzipBytes), path);
  } finally {
    file.close();
  }
}

/** Wrap in-memory bytes as a ByteSource, decompressing them first if they are gzip. */
export function memorySource(bytes: Uint8Array, name = '<memory>', opts: OpenSourceOptions = {}): ByteSource {
  return isGzip(bytes) ? new MemorySource(gunzipBytes(bytes, name, opts.maxGunzipBytes), name) : new MemorySource(bytes, name);
}
