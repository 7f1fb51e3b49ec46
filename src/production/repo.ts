/**
 * The visit repository: a directory holding an index of raw CCD files, the camera, registered reference
 * catalogs, the executor's persisted state and the outputs.
 *   R/repo.json                 { version, camera?: name|relative path, refcat?: relative path }
 *   R/raws.json                 [{ visit, detector, file, hdu, filter, mjd }] sorted by (visit, detector)
 *   R/refcat/<name>             registered reference catalogs (copied in)
 *   R/state/<visit>/<digest>/   executor records (see pipeline/durable.ts)
 *   R/out/<visit>/              catalogs and the visit summary
 *   R/locks/<visit>.lock        one run per visit at a time
 * Every path is built from validated ids (ids.ts), never from raw user or header strings.
 */
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../catalog/write.js';
import { UserError } from '../util/errors.js';
import { checkDetector, checkVisit } from './ids.js';
import { readRefCatalog } from '../astrometry/refcat.js';

export interface RawEntry {
  visit: string;
  detector: number;
  /** absolute path of the raw file */
  file: string;
  /** 0-based HDU index of the CCD's image in the file */
  hdu: number;
  filter?: string;
  mjd?: number;
}

export interface RepoMeta {
  version: 1;
  /** camera: built-in name or a file inside the repository */
  camera?: string;
  /** reference catalog, relative to the repository */
  refcat?: string;
}

export class Repo {
  constructor(readonly root: string) {}

  /** Open an existing repository (R defaults to $LSST_REPO, then the current directory). */
  static open(root?: string, create = false): Repo {
    const r = path.resolve(root ?? process.env.LSST_REPO ?? '.');
    const repo = new Repo(r);
    if (!existsSync(repo.metaFile)) {
      if (!create) throw new UserError(`${r}: not a repository (no repo.json); run 'lsst-prod ingest --repo ${r} ...' first`);
      mkdirSync(r, { recursive: true });
      repo.writeMeta({ version: 1 });
    }
    return repo;
  }

  get metaFile(): string {
    return path.join(this.root, 'repo.json');
  }

  meta(): RepoMeta {
    try {
      const m = JSON.parse(readFileSync(this.metaFile, 'utf8')) as RepoMeta;
      if (m.version !== 1) throw new Error(`version ${String(m.version)}`);
      return m;
    } catch (e) {
      throw new UserError(`${this.metaFile}: unreadable repository metadata (${(e as Error).message})`);
    }
  }

  writeMeta(m: RepoMeta): void {
    writeFileAtomic(this.metaFile, `${JSON.stringify(m, null, 2)}\n`);
  }

  raws(): RawEntry[] {
    const f = path.join(this.root, 'raws.json');
    if (!existsSync(f)) return [];
    try {
      return JSON.parse(readFileSync(f, 'utf8')) as RawEntry[];
    } catch (e) {
      throw new UserError(`${f}: unreadable raw index (${(e as Error).message})`);
    }
  }

  /** Add or replace entries (by visit and detector); returns how many were new. */
  addRaws(entries: RawEntry[]): number {
    const all = new Map(this.raws().map((r) => [`${r.visit}/${r.detector}`, r]));
    let added = 0;
    for (const e of entries) {
      const v = checkVisit(e.visit);
      const d = checkDetector(e.detector);
      if (!all.has(`${v}/${d}`)) added++;
      all.set(`${v}/${d}`, { ...e, visit: v, detector: d });
    }
    const sorted = [...all.values()].sort((a, b) => (a.visit < b.visit ? -1 : a.visit > b.visit ? 1 : a.detector - b.detector));
    writeFileAtomic(path.join(this.root, 'raws.json'), `${JSON.stringify(sorted, null, 1)}\n`);
    return added;
  }

  visitRaws(visit: string): RawEntry[] {
    const v = checkVisit(visit);
    const list = this.raws().filter((r) => r.visit === v);
    if (!list.length) throw new UserError(`visit ${v}: no raw data in ${this.root} (ingest it first)`);
    return list;
  }

  /** Register a reference catalog: copied into R/refcat/ so the repository is self-contained. */
  registerRefcat(file: string): string {
    if (!existsSync(file) || !statSync(file).isFile()) throw new UserError(`${file}: no such reference catalog`);
    const meta = this.meta();
    readRefCatalog(file); // validates: ra, dec and a magnitude column (one-line error naming what is missing)
    const name = path.basename(file).replace(/[^A-Za-z0-9_.-]/g, '_');
    mkdirSync(path.join(this.root, 'refcat'), { recursive: true });
    const dest = path.join(this.root, 'refcat', name);
    copyFileSync(file, `${dest}.tmp`);
    renameSync(`${dest}.tmp`, dest);
    this.writeMeta({ ...meta, refcat: path.join('refcat', name) });
    return dest;
  }

  refcatPath(): string | undefined {
    const r = this.meta().refcat;
    return r ? path.join(this.root, r) : undefined;
  }

  stateDir(visit: string, digest: string): string {
    if (!/^[0-9a-f]{8,64}$/.test(digest)) throw new Error(`invalid digest ${digest}`);
    return path.join(this.root, 'state', checkVisit(visit), digest);
  }

  outDir(visit: string): string {
    return path.join(this.root, 'out', checkVisit(visit));
  }

  /**
   * Take the visit's lock (O_EXCL file holding our pid). A lock left by a dead process is taken over;
   * one held by a live process refuses with a clear message.
   */
  lock(visit: string): () => void {
    const dir = path.join(this.root, 'locks');
    mkdirSync(dir, { recursive: true });
    const f = path.join(dir, `${checkVisit(visit)}.lock`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(f, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return () => rmSync(f, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = Number(readFileSync(f, 'utf8').trim());
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
          throw new UserError(`visit ${visit} is already being processed by process ${pid} (lock ${f})`);
        }
        rmSync(f, { force: true });
      }
    }
    throw new UserError(`visit ${visit}: cannot take the lock ${f}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
