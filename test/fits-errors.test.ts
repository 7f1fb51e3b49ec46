/**
 * Failure modes: truncated files, bad cards, missing END, oversized NAXIS claims, BITPIX 7, non-FITS
 * input, corrupt or oversized gzip, unsupported features. Each must be a FitsError whose single-line
 * message names the file, the HDU and the problem. Writing is atomic: on error the target is untouched
 * and no temporary file is left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { FitsError, FitsFile, Header, fitsBytes, imageHdu, readImage, writeFits, encodePixels } from '../src/fits/index.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fits-err-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A 3-HDU file: empty primary, 100x50 int16 'SCI', 10x10 float32 'VAR'. */
function mef(): Uint8Array {
  return fitsBytes([
    imageHdu(new Float32Array(0), { axes: [] }),
    imageHdu(Int16Array.from({ length: 5000 }, (_, i) => i), { width: 100, extname: 'SCI' }),
    imageHdu(new Float32Array(100).fill(1.5), { width: 10, extname: 'VAR' }),
  ]);
}

function save(name: string, bytes: Uint8Array): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return p;
}

/** Replace the card starting with `prefix` in the given HDU's header. */
function editCard(bytes: Uint8Array, hduOffset: number, prefix: string, card: string): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let o = hduOffset; o < hduOffset + 2880 * 4; o += 80) {
    const text = Buffer.from(out.subarray(o, o + 80)).toString('latin1');
    if (text.startsWith(prefix)) {
      out.set(Buffer.from(card.padEnd(80, ' '), 'latin1'), o);
      return out;
    }
  }
  throw new Error(`card ${prefix} not found`);
}

function errorOf(fn: () => unknown): FitsError {
  try {
    fn();
  } catch (e) {
    if (e instanceof FitsError) return e;
    throw new Error(`expected FitsError, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
  }
  throw new Error('expected FitsError, nothing thrown');
}

/** Open the file and touch every HDU and its pixels. */
function readAll(p: string): void {
  const f = FitsFile.open(p);
  try {
    for (const h of f.hdus) if (h.dataByteLength > 0) readImage(f, h.index);
  } finally {
    f.close();
  }
}

describe('reader errors name file, HDU and problem on one line', () => {
  const offsets = () => {
    const f = FitsFile.fromBytes(mef());
    return f.hdus.map((h) => ({ header: h.headerOffset, data: h.dataOffset, len: h.dataByteLength }));
  };

  const cases: [string, () => Uint8Array, RegExp][] = [
    ['truncated data in HDU 2', () => mef().subarray(0, offsets()[2]!.data + 100), /, HDU 2: data truncated: header \(BITPIX -32, NAXIS 10x10\) claims 400 bytes but the file holds 100 after the header$/],
    ['truncated inside a header', () => mef().subarray(0, offsets()[1]!.header + 2880 - 7), /not a FITS extension|HDU 1: missing END/],
    ['NAXIS1 = 999999999', () => editCard(mef(), offsets()[1]!.header, 'NAXIS1', 'NAXIS1  =            999999999'), /, HDU 1: data truncated: header \(BITPIX 16, NAXIS 999999999x50\) claims 99999999900 bytes/],
    ['BITPIX = 7', () => editCard(mef(), offsets()[2]!.header, 'BITPIX', 'BITPIX  =                    7'), /, HDU 2: invalid BITPIX 7$/],
    ['missing END', () => {
      const b = mef();
      const h1 = offsets()[1]!.header;
      return editCard(b.subarray(0, h1 + 2880), h1, 'END     ', '');
    }, /, HDU 1: missing END card/],
    ['bad card syntax', () => editCard(mef(), offsets()[1]!.header, 'EXTNAME', "EXTNAME = 'SCI"), /, HDU 1: unterminated string in card EXTNAME$/],
    ['non-numeric NAXIS2', () => editCard(mef(), offsets()[1]!.header, 'NAXIS2', "NAXIS2  = 'fifty'"), /, HDU 1: keyword NAXIS2 is not an integer/],
    ['negative NAXIS1', () => editCard(mef(), offsets()[1]!.header, 'NAXIS1', 'NAXIS1  =                   -3'), /, HDU 1: invalid NAXIS1 -3$/],
    ['non-ASCII in header', () => {
      const b = new Uint8Array(mef());
      b[offsets()[2]!.header + 80 * 5 + 20] = 0xc3;
      return b;
    }, /, HDU 2: non-ASCII byte 0xc3 in header card 6$/],
    ['not FITS', () => Uint8Array.from('hello world'.repeat(400), (c) => c.charCodeAt(0)), /: not a FITS file: does not start with SIMPLE$/],
    ['too small', () => new Uint8Array(100), /: not a FITS file: 100 bytes/],
    ['random groups image', () => {
      const h = new Header().set('SIMPLE', true).set('BITPIX', 16).set('NAXIS', 2).set('NAXIS1', 0).set('NAXIS2', 4).set('GROUPS', true).set('PCOUNT', 1).set('GCOUNT', 2);
      const head = h.toBytes();
      const out = new Uint8Array(head.length + 2880);
      out.set(head);
      return out;
    }, /, HDU 0: random groups/],
  ];

  for (const [name, make, re] of cases) {
    it(name, () => {
      const p = save(`${name.replace(/\W+/g, '_')}.fits`, make());
      const e = errorOf(() => readAll(p));
      expect(e.message).toMatch(re);
      expect(e.message.startsWith(p)).toBe(true);
      expect(e.message).not.toContain('\n');
    });
  }

  it('oversized NAXIS is rejected without allocating (checked against the file size first)', () => {
    const p = save('huge.fits', editCard(mef(), offsets()[1]!.header, 'NAXIS2', 'NAXIS2  =  9000000000000000000'));
    const before = process.memoryUsage().arrayBuffers;
    const e = errorOf(() => readAll(p));
    expect(e.message).toMatch(/HDU 1: data truncated/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('unsupported or wrong HDU kinds', () => {
    const tab = new Header().set('XTENSION', 'BINTABLE').set('BITPIX', 8).set('NAXIS', 2).set('NAXIS1', 4).set('NAXIS2', 2).set('PCOUNT', 0).set('GCOUNT', 1).set('TFIELDS', 1).set('TFORM1', 'J');
    const p = save('tab.fits', fitsBytes([{ header: tab, data: new Uint8Array(8) }]));
    const f = FitsFile.open(p);
    expect(errorOf(() => readImage(f, 1)).message).toBe(`${p}, HDU 1: HDU is a bintable, not an image`);
    expect(errorOf(() => readImage(f, 0)).message).toBe(`${p}, HDU 0: HDU has no image data`);
    expect(errorOf(() => readImage(f)).message).toBe(`${p}: no image data in any HDU`);
    expect(errorOf(() => f.hdu(5)).message).toBe(`${p}: no HDU 5: the file has 2`);
    expect(errorOf(() => f.hdu('NOPE')).message).toBe(`${p}: no HDU named NOPE`);
    f.close();
    const z = tab.clone().set('ZIMAGE', true).set('ZCMPTYPE', 'RICE_1').set('ZBITPIX', 16).set('ZNAXIS', 2).set('ZNAXIS1', 3).set('ZNAXIS2', 3);
    const pz = save('z.fits', fitsBytes([{ header: z, data: new Uint8Array(8) }]));
    const fz = FitsFile.open(pz);
    expect(fz.hdu(1).type).toBe('compressed-image');
    expect([...fz.hdu(1).shape]).toEqual([3, 3]);
    fz.close();
  });

  it('gzip: corrupt stream and decompression cap', () => {
    const gz = zlib.gzipSync(mef());
    const bad = new Uint8Array(gz);
    bad[bad.length - 6]! ^= 0xff; // CRC
    expect(errorOf(() => readAll(save('bad.fits.gz', bad))).message).toMatch(/bad\.fits\.gz: corrupt gzip data: /);
    expect(errorOf(() => readAll(save('cut.fits.gz', gz.subarray(0, gz.length / 2)))).message).toMatch(/cut\.fits\.gz: corrupt gzip data: unexpected end of file$/);
    const bomb = zlib.gzipSync(new Uint8Array(20 * 1024 * 1024));
    expect(errorOf(() => FitsFile.fromBytes(bomb, { name: 'bomb.gz', maxGunzipBytes: 1024 * 1024 })).message).toBe('bomb.gz: gzip data decompresses to more than 1048576 bytes');
  });
});

describe('writer errors and atomicity', () => {
  it('rejects NaN without BLANK, out-of-range values, and data/header size mismatch', () => {
    expect(errorOf(() => encodePixels([1, NaN], 16)).message).toMatch(/pixel 1 is NaN: writing NaN to BITPIX 16 needs a BLANK value/);
    expect(errorOf(() => encodePixels([40000], 16)).message).toMatch(/pixel 0 value 40000 does not fit BITPIX 16/);
    expect(errorOf(() => encodePixels([70000], 16, { bzero: 32768 })).message).toMatch(/does not fit/);
    expect(Array.from(encodePixels([65535, 0], 16, { bzero: 32768 }))).toEqual([0x7f, 0xff, 0x80, 0x00]);
    expect(errorOf(() => imageHdu(new Float32Array(10), { width: 3 })).message).toMatch(/do not match 10 pixels/);
  });

  it('on error the existing target is untouched and no temp file remains', () => {
    const target = path.join(dir, 'atomic.fits');
    fs.writeFileSync(target, 'previous content');
    const good = imageHdu(new Float32Array(100), { width: 10 });
    const short = { header: good.header, data: new Uint8Array(10) };
    expect(errorOf(() => writeFits(target, [short])).message).toBe(`${target}, HDU 0: data has 10 bytes, header requires 400`);
    function* failing(): Generator<Uint8Array> {
      yield new Uint8Array(200);
      throw new FitsError('producer failed');
    }
    expect(errorOf(() => writeFits(target, [{ header: good.header, data: failing() }])).message).toBe(`${target}: producer failed`);
    expect(fs.readFileSync(target, 'utf8')).toBe('previous content');
    expect(fs.readdirSync(dir).filter((f) => f.includes('atomic'))).toEqual(['atomic.fits']);
    expect(errorOf(() => writeFits(target, [good], { overwrite: false })).message).toBe(`${target}: file exists`);
    writeFits(target, [good]);
    expect(fs.statSync(target).size).toBe(5760);
  });
});
