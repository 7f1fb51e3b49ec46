/**
 * FITS header: an ordered list of cards with case-insensitive keyword lookup, parsing from and
 * serializing to 2880-byte blocks. Long strings use the CONTINUE convention; keywords that are longer
 * than 8 characters or contain other characters than A-Z 0-9 _ - use the HIERARCH convention.
 */
import { FitsError } from './errors.js';
import {
  BLOCK,
  CARD,
  COMMENTARY,
  assertPrintable,
  formatValue,
  isHierarchKey,
  normalizeKey,
  padCard,
  parseCard,
  parseValueField,
  quoteString,
  valuePrefix,
  withComment,
  type Card,
  type CardValue,
  type Where,
} from './card.js';

export type { Card, CardValue, Where } from './card.js';
export { BLOCK, CARD } from './card.js';

/** Upper bound on header size we accept when parsing (cards); protects against runaway headers. */
export const MAX_HEADER_CARDS = 1_000_000;

/** A FITS header. `cards` excludes END; keys are stored normalized (upper case, no "HIERARCH " prefix). */
export class Header {
  readonly cards: Card[];
  /** Location used in error messages. */
  where: Where;

  constructor(cards: Card[] = [], where: Where = {}) {
    this.cards = cards.map((c) => ({ ...c, key: normalizeKey(c.key) }));
    this.where = where;
  }

  /** Parse header bytes (whole 80-character cards, up to and including END). Throws FitsError on bad syntax or missing END. */
  static parse(bytes: Uint8Array, where: Where = {}): Header {
    const ncards = Math.floor(bytes.length / CARD);
    if (ncards > MAX_HEADER_CARDS) throw new FitsError(`header larger than ${MAX_HEADER_CARDS} cards`, where.file, where.hdu);
    const cards: Card[] = [];
    let ended = false;
    for (let n = 0; n < ncards; n++) {
      const off = n * CARD;
      for (let i = off; i < off + CARD; i++) {
        const c = bytes[i]!;
        if (c < 0x20 || c > 0x7e) {
          throw new FitsError(`non-ASCII byte 0x${c.toString(16).padStart(2, '0')} in header card ${n + 1}`, where.file, where.hdu);
        }
      }
      const text = String.fromCharCode.apply(null, bytes.subarray(off, off + CARD) as unknown as number[]);
      if (text.startsWith('END     ')) {
        ended = true;
        break;
      }
      const card = parseCard(text, where);
      if (card.key === 'CONTINUE' && card.value === undefined) {
        const prev = cards[cards.length - 1];
        if (prev && typeof prev.value === 'string' && prev.format !== 'complex' && prev.value.endsWith('&') && /^ *'/.test(card.comment ?? '')) {
          const cont = parseValueField(card.comment!, 'CONTINUE', where);
          prev.value = prev.value.slice(0, -1) + String(cont.value);
          if (cont.comment) prev.comment = prev.comment ? `${prev.comment} ${cont.comment}` : cont.comment;
          continue;
        }
      }
      cards.push(card);
    }
    if (!ended) throw new FitsError('missing END card in header', where.file, where.hdu);
    const h = new Header([], where);
    h.cards.push(...cards);
    return h;
  }

  /** Copy (cards are cloned). */
  clone(): Header {
    return new Header(this.cards, { ...this.where });
  }

  private index(key: string): number {
    const k = normalizeKey(key);
    return this.cards.findIndex((c) => c.key === k && c.value !== undefined);
  }

  /** True if a value card with this keyword exists. */
  has(key: string): boolean {
    return this.index(key) >= 0;
  }

  /** The card holding this keyword's value (first occurrence), if any. */
  card(key: string): Card | undefined {
    const i = this.index(key);
    return i < 0 ? undefined : this.cards[i];
  }

  /** Value of a keyword (first occurrence); undefined when absent. */
  get(key: string): CardValue | undefined {
    return this.card(key)?.value;
  }

  /** Comment of a keyword's card. */
  comment(key: string): string | undefined {
    return this.card(key)?.comment;
  }

  /** Texts of all commentary cards with this keyword (COMMENT, HISTORY, '' for blank keyword), in order. */
  commentary(key: string): string[] {
    const k = normalizeKey(key);
    return this.cards.filter((c) => c.key === k && c.value === undefined).map((c) => c.comment ?? '');
  }

  private fail(problem: string): never {
    throw new FitsError(problem, this.where.file, this.where.hdu);
  }

  /** Numeric value (bigints converted; they lose precision beyond 2^53). Missing: `dflt`, else undefined. Non-numeric: FitsError. */
  getNumber(key: string): number | undefined;
  getNumber(key: string, dflt: number): number;
  getNumber(key: string, dflt?: number): number | undefined {
    const v = this.get(key);
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') return Number(v);
    return this.fail(`keyword ${normalizeKey(key)} is not a number (${JSON.stringify(v)})`);
  }

  /** Integer value within ±2^53. Missing: `dflt`, else undefined. Not an integer: FitsError. */
  getInt(key: string): number | undefined;
  getInt(key: string, dflt: number): number;
  getInt(key: string, dflt?: number): number | undefined {
    const v = this.get(key);
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
    return this.fail(`keyword ${normalizeKey(key)} is not an integer (${typeof v === 'bigint' ? v.toString() : JSON.stringify(v)})`);
  }

  /** Integer value as bigint (exact for any size). */
  getBigInt(key: string): bigint | undefined {
    const v = this.get(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'bigint') return v;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
    return this.fail(`keyword ${normalizeKey(key)} is not an integer`);
  }

  /** String value (complex values come back as their "(re, im)" text). Missing: undefined. Not a string: FitsError. */
  getString(key: string): string | undefined {
    const v = this.get(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    return this.fail(`keyword ${normalizeKey(key)} is not a string`);
  }

  /** Logical value. Missing: `dflt`, else undefined. Not T/F: FitsError. */
  getBool(key: string): boolean | undefined;
  getBool(key: string, dflt: boolean): boolean;
  getBool(key: string, dflt?: boolean): boolean | undefined {
    const v = this.get(key);
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'boolean') return v;
    return this.fail(`keyword ${normalizeKey(key)} is not a logical value`);
  }

  /** Complex value as [re, im]. */
  getComplex(key: string): [number, number] | undefined {
    const c = this.card(key);
    if (!c || c.value === null || c.value === undefined) return undefined;
    if (typeof c.value === 'number') return [c.value, 0];
    if (c.format !== 'complex' || typeof c.value !== 'string') return this.fail(`keyword ${normalizeKey(key)} is not complex`);
    const [re, im] = c.value.slice(1, -1).split(',').map((s) => Number(s.trim().replace(/[Dd]/, 'E')));
    return [re!, im!];
  }

  /**
   * Set a keyword's value (first occurrence updated in place, else appended). The old comment is kept
   * unless a new one is given. `format: 'float'` writes integral numbers as floats.
   */
  set(key: string, value: CardValue, comment?: string, format?: 'float' | 'complex'): this {
    const k = normalizeKey(key);
    if (COMMENTARY.has(k)) return this.add({ key: k, comment: String(value ?? '') });
    const i = this.index(k);
    const card: Card = { key: k, value };
    const oldComment = i >= 0 ? this.cards[i]!.comment : undefined;
    if (comment !== undefined) card.comment = comment;
    else if (oldComment !== undefined) card.comment = oldComment;
    if (format) card.format = format;
    if (i >= 0) this.cards[i] = card;
    else this.cards.push(card);
    return this;
  }

  /** Append a card as is (also for COMMENT/HISTORY or duplicates). */
  add(card: Card): this {
    this.cards.push({ ...card, key: normalizeKey(card.key) });
    return this;
  }

  /** Insert a card at position `index` of `cards`. */
  insert(index: number, card: Card): this {
    this.cards.splice(index, 0, { ...card, key: normalizeKey(card.key) });
    return this;
  }

  /** Delete every card with this keyword (value or commentary); returns how many were removed. */
  delete(key: string): number {
    const k = normalizeKey(key);
    let removed = 0;
    for (let i = this.cards.length - 1; i >= 0; i--) {
      if (this.cards[i]!.key === k) {
        this.cards.splice(i, 1);
        removed++;
      }
    }
    return removed;
  }

  /** Distinct keywords in order of first appearance. */
  keys(): string[] {
    return [...new Set(this.cards.map((c) => c.key))];
  }

  /** Card images (80-character strings) for all cards, END excluded. */
  toCardImages(): string[] {
    const out: string[] = [];
    for (const c of this.cards) out.push(...formatCard(c));
    return out;
  }

  /** Serialize: cards, END, space padding to a multiple of 2880 bytes. */
  toBytes(): Uint8Array {
    const images = this.toCardImages();
    images.push(padCard('END', 'END'));
    const n = Math.ceil((images.length * CARD) / BLOCK) * BLOCK;
    const bytes = new Uint8Array(n).fill(0x20);
    let o = 0;
    for (const s of images) {
      for (let i = 0; i < CARD; i++) bytes[o + i] = s.charCodeAt(i);
      o += CARD;
    }
    return bytes;
  }
}

/**
 * Split escaped string text into CONTINUE pieces of at most `max` characters (`firstMax` for the first).
 * Quote pairs are never cut. A run of escaped quotes followed by a blank or '/' always ends a piece:
 * astropy 5.2 truncates a CONTINUE piece at such a run when it is not at the piece's end.
 */
function splitEscaped(escaped: string, firstMax: number, max: number): string[] {
  const pieces: string[] = [];
  const len = escaped.length;
  let i = 0;
  let lim = firstMax;
  while (i < len) {
    let end = Math.min(len, i + lim);
    for (let p = i; p < end; p++) {
      if (escaped[p] !== "'") continue;
      let r = p;
      while (r < len && escaped[r] === "'") r++;
      if (r <= end && (escaped[r] === ' ' || escaped[r] === '/')) {
        end = r;
        break;
      }
      p = r - 1;
    }
    if (end < len && escaped[end] === "'" && escaped[end - 1] === "'") {
      // Inside a run of quotes: cut before the run, or between pairs if the run fills the piece.
      let p = end;
      while (p > i && escaped[p - 1] === "'") p--;
      if (p > i) end = p;
      else if ((end - i) % 2 === 1) end--;
    }
    pieces.push(escaped.slice(i, end));
    i = end;
    lim = max;
  }
  return pieces.length ? pieces : [''];
}

/** Split a comment into pieces of at most `max` characters, preferring to break at spaces. */
function splitComment(comment: string, max: number): string[] {
  const out: string[] = [];
  let rest = comment.trim();
  while (rest.length > max) {
    let cut = rest.lastIndexOf(' ', max);
    if (cut <= 0) cut = max;
    out.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest) out.push(rest);
  return out;
}

/** Format one card as one or more 80-character card images (CONTINUE for long strings, split commentary). */
export function formatCard(c: Card): string[] {
  const key = normalizeKey(c.key);
  const where = `card ${key || '(blank)'}`;
  assertPrintable(key, where);
  if (c.comment !== undefined) assertPrintable(c.comment, `comment of ${where}`);
  if (c.value === undefined) {
    if (!COMMENTARY.has(key) && key !== 'CONTINUE' && isHierarchKey(key)) {
      throw new FitsError(`commentary card with invalid keyword "${key}"`);
    }
    const text = c.comment ?? '';
    const pieces: string[] = [];
    for (let i = 0; i < text.length; i += 72) pieces.push(text.slice(i, i + 72));
    if (pieces.length === 0) pieces.push('');
    return pieces.map((p) => padCard(`${key.padEnd(8, ' ')}${p}`, key));
  }
  const prefix = valuePrefix(key);
  const hierarch = isHierarchKey(key);
  if (typeof c.value === 'string' && c.format !== 'complex') {
    assertPrintable(c.value, where);
    const single = prefix + quoteString(c.value);
    if (single.length <= CARD) {
      // Fixed format (as astropy and cfitsio write): the value field is padded to column 30.
      const body = hierarch ? single : prefix + quoteString(c.value).padEnd(20, ' ');
      return [padCard(withComment(body.length <= CARD ? body : single, c.comment), key)];
    }
    const escaped = c.value.replace(/'/g, "''");
    const firstMax = CARD - prefix.length - 3;
    if (firstMax < 2) throw new FitsError(`keyword ${key} is too long for a string value`);
    const pieces = splitEscaped(escaped, firstMax, CARD - 13);
    // A final piece ending in '&' would read as a continuation marker: close with an empty piece.
    if (pieces[pieces.length - 1]!.endsWith('&')) pieces.push('');
    const comments = c.comment ? splitComment(c.comment, CARD - 17) : [];
    const lines: string[] = [];
    pieces.forEach((p, i) => {
      const last = i === pieces.length - 1;
      const head = i === 0 ? prefix : 'CONTINUE  ';
      let body = `${head}'${p}${last ? '' : '&'}'`;
      if (last && comments.length === 1 && body.length + 3 + comments[0]!.length <= CARD) {
        body = withComment(body, comments.shift());
      } else if (last && comments.length) {
        body = `${head}'${p}&'`;
      }
      lines.push(padCard(body, key));
    });
    comments.forEach((cm, i) => {
      const last = i === comments.length - 1;
      lines.push(padCard(`CONTINUE  '${last ? '' : '&'}' / ${cm}`, key));
    });
    return lines;
  }
  let text = formatValue(c.value, c.format);
  if (hierarch) text = text.trim();
  const body = prefix + text;
  if (body.length > CARD) throw new FitsError(`keyword ${key} with its value does not fit in one card`);
  return [padCard(withComment(body, c.comment), key)];
}
