/** Identifiers from the command line or from headers: validated so they can never escape the repository. */
import { UserError } from '../util/errors.js';

/** Visit ids: 1-32 characters of letters, digits, '_' or '-', not starting with '-' or '.'. */
export function checkVisit(v: unknown, where = 'visit'): string {
  const s = String(v ?? '').trim();
  if (!/^[A-Za-z0-9_][A-Za-z0-9_-]{0,31}$/.test(s)) throw new UserError(`${where}: invalid visit id '${String(v)}' (letters, digits, '_' and '-' only)`);
  return s;
}

/** Detector ids: integers 0..99999. */
export function checkDetector(v: unknown, where = 'detector'): number {
  const s = typeof v === 'number' ? String(v) : String(v ?? '').trim();
  if (!/^\d{1,5}$/.test(s)) throw new UserError(`${where}: invalid detector id '${String(v)}' (an integer 0-99999)`);
  return Number(s);
}

/** Parse "1,2,5-9" into sorted unique detector ids. */
export function parseDetectorList(spec: string): number[] {
  const out = new Set<number>();
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)-(\d+)$/.exec(part);
    if (m) {
      const a = checkDetector(m[1]);
      const b = checkDetector(m[2]);
      if (b < a || b - a > 100000) throw new UserError(`invalid detector range '${part}'`);
      for (let d = a; d <= b; d++) out.add(d);
    } else out.add(checkDetector(part));
  }
  if (!out.size) throw new UserError(`empty detector list '${spec}'`);
  return [...out].sort((a, b) => a - b);
}
