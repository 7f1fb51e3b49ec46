/**
 * A minimal worker-thread pool: each worker imports a module exporting `runTask(input)`, and takes tasks
 * one at a time in submission order; results come back in task order. Under the TypeScript sources
 * (tests) workers register the tsx loader first. (We keep this instead of piscina because the same
 * bootstrap serves the executor's long-lived coroutine hosts and runs under tsx in tests.)
 */
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { usableBundle } from './code-cache.js';

export function spawnWorker(entry: URL, workerData: unknown): Worker {
  if (entry.pathname.endsWith('.ts'))
    return new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true, workerData });
  // built: the entry's bundle with its code cache when there is a fresh one (see code-cache.ts)
  const bundle = usableBundle(fileURLToPath(entry));
  if (bundle) {
    const loader = new URL('./code-cache.js', import.meta.url).href;
    return new Worker(`import(${JSON.stringify(loader)}).then((m) => m.runBundle(${JSON.stringify(bundle)}))`, { eval: true, workerData });
  }
  return new Worker(entry, { workerData });
}

/**
 * Run tasks over `jobs` lanes. With `inline`, this thread is one of the lanes (its modules are loaded and its
 * code already compiled: a worker needs both first), so only jobs - 1 workers are started.
 */
export async function runPool<I, O>(entry: URL, tasks: readonly I[], jobs: number, onResult?: (i: number, o: O) => void, inline?: (input: I) => Promise<O>): Promise<O[]> {
  const results: O[] = new Array(tasks.length);
  let next = 0;
  let failure: unknown;
  const n = Math.max(1, Math.min(jobs, tasks.length));
  const workers = Array.from({ length: inline ? n - 1 : n }, () => spawnWorker(entry, { pool: true }));
  const inlineLane = async (): Promise<void> => {
    while (failure === undefined && next < tasks.length) {
      const i = next++;
      try {
        results[i] = await inline!(tasks[i]);
        onResult?.(i, results[i]);
      } catch (e) {
        failure ??= e;
      }
      // let the workers' finished tasks be answered before the next long synchronous task here
      await new Promise((r) => setImmediate(r));
    }
  };
  try {
    await Promise.all([
      ...(inline ? [inlineLane()] : []),
      ...workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const feed = () => {
              if (failure !== undefined || next >= tasks.length) return resolve();
              const i = next++;
              w.once('message', (m: { ok: true; value: O } | { ok: false; error: { message: string; name: string; exitCode?: number } }) => {
                if (m.ok) {
                  results[i] = m.value;
                  onResult?.(i, m.value);
                } else {
                  const e = new Error(m.error.message) as Error & { exitCode?: number };
                  e.name = m.error.name;
                  failure ??= e;
                }
                feed();
              });
              w.postMessage(tasks[i]);
            };
            w.once('error', (e) => {
              failure ??= e;
              resolve();
            });
            feed();
          }),
      ),
    ]);
  } finally {
    // after a clean run the workers are told to close and exit by themselves (their exit handlers run: see
    // runBundle's cache writing); after a failure, or if one does not exit within a second, they are terminated
    await Promise.all(
      workers.map(async (w) => {
        if (failure !== undefined) return w.terminate();
        const exited = once(w, 'exit').catch(() => undefined);
        w.postMessage(null);
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)));
        await Promise.race([exited, late]);
        clearTimeout(timer);
        await w.terminate(); // no-op once it has exited
      }),
    );
  }
  if (failure !== undefined) throw failure;
  return results;
}

/** Worker side: answer each task message with runTask's result (errors as {name, message}); null closes the port. */
export function serveTasks<I, O>(port: import('node:worker_threads').MessagePort, runTask: (input: I) => Promise<O> | O, transfer?: (o: O) => ArrayBuffer[]): void {
  port.on('message', async (input: I | null) => {
    if (input === null) return port.close();
    try {
      const value = await runTask(input);
      port.postMessage({ ok: true, value }, transfer?.(value) ?? []);
    } catch (e) {
      const err = e as Error & { exitCode?: number };
      port.postMessage({ ok: false, error: { name: err?.name ?? 'Error', message: err?.message ?? String(e), exitCode: err?.exitCode } });
    }
  });
}
