/**
 * Random draws for sharing the wings of deblended objects.
 *
 * SExtractor draws them with the C library's rand(), never seeded (i.e. seed 1), one draw per shared pixel, in
 * the order objects are deblended. GlibcRand reproduces the GNU C library's rand() sequence (the additive
 * feedback generator r[i] = r[i-3] + r[i-31] mod 2^32 initialised by the Park-Miller LCG, first 344 values
 * discarded, output r >> 1), so that a Linux build of SExtractor can be matched draw for draw.
 */
export class GlibcRand {
  static readonly RAND_MAX = 2147483647;
  private readonly r = new Int32Array(34);
  private k = 0;

  constructor(seed = 1) {
    const r = new Array<number>(34);
    r[0] = seed === 0 ? 1 : seed | 0;
    for (let i = 1; i < 31; i++) {
      // 16807 * r[i-1] mod (2^31 - 1), Schrage's method on signed values as glibc does
      const hi = Math.trunc(r[i - 1] / 127773);
      const lo = r[i - 1] % 127773;
      let w = 16807 * lo - 2836 * hi;
      if (w < 0) w += 2147483647;
      r[i] = w;
    }
    for (let i = 31; i < 34; i++) r[i] = r[i - 31];
    for (let i = 0; i < 34; i++) this.r[i] = r[i];
    this.k = 0;
    for (let i = 34; i < 344; i++) this.step();
  }

  private step(): number {
    // ring of the last 34 values: slot k holds r[i-34]; r[i] = r[i-31] + r[i-3]
    const r = this.r;
    const k = this.k;
    const v = (r[(k + 3) % 34] + r[(k + 31) % 34]) | 0;
    r[k] = v;
    this.k = (k + 1) % 34;
    return v;
  }

  /** Next value of rand(): 0 .. RAND_MAX. */
  next(): number {
    return this.step() >>> 1;
  }
}
