/**
 * SExtractor's CLEAN list (clean.c) and the timing of object output (scan.c), which together decide which
 * detections CLEAN may merge and the final NUMBER order.
 *
 * CLEAN: each new object (after deblending) is compared with the objects still in the list, within 10 x (a1 + a2)
 * of each other. The brighter one (by filtered isophotal flux) is modelled by a Moffat-like profile
 * amp (1 + alpha r^2)^-beta (beta = CLEAN_PARAM, amp = flux / (2 pi a b abcor), alpha such that the profile falls
 * to the detection threshold at the object's isophotal area, r^2 from its CXX/CYY/CXY ellipse); if that profile,
 * at the fainter one's position, exceeds the fainter one's "mthresh" (about its DETECT_MINAREA-th brightest pixel
 * above threshold in the filtered image, with SExtractor's quirks: see lutzorder.ts), the fainter one is a
 * spurious wing detection and is merged into the brighter.
 *
 * Output timing: objects leave the list (and get their NUMBER) when the line scan is far enough past them
 * (their "ycmin" margin, checked only when SExtractor's strip buffer scrolls), when the list holds
 * MEMORY_OBJSTACK objects (the one with the smallest "ycmax" leaves), or at the end of the image.
 * List removals move the last element into the freed slot, as SExtractor's subcleanobj() does.
 */
import { FLAG } from './types.js';
import { DiscGrid, KeyBuckets } from './cleanindex.js';
import { SEX_PI, type Moments } from './moments.js';

/** An object travelling through the CLEAN list. */
export interface ListObject {
  readonly pixels: Int32Array;
  /** pixel lists of the detections merged into this one by CLEAN */
  readonly absorbed: Int32Array[];
  readonly threshold: number;
  readonly mthresh: number;
  readonly moments: Moments;
  fdflux: number;
  fdnpix: number;
  fdpeak: number;
  fdpeakIndex: number;
  xmin: number;
  xmax: number;
  ymin: number;
  ymax: number;
  flags: number;
  ycmin: number;
  ycmax: number;
  /** position in the CLEAN list (-1 when out), and a query stamp (see cleanindex.ts) */
  index: number;
  seen: number;
}

const CLEAN_ZONE = 10;
const MARGIN_SCALE = 2;
const MARGIN_OFFSET = 4;
const f32 = Math.fround;

/** An object's share of the CLEAN interaction distance: two objects interact within 10 (a1 + a2). */
function zone(o: ListObject): number {
  return CLEAN_ZONE * o.moments.a;
}

/** cxx dx^2 + cyy dy^2 + cxy dx dy in float arithmetic, as SExtractor. */
function ellipse(cxx: number, cyy: number, cxy: number, dx: number, dy: number): number {
  return f32(f32(f32(f32(cxx * dx) * dx) + f32(f32(cyy * dy) * dy)) + f32(f32(cxy * dx) * dy));
}

/** SExtractor's mergeobject(): fold slave into master (the master's moments are unchanged). */
export function mergeInto(slave: ListObject, master: ListObject): void {
  master.absorbed.push(slave.pixels, ...slave.absorbed);
  master.fdnpix += slave.fdnpix;
  master.fdflux = f32(master.fdflux + slave.fdflux);
  if (slave.fdpeak > master.fdpeak) {
    master.fdpeak = slave.fdpeak;
    master.fdpeakIndex = slave.fdpeakIndex;
  }
  master.xmin = Math.min(master.xmin, slave.xmin);
  master.xmax = Math.max(master.xmax, slave.xmax);
  master.ymin = Math.min(master.ymin, slave.ymin);
  master.ymax = Math.max(master.ymax, slave.ymax);
  master.flags |= slave.flags & ~(FLAG.BLENDED | FLAG.CROWDED);
}

/** The CLEAN list with SExtractor's semantics; emitted objects are appended to `out` in NUMBER order. */
export class CleanList {
  readonly list: ListObject[] = [];
  readonly out: ListObject[] = [];
  private readonly victims: number[] = [];
  private readonly near: ListObject[] = [];
  private readonly grid: DiscGrid<ListObject>;
  private readonly byYcmax = new KeyBuckets<ListObject>();
  /** a lower bound of the listed objects' ycmin (exact after each endBelow scan): most scan lines need no scan */
  private ycminLow = Infinity;
  /**
   * Called after each CLEAN merge with the swallowed object (its own pixels are slave.pixels; the ones it had
   * absorbed itself were reported at their own merge). SExtractor pastes the slave's pixels back into the image
   * at that moment: detection uses this to track which pixels stay blanked (see detect.ts).
   */
  onMerge: ((slave: ListObject) => void) | null = null;

  constructor(
    width: number,
    height: number,
    private readonly doClean: boolean,
    private readonly beta: number,
    private readonly objectStack: number,
    private readonly cleanMargin: number,
  ) {
    this.grid = new DiscGrid<ListObject>(width, height);
  }

  private removeAt(i: number): void {
    this.list[i].index = -1;
    const last = this.list.pop() as ListObject;
    if (i < this.list.length) {
      this.list[i] = last;
      last.index = i;
    }
  }

  private emit(i: number): void {
    this.out.push(this.list[i]);
    this.removeAt(i);
  }

  /** Output every listed object whose ycmin <= ymin (scanning the list backwards, as SExtractor). */
  endBelow(ymin: number): void {
    if (this.ycminLow > ymin) return;
    let low = Infinity;
    for (let i = this.list.length - 1; i >= 0; i--) {
      const yc = this.list[i].ycmin;
      if (yc <= ymin) this.emit(i);
      else if (yc < low) low = yc;
    }
    this.ycminLow = low;
  }

  /** Output everything left, at the end of the image. */
  flush(): void {
    while (this.list.length > 0) this.emit(0);
  }

  /** A new (deblended) object arrives: make room, CLEAN it against the list, and add it if it survives. */
  add(o: ListObject): void {
    if (this.objectStack > 0 && this.list.length >= this.objectStack) {
      // the listed object with the smallest ycmax (the first in list order among equals) leaves
      const victim = this.byYcmax.min() as ListObject;
      this.emit(victim.index);
    }
    if (this.doClean && !this.clean(o)) return;
    this.setMargins(o);
    if (o.ycmin < this.ycminLow) this.ycminLow = o.ycmin;
    o.index = this.list.length;
    this.list.push(o);
    this.byYcmax.add(o.ycmax, o);
    if (this.doClean) this.grid.insert(o, o.moments.mx, o.moments.my, zone(o) + 1);
  }

  /**
   * SExtractor's clean(): false if o was merged into a listed object; victims are merged into o. Only the
   * listed objects near enough are examined, in list order, which gives the same result as SExtractor's scan.
   */
  private clean(o: ListObject): boolean {
    const m = o.moments;
    const beta = this.beta;
    const unitIn = SEX_PI * m.a * m.b;
    const ampIn = o.fdflux / (2 * unitIn * m.abcor);
    const alphaIn = ((Math.pow(ampIn / o.threshold, 1 / beta) - 1) * unitIn) / o.fdnpix;
    const victims = this.victims;
    victims.length = 0;
    for (const l of this.grid.query(m.mx, m.my, zone(o) + 1, this.near)) {
      const lm = l.moments;
      const dx = f32(m.mx - lm.mx);
      const dy = f32(m.my - lm.my);
      const rlim = f32(f32(m.a + lm.a) * f32(m.a + lm.a));
      const d2 = f32(f32(dx * dx) + f32(dy * dy));
      if (!(d2 < rlim * CLEAN_ZONE * CLEAN_ZONE)) continue;
      if (l.fdflux < o.fdflux) {
        const val = 1 + alphaIn * ellipse(m.cxx, m.cyy, m.cxy, dx, dy);
        if (val > 1 && f32(val < 1e10 ? ampIn * Math.pow(val, -beta) : 0) > l.mthresh) victims.push(l.index);
      } else {
        const unit = SEX_PI * lm.a * lm.b;
        const amp = l.fdflux / (2 * unit * lm.abcor);
        const alpha = ((Math.pow(amp / l.threshold, 1 / beta) - 1) * unit) / l.fdnpix;
        const val = 1 + alpha * ellipse(lm.cxx, lm.cyy, lm.cxy, dx, dy);
        if (val > 1 && f32(val < 1e10 ? amp * Math.pow(val, -beta) : 0) > o.mthresh) {
          mergeInto(o, l);
          this.onMerge?.(o);
          return false;
        }
      }
    }
    for (let v = victims.length - 1; v >= 0; v--) {
      const victim = this.list[victims[v]];
      mergeInto(victim, o);
      this.onMerge?.(victim);
      this.removeAt(victims[v]);
    }
    return true;
  }

  /** SExtractor's addcleanobj() margins: the lines below/above which the object may still interact. */
  private setMargins(o: ListObject): void {
    const m = o.moments;
    let hh1 = f32(m.cyy - (m.cxy * m.cxy) / (4 * m.cxx));
    hh1 = hh1 > 0 ? f32(1 / Math.sqrt(3 * hh1)) : 0;
    const hh2 = o.ymax - o.ymin + 1;
    const margin = Math.trunc(Math.max(hh1, hh2) * MARGIN_SCALE + MARGIN_OFFSET + 0.49999);
    const yc = Math.trunc(m.my + 0.49999);
    o.ycmax = Math.max(o.ymax + margin, yc + this.cleanMargin);
    o.ycmin = Math.min(o.ymin - margin, yc - this.cleanMargin);
  }
}

/**
 * SExtractor's strip-buffer clock: tells after which lines the CLEAN list is checked for objects to output,
 * and with which "ymin" (the oldest line still in the buffer).
 */
export class StripClock {
  private sclim = 0;
  private ymin = 0;
  private ymaxBuf = 0;
  private readonly strip: number;
  private readonly margin: number;

  /** height: image lines; bufferLines: MEMORY_BUFSIZE (0 = all); filterHeight: 0 when not filtering. */
  constructor(
    private readonly height: number,
    bufferLines: number,
    filterHeight: number,
  ) {
    let s = bufferLines > 0 ? Math.min(bufferLines, height) : height;
    let margin = 1;
    if (filterHeight > 0) {
      s = Math.max(s, filterHeight);
      margin = Math.max(margin, Math.floor((filterHeight - 1) / 2) + 1);
    }
    this.strip = s;
    this.margin = margin;
  }

  /** Call at the start of line yl (0 <= yl < height): the buffer may scroll. */
  startLine(yl: number): void {
    if (yl % this.strip !== this.sclim) return;
    if (yl === 0) {
      this.ymaxBuf = this.strip;
      if (this.ymaxBuf < this.height) this.sclim = this.strip - this.margin;
    } else {
      this.ymin++;
      this.ymaxBuf++;
      if (this.ymaxBuf < this.height) this.sclim = (this.sclim + 1) % this.strip;
    }
  }

  /** After line yl (0 <= yl <= height): the ymin to check the list against, or -1 if no check is due. */
  endLine(yl: number): number {
    return (yl + 1) % this.strip === this.sclim ? this.ymin : -1;
  }
}
