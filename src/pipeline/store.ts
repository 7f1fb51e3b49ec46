/**
 * Record stores for the durable executor. Keys are relative paths of safe identifiers ("ccd-0042/s0003").
 * FsStore writes atomically (temp file + fsync + rename); MemoryStore serves quick mode and tests.
 */
import { mkdirSync, readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';
import path from 'node:path';

export interface RecordStore {
  read(key: string): Uint8Array | undefined;
  write(key: string, bytes: Uint8Array): void;
  remove(key: string): void;
  /** keys directly under a prefix folder ("gather/g000-psf"), sorted */
  list(prefix: string): string[];
}

/** The store itself failed (disk full, I/O error): the run stops, the repository stays consistent and resumable. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
}

const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/;

export function checkKey(key: string): string {
  if (!KEY.test(key) || key.split('/').some((p) => p === '..' || p === '.')) throw new Error(`invalid record key '${key}'`);
  return key;
}

export class MemoryStore implements RecordStore {
  private readonly map = new Map<string, Uint8Array>();
  read(key: string): Uint8Array | undefined {
    return this.map.get(checkKey(key));
  }
  write(key: string, bytes: Uint8Array): void {
    this.map.set(checkKey(key), bytes);
  }
  remove(key: string): void {
    this.map.delete(checkKey(key));
  }
  list(prefix: string): string[] {
    const p = `${checkKey(prefix)}/`;
    return [...this.map.keys()].filter((k) => k.startsWith(p) && !k.slice(p.length).includes('/')).sort();
  }
}

export class FsStore implements RecordStore {
  constructor(readonly root: string) {}

  private file(key: string): string {
    return path.join(this.root, `${checkKey(key)}.rec`);
  }

  read(key: string): Uint8Array | undefined {
    try {
      return readFileSync(this.file(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  write(key: string, bytes: Uint8Array): void {
    const f = this.file(key);
    try {
      mkdirSync(path.dirname(f), { recursive: true });
      writeFileAtomic(f, bytes, { fsync: true });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new StoreError(`cannot write ${f}: ${err.code ?? err.message}`);
    }
  }

  remove(key: string): void {
    try {
      unlinkSync(this.file(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  list(prefix: string): string[] {
    try {
      return readdirSync(path.join(this.root, checkKey(prefix)))
        .filter((f) => f.endsWith('.rec'))
        .map((f) => `${prefix}/${f.slice(0, -4)}`)
        .sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }
}
