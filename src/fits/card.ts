/**
 * One 80-character FITS header card: parsing and formatting (FITS standard 4.0, section 4).
 * Long strings (CONTINUE) are split/merged by header.ts; this file handles single cards.
 */
import { FitsError } from './errors.js';

/** A keyword value: string, number (float or safe integer), bigint (integers beyond 2^53), boolean, or null (undefined value). */
export type CardValue = string | number | bigint | boolean | null;

/**
 * A header card. `value` is absent for commentary cards (COMMENT, HISTORY, blank keyword, or any card
 * without the "= " value indicator), whose text is in `comment`.
 * `format` is a writing hint: 'float' writes an integral number in float form (30 -> 30.0);
 * 'complex' marks a complex value, kept as its text "(re, im)" in a string `value`.
 */
export interface Card {
  key: string;
  value?: CardValue;
  comment?: string;
  format?: 'float' | 'complex';
}

/** Where a header comes from, for error messages. */
export interface Where {
  file?: string;
  hdu?: number;
}

export const CARD = 80;
export const BLOCK = 2880;

/** Keywords that never carry a value, even if "= " appears in columns 9-10. */
export const COMMENTARY = new Set(['COMMENT', 'HISTORY', '']);

const STD_KEY = /^[A-Z0-9_-]{1,8}$/;
const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[EeDd][+-]?\d+)?$/;
const COMPLEX_RE = /^\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)$/;

/** Normalize a keyword for storage and lookup: upper case, "HIERARCH " prefix dropped, inner blanks collapsed. */
export function normalizeKey(key: string): string {
  let k = key.trim().toUpperCase().replace(/\s+/g, ' ');
  if (k.startsWith('HIERARCH ')) k = k.slice(9).trim();
  return k;
}

/** True when `key` (normalized) needs the HIERARCH convention (longer than 8 chars or non-standard characters). */
export function isHierarchKey(key: string): boolean {
  return key !== '' && !STD_KEY.test(key);
}

/** Parse a numeric/logical/complex/undefined value text (already split from its comment). Returns undefined if invalid. */
function parseScalar(text: string): { value: CardValue; format?: 'float' | 'complex' } | undefined {
  if (text === '') return { value: null };
  if (text === 'T') return { value: true };
  if (text === 'F') return { value: false };
  if (INT_RE.test(text)) return { value: parseInteger(text) };
  if (FLOAT_RE.test(text)) return { value: Number(text.replace(/[Dd]/, 'E')), format: 'float' };
  const m = COMPLEX_RE.exec(text);
  if (m && (FLOAT_RE.test(m[1]!) || INT_RE.test(m[1]!)) && (FLOAT_RE.test(m[2]!) || INT_RE.test(m[2]!))) {
    return { value: `(${m[1]}, ${m[2]})`, format: 'complex' };
  }
  return undefined;
}

/** Integer text to number when exactly representable, else bigint. */
export function parseInteger(text: string): number | bigint {
  const digits = text.replace(/^[+-]/, '').replace(/^0+(?=\d)/, '');
  if (digits.length <= 15) {
    const n = Number(text);
    return n === 0 ? 0 : n;
  }
  const b = BigInt(text);
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

/**
 * Parse a value field (the text after "= ", or after CONTINUE) into value + comment.
 * Throws FitsError on malformed input.
 */
export function parseValueField(field: string, key: string, where: Where): Card {
  const s = field.replace(/^ +/, '');
  if (s.startsWith("'")) {
    let out = '';
    let i = 1;
    for (;;) {
      const q = s.indexOf("'", i);
      if (q < 0) throw new FitsError(`unterminated string in card ${key}`, where.file, where.hdu);
      out += s.slice(i, q);
      if (s[q + 1] === "'") {
        out += "'";
        i = q + 2;
        continue;
      }
      i = q + 1;
      break;
    }
    const card: Card = { key, value: out.replace(/ +$/, '') };
    const rest = s.slice(i).trim();
    if (rest !== '') {
      if (rest[0] !== '/') throw new FitsError(`bad text after string value in card ${key}`, where.file, where.hdu);
      card.comment = rest.slice(1).trim();
    }
    return card;
  }
  const slash = s.indexOf('/');
  const valueText = (slash < 0 ? s : s.slice(0, slash)).trim();
  const parsed = parseScalar(valueText);
  if (!parsed) throw new FitsError(`bad value "${valueText.slice(0, 24)}" in card ${key}`, where.file, where.hdu);
  const card: Card = { key, value: parsed.value };
  if (parsed.format) card.format = parsed.format;
  if (slash >= 0) card.comment = s.slice(slash + 1).trim();
  return card;
}

/**
 * Parse one 80-character card image. CONTINUE cards come back as { key: 'CONTINUE', comment: <raw text> };
 * header.ts merges them into the preceding long string.
 */
export function parseCard(text: string, where: Where): Card {
  const kw = text.slice(0, 8);
  if (!/^[A-Za-z0-9_-]* *$/.test(kw)) {
    throw new FitsError(`bad keyword "${kw.trimEnd()}" in header card`, where.file, where.hdu);
  }
  const key = kw.trimEnd().toUpperCase();
  if (key === 'HIERARCH') {
    const body = text.slice(8);
    const eq = body.indexOf('=');
    const name = eq < 0 ? '' : normalizeKey(body.slice(0, eq));
    if (eq < 0 || name === '' || body.slice(0, eq).includes("'")) return { key, comment: body.trimEnd() };
    return parseValueField(body.slice(eq + 1), name, where);
  }
  if (COMMENTARY.has(key) || key === 'CONTINUE' || text[8] !== '=') {
    const comment = text.slice(8).trimEnd();
    return { key, comment };
  }
  return parseValueField(text.slice(9), key, where);
}

/** Format a number or bigint as FITS value text. */
export function formatNumber(v: number | bigint, format?: 'float' | 'complex'): string {
  if (typeof v === 'bigint') return v.toString();
  if (!Number.isFinite(v)) throw new FitsError(`cannot write non-finite value ${v} in a header`);
  if (format !== 'float' && Number.isSafeInteger(v)) return String(v === 0 ? 0 : v);
  let s = String(v).toUpperCase();
  if (!/[.E]/.test(s)) s += '.0';
  else if (s.includes('E') && !s.split('E')[0]!.includes('.')) s = s.replace('E', '.0E');
  return s;
}

/** Escape and quote a string value (padded to 8 characters inside quotes, as is customary). */
export function quoteString(s: string): string {
  return `'${s.replace(/'/g, "''").padEnd(8, ' ')}'`;
}

/** Value text for a (non-long-string) value, right-justified to column 30 for non-strings. */
export function formatValue(value: CardValue, format?: 'float' | 'complex'): string {
  if (value === null) return '';
  if (typeof value === 'boolean') return (value ? 'T' : 'F').padStart(20, ' ');
  if (typeof value === 'string') return format === 'complex' ? value.padStart(20, ' ') : quoteString(value);
  return formatNumber(value, format).padStart(20, ' ');
}

/** Check that text is printable ASCII (header cards may hold nothing else). */
export function assertPrintable(text: string, what: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) throw new FitsError(`non-printable character (code ${c}) in ${what}`);
  }
}

/** The keyword prefix of a value card: "KEY     = " or "HIERARCH KEY = ". */
export function valuePrefix(key: string): string {
  return isHierarchKey(key) ? `HIERARCH ${key} = ` : `${key.padEnd(8, ' ')}= `;
}

/** Append " / comment" to a card body, truncating the comment to fit 80 columns. */
export function withComment(body: string, comment: string | undefined): string {
  if (comment === undefined || comment === '') return body;
  const room = CARD - body.length - 3;
  return room > 0 ? `${body} / ${comment.slice(0, room)}` : body;
}

/** Pad a card body to 80 columns (throws if longer). */
export function padCard(body: string, key: string): string {
  if (body.length > CARD) throw new FitsError(`card ${key} does not fit in 80 columns`);
  return body.padEnd(CARD, ' ');
}
