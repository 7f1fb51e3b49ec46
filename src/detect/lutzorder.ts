/**
 * SExtractor's pixel-list ORDER of an object. SExtractor extracts objects with Lutz's one-pass algorithm
 * (marker codes left under segment starts/ends for the next line, a stack of open fragments, linked pixel
 * lists concatenated as fragments meet), and a few of its results depend on the order of that list: the CLEAN
 * "mthresh" (examineiso() keeps the DETECT_MINAREA brightest pixels in a small heap fed in list order, with
 * quirks) and the pixel order of deblended children. The order of one object's list depends only on its own
 * pixels, so we replay the same scan over the object's bounding box alone.
 */

const OFF = 0;
const ON = 1;
const COMPLETE = 0;
const INCOMPLETE = 1;
const OBJECT = 2;
const UNKNOWN = -1;
const M_START = 1; // 'S': first segment of a fragment on the line above
const M_START2 = 2; // 's': further segment of the same fragment
const M_END = 3; // 'f': segment end, fragment continues to the right
const M_FINAL = 4; // 'F': last segment end of a fragment

/** Reusable buffers for sextractorListOrder (grown as needed). */
export class LutzScratch {
  next = new Int32Array(0);
  marker = new Uint8Array(0);
  storeHead = new Int32Array(0);
  storeTail = new Int32Array(0);
  head = new Int32Array(0);
  tail = new Int32Array(0);
  start = new Int32Array(0);
  end = new Int32Array(0);
  psstack = new Uint8Array(0);

  ensure(n: number, cols: number): void {
    if (this.next.length < n) this.next = new Int32Array(Math.max(n, 2 * this.next.length));
    if (this.marker.length < cols + 1) {
      const c = Math.max(cols + 1, 2 * this.marker.length);
      this.marker = new Uint8Array(c);
      this.storeHead = new Int32Array(c);
      this.storeTail = new Int32Array(c);
      this.head = new Int32Array(c);
      this.tail = new Int32Array(c);
      this.start = new Int32Array(c);
      this.end = new Int32Array(c);
      this.psstack = new Uint8Array(2 * c + 4);
    }
  }
}

/**
 * Return the pixels (ascending linear indices, one or more 8-connected groups) in SExtractor's list order.
 * Groups that complete earlier come first.
 */
export function sextractorListOrder(pixels: Int32Array, width: number, scratch = new LutzScratch()): Int32Array {
  const n = pixels.length;
  const out = new Int32Array(n);
  if (n === 0) return out;
  let xmin = width;
  let xmax = -1;
  for (let i = 0; i < n; i++) {
    const x = pixels[i] % width;
    if (x < xmin) xmin = x;
    if (x > xmax) xmax = x;
  }
  const ymin = Math.floor(pixels[0] / width);
  const ymax = Math.floor(pixels[n - 1] / width);
  const bw = xmax - xmin + 1;
  const cols = bw + 2;
  scratch.ensure(n, cols);
  const { next, marker, storeHead, storeTail, head, tail, start, end, psstack } = scratch;
  next.fill(-1, 0, n);
  marker.fill(0, 0, cols);
  storeHead.fill(-1, 0, cols);
  storeTail.fill(-1, 0, cols);
  let pstop = 0;
  let co = 0;
  let nout = 0;
  // append list (h2, t2) to fragment slot k
  const append = (k: number, h2: number, t2: number): void => {
    if (h2 < 0) return;
    if (head[k] < 0) {
      head[k] = h2;
      tail[k] = t2;
    } else {
      next[tail[k]] = h2;
      tail[k] = t2;
    }
  };
  let ip = 0; // next pixel of `pixels` in raster order
  for (let y = ymin; y <= ymax + 1; y++) {
    let ps = COMPLETE;
    let cs = OFF;
    for (let x = 0; x <= bw; x++) {
      let here = -1;
      if (y <= ymax && x < bw && ip < n && pixels[ip] === y * width + x + xmin) here = ip++;
      const nm = marker[x];
      marker[x] = 0;
      if (here >= 0 && cs !== ON) {
        cs = ON;
        if (ps === OBJECT) {
          if (start[co] === UNKNOWN) {
            marker[x] = M_START;
            start[co] = x;
          } else marker[x] = M_START2;
        } else {
          psstack[pstop++] = ps;
          marker[x] = M_START;
          start[++co] = x;
          ps = COMPLETE;
          head[co] = tail[co] = -1;
        }
      }
      if (nm === M_START) {
        psstack[pstop++] = ps;
        if (cs === OFF) {
          psstack[pstop++] = COMPLETE;
          co++;
          head[co] = storeHead[x];
          tail[co] = storeTail[x];
          start[co] = UNKNOWN;
        } else append(co, storeHead[x], storeTail[x]);
        ps = OBJECT;
      } else if (nm === M_START2) {
        if (cs === ON && ps === COMPLETE) {
          pstop--;
          const x2 = start[co];
          append(co - 1, head[co], tail[co]);
          co--;
          if (start[co] === UNKNOWN) start[co] = x2;
          else marker[x2] = M_START2;
        }
        ps = OBJECT;
      } else if (nm === M_END) ps = INCOMPLETE;
      else if (nm === M_FINAL) {
        ps = psstack[--pstop];
        if (cs === OFF && ps === COMPLETE) {
          if (start[co] === UNKNOWN) {
            for (let i = head[co]; i >= 0; i = next[i]) out[nout++] = pixels[i];
          } else {
            marker[end[co]] = M_FINAL;
            storeHead[start[co]] = head[co];
            storeTail[start[co]] = tail[co];
          }
          co--;
          ps = psstack[--pstop];
        }
      }
      if (here >= 0) append(co, here, here);
      else if (cs === ON) {
        cs = OFF;
        if (ps !== COMPLETE) {
          marker[x] = M_END;
          end[co] = x;
        } else {
          ps = psstack[--pstop];
          marker[x] = M_FINAL;
          storeHead[start[co]] = head[co];
          storeTail[start[co]] = tail[co];
          co--;
        }
      }
    }
  }
  if (nout !== n) throw new Error(`internal: list order lost pixels (${nout}/${n})`);
  return out;
}

/**
 * SExtractor examineiso()'s CLEAN level "mthresh", replayed on the list order: the first DETECT_MINAREA values
 * of (filtered - threshold) fill a heap, the next pixel only triggers a sort (it is skipped), later pixels
 * replace the heap top when larger, followed by SExtractor's sift-down; the result is the heap top.
 * Objects smaller than minArea get 0; with exactly minArea pixels the heap is never sorted (first value).
 */
export function sextractorMthresh(
  order: Int32Array,
  filtered: Float32Array,
  thresholdOf: (p: number) => number,
  minArea: number,
  heap: Float32Array,
): number {
  const n = order.length;
  if (n < minArea) return 0;
  let h = minArea;
  for (let i = 0; i < n; i++) {
    const p = order[i];
    const v = Math.fround(filtered[p] - thresholdOf(p));
    if (h > 0) heap[minArea - h] = v;
    else if (h === 0) (heap.length === minArea ? heap : heap.subarray(0, minArea)).sort();
    else if (v > heap[0]) {
      heap[0] = v;
      let j = 0;
      for (let k = 2 * (j + 1); k <= minArea; k = 2 * (j + 1)) {
        let pick = k - 1;
        let nextJ = k;
        if (k !== minArea && heap[k - 1] > heap[k]) {
          pick = k;
          nextJ = k + 1;
        }
        if (heap[j] <= heap[pick]) break;
        const t = heap[pick];
        heap[pick] = heap[j];
        heap[j] = t;
        j = nextJ;
      }
    }
    h--;
  }
  return heap[0];
}
