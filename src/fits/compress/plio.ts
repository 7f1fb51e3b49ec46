/**
 * PLIO_1: IRAF pixel-list ("line list") encoding of non-negative integer masks (values < 2^24).
 *
 * A line list is a sequence of 16-bit words. Header: in the current format word 1 holds the
 * header length in words (normally 7), word 2 is <= 0 (a version tag) and words 3 + 4 hold the
 * total list length in words (len = w4 * 2^15 + w3). In the old format word 2 > 0 is the list
 * length and instructions start at word 3. Each instruction word is opcode (top 4 bits) and
 * data (low 12 bits), acting on a running "high value" pv (initially 1) and a position x:
 *   0 ZN: data zeros              4 HN: data pixels of pv
 *   1 SH: pv = next_word * 4096 + data (two-word instruction)
 *   2 IH: pv += data              3 DH: pv -= data
 *   5 PN: data-1 zeros then one pv
 *   6 IS: pv += data, one pixel pv    7 DS: pv -= data, one pixel pv
 * Pixels not covered by the list are zero.
 */

/**
 * Decode a PLIO line list given as `nwords` big-endian 16-bit words in `src` into
 * `out[0..npix)`. Throws RangeError on an invalid list.
 */
export function plioDecode(src: Uint8Array, npix: number, out: Int32Array): void {
  const nwords = src.length >> 1;
  if (out.length < npix) throw new RangeError('PLIO: output buffer too small');
  const word = (i: number): number => (src[2 * i] << 8) | src[2 * i + 1];
  const sword = (i: number): number => (word(i) << 16) >> 16;
  out.fill(0, 0, npix);
  if (npix <= 0) return;
  if (nwords < 3) throw new RangeError(`PLIO: line list of ${nwords} words is shorter than its header`);
  let len: number;
  let first: number;
  if (sword(2) > 0) {
    len = sword(2);
    first = 3;
  } else {
    if (nwords < 5) throw new RangeError('PLIO: truncated line-list header');
    len = sword(4) * 32768 + sword(3);
    first = sword(1);
  }
  if (len <= 0) return;
  if (len > nwords) throw new RangeError(`PLIO: line list claims ${len} words, only ${nwords} present`);
  if (first < 0 || first > len) throw new RangeError(`PLIO: invalid header length ${first}`);

  let x = 0; // next output position (0-based)
  let pv = 1;
  for (let ip = first; ip < len && x < npix; ip++) {
    const w = word(ip);
    const op = w >> 12;
    const data = w & 4095;
    switch (op) {
      case 0: // zeros (already zero-filled)
        x += data;
        break;
      case 4: {
        const end = Math.min(x + data, npix);
        for (let i = x; i < end; i++) out[i] = pv;
        x += data;
        break;
      }
      case 5:
        x += data;
        if (data > 0 && x - 1 < npix) out[x - 1] = pv;
        break;
      case 1:
        if (ip + 1 >= len) throw new RangeError('PLIO: truncated set-high-value instruction');
        pv = sword(ip + 1) * 4096 + data;
        ip++;
        break;
      case 2:
        pv += data;
        break;
      case 3:
        pv -= data;
        break;
      case 6:
      case 7:
        pv += op === 6 ? data : -data;
        out[x] = pv;
        x++;
        break;
      default:
        throw new RangeError(`PLIO: invalid opcode ${op} at word ${ip}`);
    }
  }
}
