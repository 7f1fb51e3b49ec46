/** Small statistics shared by the tests. */

/** Median of the values (mean of the two middle ones for an even count); NaN when empty. */
export function median(a: readonly number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const k = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[k] : 0.5 * (s[k - 1] + s[k]);
}

/** k-th smallest value of a (reordered in place): Hoare quickselect, O(n). */
export function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}
