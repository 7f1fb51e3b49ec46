/** Writing a file in one piece: a temporary name beside it, optionally fsynced, then renamed. */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

let tmpN = 0;

/** Write bytes to a temporary file beside `file`, then rename: never a partial output (the temp is removed on error). */
export function writeFileAtomic(file: string, bytes: Uint8Array | string, opts: { fsync?: boolean } = {}): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${tmpN++}`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      const b = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
      let off = 0;
      while (off < b.length) off += writeSync(fd, b, off, b.length - off);
      if (opts.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
