/** Reading a visit's persisted state: the latest job, per-CCD step records, gathers and status. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { keys, readRecord, type CcdStatus, type Named } from '../pipeline/durable.js';
import { FsStore } from '../pipeline/store.js';
import { UserError } from '../util/errors.js';
import { checkVisit } from './ids.js';
import type { Repo } from './repo.js';
import type { VisitJob } from './visit-pipeline.js';

export interface VisitState {
  stateDir: string;
  job: VisitJob;
  store: FsStore;
}

/** The state of the latest run of a visit (or of the run with the given digest). */
export function openVisitState(repo: Repo, visit: string): VisitState {
  const v = checkVisit(visit);
  const latest = path.join(repo.root, 'state', v, 'latest');
  if (!existsSync(latest)) throw new UserError(`visit ${v}: never run in ${repo.root}`);
  const digest = readFileSync(latest, 'utf8').trim();
  if (!/^[0-9a-f]{8,64}$/.test(digest)) throw new UserError(`${latest}: invalid state digest '${digest.slice(0, 40)}'`);
  const stateDir = repo.stateDir(v, digest);
  return { stateDir, job: readJob(stateDir), store: new FsStore(stateDir) };
}

export function readJob(dir: string): VisitJob {
  const f = path.join(dir, 'job.json');
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as VisitJob;
  } catch (e) {
    throw new UserError(`${f}: unreadable job description (${(e as Error).message})`);
  }
}

export interface CcdState {
  detector: number;
  steps: string[];
  gathersPosted: number;
  status: 'done' | 'failed' | 'pending';
  message?: string;
}

export function ccdStates(st: VisitState): { ccds: CcdState[]; gathers: { g: number; name: string; posted: number; resolved: boolean }[] } {
  const dets = Object.keys(st.job.raws).map(Number).sort((a, b) => a - b);
  const gathers: { g: number; name: string; posted: number; resolved: boolean }[] = [];
  for (let g = 0; ; g++) {
    const posted = st.store.list(keys.round(g)).filter((k) => !k.endsWith('/result'));
    const result = readRecord<Named<unknown>>(st.store, keys.result(g), true);
    if (!posted.length && !result) break;
    const name = result?.name ?? readRecord<{ name: string }>(st.store, posted[0], true)?.name ?? '?';
    gathers.push({ g, name, posted: posted.length, resolved: !!result });
  }
  const ccds = dets.map((detector) => {
    const steps = st.store
      .list(keys.ccd(detector))
      .filter((k) => /\/s\d+$/.test(k))
      .map((k) => readRecord<Named<unknown>>(st.store, k, true)?.name ?? '(corrupt)');
    const status = readRecord<CcdStatus>(st.store, keys.status(detector), true);
    let gathersPosted = 0;
    for (const g of gathers) if (st.store.read(keys.summary(g.g, detector))) gathersPosted++;
    return {
      detector,
      steps,
      gathersPosted,
      status: status?.state ?? 'pending',
      ...(status?.state === 'failed' ? { message: status.message } : {}),
    } as CcdState;
  });
  return { ccds, gathers };
}
