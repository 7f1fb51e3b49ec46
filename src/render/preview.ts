/** PNG preview of an image HDU with the detections drawn as ellipses (sharp for the PNG encoding). */
import { renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Catalog } from '../catalog/schema.js';
import { readPlane } from '../fits/index.js';
import { toGrey, type Stretch } from './stretch.js';

/** Draw ellipse outlines into an RGB buffer whose row 0 is the top of the image. */
function drawEllipses(rgb: Uint8Array, w: number, h: number, cat: Catalog): void {
  const n = cat.NUMBER?.length ?? 0;
  for (let i = 0; i < n; i++) {
    const x = cat.X_IMAGE[i] - 1;
    const y = cat.Y_IMAGE[i] - 1;
    const k = cat.KRON_RADIUS ? Math.max(cat.KRON_RADIUS[i], 1) : 3;
    const a = Math.max(1.5, k * cat.A_IMAGE[i]);
    const b = Math.max(1.5, k * cat.B_IMAGE[i]);
    const t = (cat.THETA_IMAGE[i] * Math.PI) / 180;
    const steps = Math.max(24, Math.ceil(4 * Math.PI * a));
    for (let s = 0; s < steps; s++) {
      const u = (2 * Math.PI * s) / steps;
      const ex = a * Math.cos(u);
      const ey = b * Math.sin(u);
      const px = Math.round(x + ex * Math.cos(t) - ey * Math.sin(t));
      const py = h - 1 - Math.round(y + ex * Math.sin(t) + ey * Math.cos(t));
      if (px < 0 || px >= w || py < 0 || py >= h) continue;
      const o = (py * w + px) * 3;
      rgb[o] = 40;
      rgb[o + 1] = 255;
      rgb[o + 2] = 80;
    }
  }
}

export async function renderPreview(file: string, hdu: number, cat: Catalog | undefined, out: string, stretch: Stretch = 'asinh'): Promise<void> {
  const { default: sharp } = await import('sharp');
  const img = readPlane(file, hdu);
  const grey = toGrey(img.data, img.width, img.height, stretch);
  const rgb = new Uint8Array(img.width * img.height * 3);
  for (let i = 0; i < grey.length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i];
  if (cat) drawEllipses(rgb, img.width, img.height, cat);
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.tmp-${process.pid}.png`);
  try {
    await sharp(Buffer.from(rgb.buffer), { raw: { width: img.width, height: img.height, channels: 3 } }).png().toFile(tmp);
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
