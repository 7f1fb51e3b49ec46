/**
 * Detection vs source-extractor 2.25 on real images. To isolate detection from background estimation, our
 * detector gets the image minus SExtractor's BACKGROUND check image and SExtractor's global background sigma
 * (THRESHOLD / DETECT_THRESH: without a weight map SExtractor thresholds at one constant level); we also run it
 * against SExtractor's BACKGROUND_RMS map as a per-pixel RMS plane and report how that differs.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { detectSources, FLAG, type DetectionResult } from '../src/detect/index.js';
import { REPO, astropyImage, hasAstropy, hasSextractor, matchXY, runSextractor } from './helpers/oracle.js';

const SHARED = path.resolve(REPO, '../shared/data');
const hasShared = existsSync(path.join(SHARED, 'real'));
if (!hasShared) console.warn(`detect.test: ${SHARED} is absent: real-image comparisons SKIPPED`);
if (!hasAstropy || !hasSextractor) console.warn('detect.test: astropy or source-extractor missing: real-image comparisons SKIPPED');

const IMAGES = ['sep/image.fits', 'sextractor/galaxies.fits', 'photutils/M6707HH.fits', 'astropy/M13_blue_0001.fits'];
const PARAMS = ['NUMBER', 'X_IMAGE', 'Y_IMAGE', 'FLUX_ISO', 'FLUXERR_ISO', 'ISOAREAF_IMAGE', 'THRESHOLD', 'FLAGS', 'XPEAK_IMAGE', 'YPEAK_IMAGE', 'X2_IMAGE', 'Y2_IMAGE', 'XY_IMAGE'];

interface Row {
  image: string;
  sex: number;
  ours: number;
  sexSnr10: number;
  matched: number;
  oursSnr10: number;
  back: number;
  unfMatched: number;
  unfBack: number;
  sameNumber: number;
  medDxUnfilt: number;
  medDxMoments: number;
  segObj: number;
  segAll: number;
  planeN: number;
  planeMatched: number;
  planeBack: number;
  planeSeg: number;
}

interface Case {
  w: number;
  h: number;
  sub: Float32Array;
  sig: number;
  col: Record<string, number[]>;
  n: number;
  seg: Float32Array;
  filtered: Float32Array;
  rms: Float32Array;
}

const cases = new Map<string, Case>();
const rows: Row[] = [];

function load(name: string): Case {
  const file = path.join(SHARED, 'real', name);
  const sx = runSextractor(file, PARAMS, {}, ['BACKGROUND', 'BACKGROUND_RMS', 'SEGMENTATION', 'FILTERED']);
  const img = astropyImage(file);
  const back = astropyImage(sx.checkImages.BACKGROUND);
  const sub = new Float32Array(img.data.length);
  for (let i = 0; i < sub.length; i++) sub[i] = img.data[i] - back.data[i];
  const col = sx.columns as Record<string, number[]>;
  return {
    w: img.width,
    h: img.height,
    sub,
    sig: col.THRESHOLD[0] / 1.5,
    col,
    n: sx.nrows,
    seg: astropyImage(sx.checkImages.SEGMENTATION).data,
    filtered: astropyImage(sx.checkImages.FILTERED).data,
    rms: astropyImage(sx.checkImages.BACKGROUND_RMS).data,
  };
}

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[s.length >> 1] : NaN;
};

/** Match fractions of SNR>10 objects within 1 px, both ways, for given positions of our objects. */
function matchStats(c: Case, ox: number[], oy: number[], snr: number[], keep: (i: number, j: number) => boolean = () => true) {
  const X = c.col.X_IMAGE;
  const Y = c.col.Y_IMAGE;
  const sexSnr = c.col.FLUX_ISO.map((f, i) => f / c.col.FLUXERR_ISO[i]);
  const m = matchXY(X, Y, ox, oy, 1);
  const mb = matchXY(ox, oy, X, Y, 1);
  let sexSnr10 = 0;
  let matched = 0;
  for (let i = 0; i < c.n; i++)
    if (sexSnr[i] > 10 && keep(i, -1)) {
      sexSnr10++;
      if (m[i] >= 0) matched++;
    }
  let oursSnr10 = 0;
  let back = 0;
  for (let j = 0; j < ox.length; j++)
    if (snr[j] > 10 && keep(-1, j)) {
      oursSnr10++;
      if (mb[j] >= 0) back++;
    }
  const dx: number[] = [];
  for (let i = 0; i < c.n; i++) if (m[i] >= 0) dx.push(Math.abs(ox[m[i]] - X[i]));
  return { sexSnr10, matched, oursSnr10, back, medDx: median(dx) };
}

/** Matching and segmentation statistics of one detection against SExtractor's catalogue and map. */
function compare(c: Case, res: DetectionResult, rmsOf: (p: number) => number) {
  const objs = res.objects;
  // positions: SExtractor's barycentre definition (detection moments: filtered-image weights, branch core of
  // deblended children) and the isophotal barycentre of each object's pixels in the UNFILTERED image
  const mx = objs.map((o) => o.moments!.mx + 1);
  const my = objs.map((o) => o.moments!.my + 1);
  const ux: number[] = [];
  const uy: number[] = [];
  const snr: number[] = [];
  for (const o of objs) {
    let s = 0;
    let sx = 0;
    let sy = 0;
    let v2 = 0;
    for (const p of o.pixels) {
      const v = c.sub[p];
      s += v;
      sx += v * (p % c.w);
      sy += v * Math.floor(p / c.w);
      v2 += rmsOf(p) ** 2;
    }
    let f = s;
    for (const p of o.cleaned ?? []) {
      f += c.sub[p];
      v2 += rmsOf(p) ** 2;
    }
    ux.push(sx / s + 1);
    uy.push(sy / s + 1);
    snr.push(f / Math.sqrt(v2));
  }
  const mom = matchStats(c, mx, my, snr);
  const unf = matchStats(c, ux, uy, snr);
  // unfiltered barycentres of objects that are not deblended children (SExtractor's X_IMAGE of a child is its core's)
  const unfSingle = matchStats(c, ux, uy, snr, (i, j) => (i >= 0 ? !(c.col.FLAGS[i] & FLAG.BLENDED) : !(objs[j].flags & FLAG.BLENDED)));
  // segmentation: same object/sky assignment after matching each SExtractor label to our label of largest overlap
  const overlap = new Map<number, number>();
  for (let p = 0; p < c.sub.length; p++) {
    const a = c.seg[p];
    const b = res.segmentation[p];
    if (a > 0 && b > 0) overlap.set(a * 1e7 + b, (overlap.get(a * 1e7 + b) ?? 0) + 1);
  }
  const best = new Map<number, [number, number]>();
  for (const [k, v] of overlap) {
    const a = Math.floor(k / 1e7);
    const b = k - a * 1e7;
    const cur = best.get(a);
    if (!cur || v > cur[1] || (v === cur[1] && b < cur[0])) best.set(a, [b, v]);
  }
  let same = 0;
  let union = 0;
  let all = 0;
  for (let p = 0; p < c.sub.length; p++) {
    const a = c.seg[p];
    const b = res.segmentation[p];
    const ok = a === 0 ? b === 0 : b > 0 && best.get(a)?.[0] === b;
    if (ok) all++;
    if (a === 0 && b === 0) continue;
    union++;
    if (ok) same++;
  }
  return { mom, unf, unfSingle, segObj: same / union, segAll: all / c.sub.length };
}

describe.skipIf(!hasShared || !hasAstropy || !hasSextractor)('detection vs source-extractor on real images', () => {
  beforeAll(() => {
    for (const name of IMAGES) cases.set(name, load(name));
  });

  for (const name of IMAGES) {
    it(`${name}: same objects, barycentres, order and segmentation as SExtractor`, () => {
      const c = cases.get(name) as Case;
      const res = detectSources({ width: c.w, height: c.h, data: c.sub }, c.sig);
      const st = compare(c, res, () => c.sig);
      // acceptance: >= 97% of SExtractor's SNR>10 objects matched within 1 px, and >= 97% of ours back
      expect(st.mom.sexSnr10).toBeGreaterThan(10);
      expect(st.mom.matched / st.mom.sexSnr10).toBeGreaterThanOrEqual(0.97);
      expect(st.mom.back / st.mom.oursSnr10).toBeGreaterThanOrEqual(0.97);
      // the unfiltered isophotal barycentre also lands within 1 px for objects that are not deblended children
      expect(st.unfSingle.matched / st.unfSingle.sexSnr10).toBeGreaterThanOrEqual(0.97);
      expect(st.unfSingle.back / st.unfSingle.oursSnr10).toBeGreaterThanOrEqual(0.97);
      // stronger: the same number of objects, in the same NUMBER order, with SExtractor's own moments
      expect(res.objects.length).toBe(c.n);
      let sameNumber = 0;
      const dm: number[] = [];
      let peaks = 0;
      let flags = 0;
      let areas = 0;
      for (let i = 0; i < Math.min(c.n, res.objects.length); i++) {
        const o = res.objects[i];
        const mo = o.moments!;
        const d = Math.hypot(mo.mx + 1 - c.col.X_IMAGE[i], mo.my + 1 - c.col.Y_IMAGE[i]);
        dm.push(Math.abs(mo.mx + 1 - c.col.X_IMAGE[i]));
        if (d < 1e-3) sameNumber++;
        if (o.peakIndex === (c.col.YPEAK_IMAGE[i] - 1) * c.w + c.col.XPEAK_IMAGE[i] - 1) peaks++;
        if ((o.flags & (FLAG.BLENDED | FLAG.TRUNCATED)) === (c.col.FLAGS[i] & (FLAG.BLENDED | FLAG.TRUNCATED))) flags++;
        if (o.pixels.length + (o.cleaned?.length ?? 0) === c.col.ISOAREAF_IMAGE[i]) areas++;
        expect(Math.abs(mo.mx2 - c.col.X2_IMAGE[i])).toBeLessThan(1e-4 * Math.max(1, c.col.X2_IMAGE[i]));
      }
      expect(sameNumber).toBe(c.n);
      expect(median(dm)).toBeLessThan(1e-4);
      expect(peaks).toBe(c.n);
      expect(flags).toBe(c.n);
      expect(areas).toBe(c.n);
      expect(st.unfSingle.medDx).toBeLessThan(0.5);
      expect(st.segObj).toBeGreaterThan(0.999);
      // the filtered image is SExtractor's FILTERED check image (float rounding aside)
      let maxRel = 0;
      for (let p = 0; p < c.sub.length; p++)
        maxRel = Math.max(maxRel, Math.abs((res.filtered as Float32Array)[p] - c.filtered[p]) / (Math.abs(c.filtered[p]) + c.sig));
      expect(maxRel).toBeLessThan(1e-6);

      // per-pixel RMS plane (SExtractor's BACKGROUND_RMS map): a different, local threshold
      const pl = detectSources({ width: c.w, height: c.h, data: c.sub }, { width: c.w, height: c.h, data: c.rms });
      const sp = compare(c, pl, (p) => c.rms[p]);
      rows.push({
        image: name,
        sex: c.n,
        ours: res.objects.length,
        sexSnr10: st.mom.sexSnr10,
        matched: st.mom.matched,
        oursSnr10: st.mom.oursSnr10,
        back: st.mom.back,
        unfMatched: st.unf.matched / st.unf.sexSnr10,
        unfBack: st.unf.back / st.unf.oursSnr10,
        sameNumber,
        medDxUnfilt: st.unfSingle.medDx,
        medDxMoments: median(dm),
        segObj: st.segObj,
        segAll: st.segAll,
        planeN: pl.objects.length,
        planeMatched: sp.mom.matched / sp.mom.sexSnr10,
        planeBack: sp.mom.back / sp.mom.oursSnr10,
        planeSeg: sp.segObj,
      });
      // a constant RMS plane is the scalar threshold
      const flat = detectSources(
        { width: c.w, height: c.h, data: c.sub },
        { width: c.w, height: c.h, data: new Float32Array(c.sub.length).fill(c.sig) },
      );
      expect(flat.objects.length).toBe(res.objects.length);
      expect(Buffer.compare(Buffer.from(flat.segmentation.buffer), Buffer.from(res.segmentation.buffer))).toBe(0);
    });
  }

  it('prints the comparison table', () => {
    expect(rows.length).toBe(IMAGES.length);
    const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
    console.log(
      [
        '| image | SExtractor | ours | SNR>10 matched (1 px) | ours SNR>10 matched back | unfiltered barycentre: matched, back | same NUMBER | median dX: unfiltered (non-blended) / moments | segmentation agreement (object px / all px) | RMS-plane mode: n, matched, back, seg |',
        '|---|---|---|---|---|---|---|---|---|---|',
        ...rows.map(
          (r) =>
            `| ${r.image} | ${r.sex} | ${r.ours} | ${r.matched}/${r.sexSnr10} ${pct(r.matched / r.sexSnr10)} | ${r.back}/${r.oursSnr10} ${pct(r.back / r.oursSnr10)} | ${pct(r.unfMatched)}, ${pct(r.unfBack)} | ${r.sameNumber}/${r.sex} | ${r.medDxUnfilt.toFixed(3)} / ${r.medDxMoments.toExponential(1)} | ${pct(r.segObj)} / ${pct(r.segAll)} | ${r.planeN}, ${pct(r.planeMatched)}, ${pct(r.planeBack)}, ${pct(r.planeSeg)} |`,
        ),
      ].join('\n'),
    );
  });
});
