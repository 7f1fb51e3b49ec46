/**
 * Test hook for the Slurm engine's task retries: LSST_PROD_TEST_SLURM_KILL="<detector>[:<writes>]" makes that
 * detector's task kill itself with SIGKILL once, right after its <writes>-th record write (default 1), as a node
 * failure or an OOM kill would, mid-run. A marker file in the run's slurm/ directory makes it happen only once.
 * Without the variable the store is returned unchanged.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RecordStore } from '../../pipeline/store.js';

export const KILL_ENV = 'LSST_PROD_TEST_SLURM_KILL';

export function killSwitch(store: RecordStore, stateDir: string, det: number): RecordStore {
  const m = /^(\d+)(?::(\d+))?$/.exec(process.env[KILL_ENV] ?? '');
  if (!m || Number(m[1]) !== det) return store;
  const marker = path.join(stateDir, 'slurm', `test-killed-${det}`);
  if (existsSync(marker)) return store;
  const after = Math.max(1, Number(m[2] ?? 1));
  let writes = 0;
  return {
    read: (k) => store.read(k),
    remove: (k) => store.remove(k),
    list: (p) => store.list(p),
    write(k, bytes) {
      store.write(k, bytes);
      if (++writes < after) return;
      mkdirSync(path.dirname(marker), { recursive: true });
      writeFileSync(marker, `killed after ${writes} record write(s), the last ${k}\n`);
      process.stderr.write(`lsst-prod: ${KILL_ENV}: detector ${det} kills itself (test hook)\n`);
      process.kill(process.pid, 'SIGKILL');
    },
  };
}
