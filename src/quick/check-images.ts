/**
 * Check images (SExtractor CHECKIMAGE_TYPE): background, background_rms, minus_background, segmentation,
 * filtered, apertures. One FITS file per type, one image HDU per input image HDU, written atomically.
 */
import type { HduCatalog } from '../catalog/write.js';
import { imageHdu, writeFits, type HduInput } from '../fits/write.js';
import type { DetectionResult } from '../detect/types.js';
import type { Maps } from '../pipeline/ccd.js';

export type CheckType = 'background' | 'background_rms' | 'minus_background' | 'segmentation' | 'filtered' | 'apertures';

interface HduPlanes {
  width: number;
  height: number;
  maps?: Maps;
  det?: DetectionResult;
  filtered?: Float32Array;
  images: Partial<Record<CheckType, Float32Array | Int32Array>>;
}

/** Draw an ellipse outline (semi-axes a, b; angle theta in degrees; centre 1-based) into a plane. */
export function drawEllipse(out: Float32Array, w: number, h: number, x: number, y: number, a: number, b: number, thetaDeg: number, value: number): void {
  const t = (thetaDeg * Math.PI) / 180;
  const n = Math.max(16, Math.ceil(2 * Math.PI * Math.max(a, b) * 2));
  const ct = Math.cos(t);
  const st = Math.sin(t);
  for (let i = 0; i < n; i++) {
    const u = (2 * Math.PI * i) / n;
    const ex = a * Math.cos(u);
    const ey = b * Math.sin(u);
    const px = Math.round(x - 1 + ex * ct - ey * st);
    const py = Math.round(y - 1 + ex * st + ey * ct);
    if (px >= 0 && px < w && py >= 0 && py < h) out[py * w + px] = value;
  }
}

export class CheckImageCollector {
  private readonly hdus: HduPlanes[] = [];

  constructor(
    readonly types: readonly string[],
    readonly prefix: string,
    /** PHOT_APERTURES diameters (pixels), drawn as circles on the apertures image */
    readonly apertures: readonly number[],
  ) {}

  onStep(k: number, name: string, value: unknown): void {
    if (!this.types.length) return;
    const slot = (this.hdus[k] ??= { width: 0, height: 0, images: {} });
    if (name === 'maps') {
      slot.maps = value as Maps;
      slot.width = slot.maps.image.width;
      slot.height = slot.maps.image.height;
    } else if (name === 'detect') slot.det = value as DetectionResult;
    else if (name === 'filter') slot.filtered = value as Float32Array;
  }

  /** Keep only the requested planes of HDU k, and draw apertures once its catalog exists. */
  finishHdu(k: number, cat: HduCatalog): void {
    const slot = this.hdus[k];
    if (!slot) return;
    const { maps, det } = slot;
    for (const t of this.types as CheckType[]) {
      if (t === 'background') slot.images[t] = maps!.background.data;
      else if (t === 'background_rms') slot.images[t] = maps!.rms.data;
      else if (t === 'minus_background') slot.images[t] = maps!.image.data;
      else if (t === 'segmentation') slot.images[t] = det!.segmentation;
      else if (t === 'filtered') slot.images[t] = slot.filtered ?? maps!.image.data;
      else if (t === 'apertures') {
        const img = maps!.image.data.slice();
        let max = 0;
        for (const v of img) if (v > max) max = v;
        const c = cat.catalog;
        const n = c.NUMBER.length;
        for (let i = 0; i < n; i++) {
          const x = c.X_IMAGE[i];
          const y = c.Y_IMAGE[i];
          if (c.KRON_RADIUS && c.A_IMAGE) {
            const kr = c.KRON_RADIUS[i];
            drawEllipse(img, slot.width, slot.height, x, y, kr * c.A_IMAGE[i], kr * c.B_IMAGE[i], c.THETA_IMAGE[i], max);
          }
          for (const d of this.apertures) drawEllipse(img, slot.width, slot.height, x, y, d / 2, d / 2, 0, max);
        }
        slot.images[t] = img;
      }
    }
    slot.maps = undefined;
    slot.det = undefined;
    slot.filtered = undefined;
  }

  /** Write one file per type; returns their paths. */
  write(): string[] {
    const out: string[] = [];
    for (const t of this.types as CheckType[]) {
      const file = `${this.prefix}.${t}.fits`;
      const hdus: HduInput[] = [];
      if (this.hdus.length > 1) hdus.push(imageHdu(new Float32Array(0), { axes: [] }));
      for (const slot of this.hdus) hdus.push(imageHdu(slot.images[t]!, { width: slot.width, extname: t.toUpperCase() }));
      writeFits(file, hdus);
      out.push(file);
    }
    return out;
  }
}
