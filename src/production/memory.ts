import { totalmem } from 'node:os';
import { UserError } from '../util/errors.js';

const UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40, ki: 2 ** 10, mi: 2 ** 20, gi: 2 ** 30,
};

/** Parse a memory size: "4GiB", "512MB", "1.5G", "300000000", "unlimited", "auto" (half the machine's memory). */
export function parseMemory(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === 'unlimited' || t === 'inf' || t === 'none') return Infinity;
  if (t === 'auto') return Math.floor(totalmem() / 2);
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(t);
  if (!m || !(m[2] in UNITS)) throw new UserError(`invalid memory size '${s}' (e.g. 4GiB, 512MB, auto, unlimited)`);
  const v = Number(m[1]) * UNITS[m[2]];
  if (!(v > 0)) throw new UserError(`invalid memory size '${s}'`);
  return Math.floor(v);
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return 'unlimited';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}
