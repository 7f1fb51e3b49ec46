/** Worker-thread entry of simulateVisit: receives detector ids, simulates and writes them, replies with summaries. */
import { parentPort, workerData } from 'node:worker_threads';
import { simulateVisitCcd } from './visit-ccd.js';
import { writeCcd } from './visit-io.js';
import type { VisitModel } from './visit-model.js';

const { root, model, masks } = workerData as { root: string; model: VisitModel; masks: boolean };
const port = parentPort!;
port.on('message', (id: number) => {
  try {
    const det = model.camera.detectors.find((d) => d.id === id);
    if (!det) throw new Error(`no detector ${id}`);
    port.postMessage({ summary: writeCcd(root, model, simulateVisitCcd(model, det), masks) });
  } catch (e) {
    port.postMessage({ error: (e as Error).message });
  }
});
port.postMessage({ ready: true });
