import { describe, expect, it } from 'vitest';
import { packLabels, unpackLabels } from '../src/image/runs.js';

describe('run-length packed label maps', () => {
  it('round-trips label maps exactly, and packs sparse ones small', () => {
    // a 600x500 map: zeros with rectangular islands of labels, seeded
    let s = 12345;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const w = 600;
    const h = 500;
    const a = new Int32Array(w * h);
    for (let k = 1; k <= 300; k++) {
      const x0 = Math.floor(rnd() * (w - 10));
      const y0 = Math.floor(rnd() * (h - 10));
      for (let y = y0; y < y0 + 1 + Math.floor(rnd() * 9); y++) for (let x = x0; x < x0 + 1 + Math.floor(rnd() * 9); x++) a[y * w + x] = rnd() < 0.05 ? -k : k;
    }
    const p = packLabels(a);
    expect(Array.from(unpackLabels(p))).toEqual(Array.from(a));
    expect(p.runs.byteLength).toBeLessThan(a.byteLength / 10);
    for (const edge of [new Int32Array(0), Int32Array.of(7), Int32Array.of(0, 0, 3, 3, 0), new Int32Array(1000).fill(-2)]) {
      expect(Array.from(unpackLabels(packLabels(edge)))).toEqual(Array.from(edge));
    }
  });
});
