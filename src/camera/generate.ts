/**
 * Generator of the committed camera definitions data/cameras/*.json:
 *   npx tsx src/camera/generate.ts [SHARED_CAMERAS_DIR]
 * LSSTCam and 'test' from their layout rules (builtin.ts); DECam and MegaCam imported from the SCAMP models
 * decam.ahead / megacam.ahead (default ../shared/data/cameras relative to the repository root).
 */
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cameraFromAhead } from './ahead.js';
import { lsstcamLayout, testLayout } from './builtin.js';
import { cameraToJson } from './load.js';
import type { Camera } from './types.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shared = path.resolve(process.argv[2] ?? path.join(repo, '../shared/data/cameras'));
const outDir = path.join(repo, 'data', 'cameras');

function save(cam: Camera): void {
  const file = path.join(outDir, `${cam.name}.json`);
  writeFileSync(`${file}.tmp`, cameraToJson(cam));
  renameSync(`${file}.tmp`, file);
  process.stdout.write(`${file}: ${cam.detectors.length} detectors, ${cam.plateScale.toFixed(4)} arcsec/mm\n`);
}

save(lsstcamLayout());
save(testLayout());
save(cameraFromAhead(readFileSync(path.join(shared, 'decam.ahead'), 'utf8')));
save(cameraFromAhead(readFileSync(path.join(shared, 'megacam.ahead'), 'utf8')));
