/**
 * Progress of a visit run: a cli-progress multibar (one bar per gather round and one for completion) on a
 * TTY, plain lines on stderr otherwise, filtered by --log-level.
 */
import type { CoordinatorEvent } from '../pipeline/coordinator.js';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Progress {
  onEvent(e: CoordinatorEvent): void;
  stop(): void;
}

export async function makeProgress(total: number, level: LogLevel, tty: boolean): Promise<Progress> {
  const log = (l: LogLevel, msg: string) => {
    if (RANK[l] <= RANK[level]) process.stderr.write(`lsst-prod: ${msg}\n`);
  };
  if (tty && RANK[level] >= RANK.info) {
    const { default: cp } = await import('cli-progress');
    const multi = new cp.MultiBar({ format: '{name} [{bar}] {value}/{total}', hideCursor: true, clearOnComplete: false }, cp.Presets.shades_classic);
    const rounds = new Map<number, { increment(): void }>();
    const done = multi.create(total, 0, { name: 'CCDs done'.padEnd(18) });
    return {
      onEvent(e) {
        if (e.kind === 'posted') {
          let b = rounds.get(e.g);
          if (!b) rounds.set(e.g, (b = multi.create(total, 0, { name: `gather ${e.name}`.slice(0, 18).padEnd(18) })));
          b.increment();
        } else if (e.kind === 'done' || e.kind === 'failed') done.increment();
        if (e.kind === 'failed') multi.log(`detector ${e.det} failed: ${e.message}\n`);
      },
      stop: () => multi.stop(),
    };
  }
  return {
    onEvent(e) {
      switch (e.kind) {
        case 'start':
          log('debug', `detector ${e.det}: ${e.replay ? 'replay' : 'start'}`);
          break;
        case 'posted':
          log('debug', `detector ${e.det}: posted gather ${e.name}`);
          break;
        case 'drop':
          log('debug', `detector ${e.det}: dropped at gather #${e.g} (memory budget)`);
          break;
        case 'reduce':
          log('info', `gather ${e.name}: reduced in ${e.ms.toFixed(0)} ms`);
          break;
        case 'done':
          log('info', `detector ${e.det}: done (${e.counters.stepsComputed} steps computed, ${e.counters.stepsReplayed} replayed)`);
          break;
        case 'failed':
          log('warn', `detector ${e.det}: FAILED: ${e.message}`);
          break;
      }
    },
    stop() {},
  };
}
