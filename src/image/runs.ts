/**
 * Run-length packing of label maps (segmentation): mostly zeros with compact labelled islands, so a 4k CCD's
 * 64 MB map packs into well under 1 MB. Used to keep a map across a gather without holding it whole.
 */

export interface PackedLabels {
  readonly length: number;
  /** pairs (value, run length) */
  readonly runs: Int32Array;
}

/** Pack a label map into (value, run length) pairs. */
export function packLabels(a: Int32Array): PackedLabels {
  let n = 0;
  for (let i = 0; i < a.length; ) {
    let j = i + 1;
    while (j < a.length && a[j] === a[i]) j++;
    n++;
    i = j;
  }
  const runs = new Int32Array(2 * n);
  let k = 0;
  for (let i = 0; i < a.length; ) {
    let j = i + 1;
    while (j < a.length && a[j] === a[i]) j++;
    runs[k++] = a[i];
    runs[k++] = j - i;
    i = j;
  }
  return { length: a.length, runs };
}

/** The label map back, value for value. */
export function unpackLabels(p: PackedLabels): Int32Array {
  const out = new Int32Array(p.length);
  let o = 0;
  for (let k = 0; k < p.runs.length; k += 2) {
    const v = p.runs[k];
    const end = o + p.runs[k + 1];
    if (v !== 0) out.fill(v, o, end);
    o = end;
  }
  return out;
}
