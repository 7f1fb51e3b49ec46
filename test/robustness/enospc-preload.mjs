/**
 * Fault injection for the robustness harness: a full disk without a real one. Loaded with
 *   node --import ./enospc-preload.mjs ...   and   ENOSPC_DIR=<dir> ENOSPC_BUDGET=<bytes>
 * every write to a file under ENOSPC_DIR counts against the budget; the write that would exceed it
 * fails with a real-looking ENOSPC error (code, errno, syscall), as the kernel reports a full disk.
 * Node's fs functions are patched on the CommonJS object, then synced to the ES-module bindings.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';

const dir = process.env.ENOSPC_DIR ? path.resolve(process.env.ENOSPC_DIR) + path.sep : undefined;
let budget = Number(process.env.ENOSPC_BUDGET ?? 'Infinity');

if (dir) {
  const fds = new Map();
  const inside = (p) => typeof p === 'string' && path.resolve(p).startsWith(dir);
  const enospc = (syscall, p) => {
    const e = new Error(`ENOSPC: no space left on device, ${syscall}`);
    e.code = 'ENOSPC';
    e.errno = -28;
    e.syscall = syscall;
    if (p) e.path = p;
    return e;
  };
  const spend = (n, syscall, p) => {
    if (n > budget) {
      budget = 0;
      throw enospc(syscall, p);
    }
    budget -= n;
  };
  const { openSync, closeSync, writeSync, writeFileSync, appendFileSync, copyFileSync } = fs;
  fs.openSync = function (p, ...rest) {
    const fd = openSync.call(this, p, ...rest);
    if (inside(String(p))) fds.set(fd, String(p));
    return fd;
  };
  fs.closeSync = function (fd) {
    fds.delete(fd);
    return closeSync.call(this, fd);
  };
  fs.writeSync = function (fd, buf, ...rest) {
    if (fds.has(fd)) {
      const n = typeof buf === 'string' ? Buffer.byteLength(buf) : typeof rest[1] === 'number' ? rest[1] : buf.byteLength - (typeof rest[0] === 'number' ? rest[0] : 0);
      spend(n, 'write');
    }
    return writeSync.call(this, fd, buf, ...rest);
  };
  fs.writeFileSync = function (p, data, ...rest) {
    if (inside(String(p))) spend(typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength, 'write', String(p));
    return writeFileSync.call(this, p, data, ...rest);
  };
  fs.appendFileSync = function (p, data, ...rest) {
    if (inside(String(p))) spend(typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength, 'write', String(p));
    return appendFileSync.call(this, p, data, ...rest);
  };
  fs.copyFileSync = function (src, dst, ...rest) {
    if (inside(String(dst))) spend(fs.statSync(src).size, 'copyfile', String(dst));
    return copyFileSync.call(this, src, dst, ...rest);
  };
  syncBuiltinESMExports();
}
