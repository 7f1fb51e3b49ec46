import { describe, expect, it } from 'vitest';
import type { CoordinatorEvent } from '../src/pipeline/coordinator.js';
import { MemoryStore, StoreError, type RecordStore } from '../src/pipeline/store.js';
import { keys, readRecord } from '../src/pipeline/durable.js';
import type { PipelineDef } from '../src/pipeline/sensor.js';

import { toy, type Cfg } from './fixtures/toy-pipeline.js';
import { runVisit as run } from '../src/pipeline/run-visit.js';
import { FsStore } from '../src/pipeline/store.js';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const dets = [0, 1, 2, 3, 4, 5, 6, 7, 8];
async function runVisit(store: RecordStore, cfg: Cfg, memoryBytes: number, events: CoordinatorEvent[] = []) {
  return run({ pipeline: toy, store, visit: { visit: '1', detectors: dets }, config: cfg, memoryBytes, onEvent: (e) => events.push(e) });
}

function snapshot(store: MemoryStore): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of (store as unknown as { map: Map<string, Uint8Array> }).map.keys()) {
    out[k] = Buffer.from(store.read(k)!).toString('hex');
  }
  return out;
}

describe('durable coroutine executor', () => {
  const cfg = { n: 1000 };
  // Truth: values det*10 + (i % 7); the visit mean over all CCDs.
  const truthMean = dets.reduce((a, d) => a + 10 * d, 0) / 9 + [...Array(1000).keys()].reduce((a, i) => a + (i % 7), 0) / 1000;

  it('computes the central result over all CCDs', async () => {
    const store = new MemoryStore();
    const out = await runVisit(store, cfg, Infinity);
    expect(out.done).toEqual(dets);
    const st = readRecord<{ state: string; output: { offset: number } }>(store, keys.status(3))!;
    expect(st.state).toBe('done');
    expect(st.output.offset).toBeCloseTo(truthMean, 10);
    expect(out.drops).toBe(0);
  });

  it('gives byte-identical records under the smallest budget (one CCD) and replays instead of recomputing', async () => {
    const a = new MemoryStore();
    await runVisit(a, cfg, Infinity);
    const b = new MemoryStore();
    const ev: CoordinatorEvent[] = [];
    const out = await runVisit(b, cfg, 8000, ev);
    expect(out.drops).toBeGreaterThan(0);
    expect(out.starts).toBeGreaterThan(9); // dropped CCDs were replayed
    // Every step computed exactly once overall: replays load persisted results.
    expect(out.stepsComputed).toBe(18);
    // Never more than one live coroutine.
    let live = 0, peak = 0;
    for (const e of ev) {
      if (e.kind === 'start') live++;
      if (e.kind === 'drop' || e.kind === 'done' || e.kind === 'failed') live--;
      peak = Math.max(peak, live);
    }
    expect(peak).toBe(1);
    expect(snapshot(b)).toEqual(snapshot(a));
  });

  it('resumes after a crash at any write and ends byte-identical', async () => {
    const clean = new MemoryStore();
    await runVisit(clean, cfg, Infinity);
    const totalWrites = Object.keys(snapshot(clean)).length;
    for (let crashAt = 1; crashAt < totalWrites; crashAt += 3) {
      const store = new MemoryStore();
      let writes = 0;
      const crashing: RecordStore = {
        read: (k) => store.read(k),
        remove: (k) => store.remove(k),
        list: (p) => store.list(p),
        write: (k, b) => {
          // a kill -9: from the crash on, nothing more reaches the store
          if (++writes >= crashAt) throw new StoreError('simulated crash');
          store.write(k, b);
        },
      };
      await runVisit(crashing, cfg, 8000).catch(() => undefined);
      const out = await runVisit(store, cfg, 8000);
      expect(out.done).toEqual(dets);
      expect(snapshot(store)).toEqual(snapshot(clean));
    }
  });

  it('marks a throwing CCD failed, finishes the others, and reducers see Failed', async () => {
    const store = new MemoryStore();
    const out = await runVisit(store, { n: 100, failOn: 4 }, Infinity);
    expect(out.failed).toEqual([{ det: 4, message: 'detector 4 is broken' }]);
    expect(out.done).toEqual(dets.filter((d) => d !== 4));
    const st = readRecord<{ output: { total: number } }>(store, keys.status(0))!;
    // 'count' saw 8 live CCDs
    const live = readRecord<{ value: { live: number } }>(store, keys.result(1))!.value.live;
    expect(live).toBe(8);
    expect(Number.isFinite(st.output.total)).toBe(true);
  });

  it('detects a non-deterministic replay', async () => {
    const store = new MemoryStore();
    await runVisit(store, cfg, 8000);
    store.remove(keys.status(2));
    const bad: PipelineDef<Cfg> = { ...toy, async sensor(ctx) { await ctx.step('other', () => 1); return 0; } };
    const out = await run({ pipeline: bad, store, visit: { visit: '1', detectors: dets }, config: cfg });
    expect(out.failed[0].message).toMatch(/recorded as 'make' but the replay called 'other'/);
  });

  it('gives the same bytes on disk with --jobs 2 (worker threads) as inline', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'exec-'));
    try {
      const files = (root: string): Record<string, string> => {
        const out: Record<string, string> = {};
        const walk = (d: string) => {
          for (const f of readdirSync(d)) {
            const p = path.join(d, f);
            if (statSync(p).isDirectory()) walk(p);
            else out[path.relative(root, p)] = readFileSync(p).toString('hex');
          }
        };
        walk(root);
        return out;
      };
      const ref = { module: new URL('./fixtures/toy-pipeline.ts', import.meta.url).href, export: 'toy' };
      const a = new FsStore(path.join(tmp, 'a'));
      const b = new FsStore(path.join(tmp, 'b'));
      await run({ pipeline: toy, store: a, visit: { visit: '1', detectors: dets }, config: cfg });
      const out = await run({ pipeline: toy, pipelineRef: ref, store: b, visit: { visit: '1', detectors: dets }, config: cfg, jobs: 2, memoryBytes: 16000 });
      expect(out.done).toEqual(dets);
      expect(out.drops).toBeGreaterThan(0);
      expect(files(b.root)).toEqual(files(a.root));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
