/**
 * Shared material for the WCS tests: synthetic WCS headers covering the projections and distortions we
 * support, pixel grids, and a runner for the astropy oracle (test/helpers/wcs_oracle.py).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Header, type CardValue } from '../../src/fits/header.js';
import { PYTHON } from './astropy.js';
import { parsePythonJson, repoRoot } from './shared.js';

/** A synthetic case: header cards and image size. */
export interface SyntheticCase {
  name: string;
  width: number;
  height: number;
  cards: [string, CardValue][];
  /** Alternate WCS letter to read ('' = primary). */
  alt?: string;
}

/** A header with NAXIS cards followed by `cards`. */
export function makeHeader(width: number, height: number, cards: readonly [string, CardValue][]): Header {
  const h = new Header();
  h.set('SIMPLE', true);
  h.set('BITPIX', -32);
  h.set('NAXIS', 2);
  h.set('NAXIS1', width);
  h.set('NAXIS2', height);
  for (const [k, v] of cards) h.set(k, v, undefined, typeof v === 'number' ? 'float' : undefined);
  return h;
}

/** FITS header text (cards + END, padded) for astropy's Header.fromstring. */
export function headerText(h: Header): string {
  return Buffer.from(h.toBytes()).toString('latin1');
}

/** SIP coefficient cards from a list of [p, q, A, B] rows. */
function sipCards(prefixA: string, prefixB: string, order: number, rows: [number, number, number, number][]): [string, CardValue][] {
  const out: [string, CardValue][] = [
    [`${prefixA}_ORDER`, order],
    [`${prefixB}_ORDER`, order],
  ];
  for (const [p, q, a, b] of rows) {
    out.push([`${prefixA}_${p}_${q}`, a], [`${prefixB}_${p}_${q}`, b]);
  }
  return out;
}

const SIP3: [number, number, number, number][] = [
  [2, 0, 3.1e-6, -1.2e-6],
  [1, 1, -2.2e-6, 2.6e-6],
  [0, 2, 1.4e-6, -0.9e-6],
  [3, 0, -4.0e-10, 1.1e-10],
  [2, 1, 2.5e-10, -3.3e-10],
  [1, 2, -1.5e-10, 2.0e-10],
  [0, 3, 0.7e-10, -4.2e-10],
];
const SIP4_EXTRA: [number, number, number, number][] = [
  [4, 0, 3.0e-14, -1.0e-14],
  [3, 1, -2.0e-14, 1.5e-14],
  [2, 2, 1.0e-14, -2.5e-14],
  [1, 3, 2.2e-14, 0.8e-14],
  [0, 4, -1.1e-14, 3.1e-14],
];

const TAN_CD: [string, CardValue][] = [
  ['CD1_1', -7.28e-5],
  ['CD1_2', 1.3e-6],
  ['CD2_1', 1.1e-6],
  ['CD2_2', 7.29e-5],
];

/** Synthetic WCS headers (all evaluated by astropy as the oracle). */
export const SYNTHETIC: SyntheticCase[] = [
  {
    name: 'TAN-SIP order 3 with AP/BP',
    width: 2048,
    height: 4096,
    cards: [
      ['CTYPE1', 'RA---TAN-SIP'],
      ['CTYPE2', 'DEC--TAN-SIP'],
      ['CRVAL1', 150.123],
      ['CRVAL2', -30.5],
      ['CRPIX1', 1024.5],
      ['CRPIX2', 2048.5],
      ...TAN_CD,
      ...sipCards('A', 'B', 3, SIP3),
      // first-order inverse: AP ~ -A (a starting point only; sky -> pixel refines it)
      ...sipCards('AP', 'BP', 3, SIP3.map(([p, q, a, b]) => [p, q, -a, -b] as [number, number, number, number])),
    ],
  },
  {
    name: 'TAN-SIP order 4 without AP/BP, PC + CDELT',
    width: 2000,
    height: 1500,
    cards: [
      ['CTYPE1', 'RA---TAN-SIP'],
      ['CTYPE2', 'DEC--TAN-SIP'],
      ['CRVAL1', 10.5],
      ['CRVAL2', 41.25],
      ['CRPIX1', 900],
      ['CRPIX2', 700.25],
      ['CDELT1', -1.1e-4],
      ['CDELT2', 1.1e-4],
      ['PC1_1', 0.9848],
      ['PC1_2', -0.1736],
      ['PC2_1', 0.1736],
      ['PC2_2', 0.9848],
      ...sipCards('A', 'B', 4, [...SIP3, ...SIP4_EXTRA]),
    ],
  },
  {
    name: 'ZEA with CROTA2',
    width: 1000,
    height: 800,
    cards: [
      ['CTYPE1', 'RA---ZEA'],
      ['CTYPE2', 'DEC--ZEA'],
      ['CRVAL1', 83.6],
      ['CRVAL2', 22.0],
      ['CRPIX1', 500.5],
      ['CRPIX2', 400.5],
      ['CDELT1', -0.002],
      ['CDELT2', 0.002],
      ['CROTA2', 12.5],
    ],
  },
  {
    name: 'SIN with slant PV2_1/PV2_2',
    width: 800,
    height: 800,
    cards: [
      ['CTYPE1', 'RA---SIN'],
      ['CTYPE2', 'DEC--SIN'],
      ['CRVAL1', 201.365],
      ['CRVAL2', -43.019],
      ['CRPIX1', 400],
      ['CRPIX2', 410],
      ['CDELT1', -0.003],
      ['CDELT2', 0.003],
      ['PV2_1', 0.12],
      ['PV2_2', -0.07],
    ],
  },
  {
    name: 'SIN near the pole across RA = 0',
    width: 1200,
    height: 1200,
    cards: [
      ['CTYPE1', 'RA---SIN'],
      ['CTYPE2', 'DEC--SIN'],
      ['CRVAL1', 359.9],
      ['CRVAL2', 89.6],
      ['CRPIX1', 600.5],
      ['CRPIX2', 600.5],
      ['CD1_1', -0.0008],
      ['CD1_2', 0.0001],
      ['CD2_1', 0.0001],
      ['CD2_2', 0.0008],
    ],
  },
  {
    name: 'SIN whole hemisphere (corners off the sky)',
    width: 200,
    height: 200,
    cards: [
      ['CTYPE1', 'RA---SIN'],
      ['CTYPE2', 'DEC--SIN'],
      ['CRVAL1', 10],
      ['CRVAL2', 30],
      ['CRPIX1', 100.5],
      ['CRPIX2', 100.5],
      ['CDELT1', -0.65],
      ['CDELT2', 0.65],
    ],
  },
  {
    name: 'ZEA whole sky (corners off the sky)',
    width: 360,
    height: 360,
    cards: [
      ['CTYPE1', 'GLON-ZEA'],
      ['CTYPE2', 'GLAT-ZEA'],
      ['CRVAL1', 0],
      ['CRVAL2', 90],
      ['CRPIX1', 180.5],
      ['CRPIX2', 180.5],
      ['CDELT1', -1.0],
      ['CDELT2', 1.0],
    ],
  },
  {
    name: 'TAN at the pole (LONPOLE default 0)',
    width: 500,
    height: 500,
    cards: [
      ['CTYPE1', 'RA---TAN'],
      ['CTYPE2', 'DEC--TAN'],
      ['CRVAL1', 45],
      ['CRVAL2', 90],
      ['CRPIX1', 250],
      ['CRPIX2', 250],
      ['CDELT1', -0.001],
      ['CDELT2', 0.001],
    ],
  },
  {
    name: 'ARC wide field',
    width: 1000,
    height: 1000,
    cards: [
      ['CTYPE1', 'RA---ARC'],
      ['CTYPE2', 'DEC--ARC'],
      ['CRVAL1', 266.4],
      ['CRVAL2', -28.9],
      ['CRPIX1', 500],
      ['CRPIX2', 500],
      ['CDELT1', -0.03],
      ['CDELT2', 0.03],
    ],
  },
  {
    name: 'STG wide field, LONPOLE 170',
    width: 900,
    height: 700,
    cards: [
      ['CTYPE1', 'RA---STG'],
      ['CTYPE2', 'DEC--STG'],
      ['CRVAL1', 120],
      ['CRVAL2', 5],
      ['CRPIX1', 450],
      ['CRPIX2', 350],
      ['CDELT1', -0.04],
      ['CDELT2', 0.04],
      ['LONPOLE', 170],
    ],
  },
  {
    name: 'ZPN with cubic term',
    width: 1000,
    height: 1000,
    cards: [
      ['CTYPE1', 'RA---ZPN'],
      ['CTYPE2', 'DEC--ZPN'],
      ['CRVAL1', 30],
      ['CRVAL2', -60],
      ['CRPIX1', 500.5],
      ['CRPIX2', 500.5],
      ['CDELT1', -0.01],
      ['CDELT2', 0.01],
      ['PV2_1', 1.0],
      ['PV2_3', 0.25],
    ],
  },
  {
    name: 'TAN with swapped axes (DEC first)',
    width: 600,
    height: 400,
    cards: [
      ['CTYPE1', 'DEC--TAN'],
      ['CTYPE2', 'RA---TAN'],
      ['CRVAL1', -12.5],
      ['CRVAL2', 300.25],
      ['CRPIX1', 310],
      ['CRPIX2', 190],
      ['CD1_1', 1.0e-6],
      ['CD1_2', 2.7e-4],
      ['CD2_1', -2.7e-4],
      ['CD2_2', 1.5e-6],
    ],
  },
  {
    name: 'galactic GLON/GLAT TAN, CUNIT arcsec',
    width: 700,
    height: 700,
    cards: [
      ['CTYPE1', 'GLON-TAN'],
      ['CTYPE2', 'GLAT-TAN'],
      ['CUNIT1', 'arcsec'],
      ['CUNIT2', 'arcsec'],
      ['CRVAL1', 0.5 * 3600],
      ['CRVAL2', -0.25 * 3600],
      ['CRPIX1', 350],
      ['CRPIX2', 350],
      ['CDELT1', -1.5],
      ['CDELT2', 1.5],
    ],
  },
  {
    name: 'TPV up to 7th order with radial terms',
    width: 2048,
    height: 4096,
    cards: [
      ['CTYPE1', 'RA---TPV'],
      ['CTYPE2', 'DEC--TPV'],
      ['CRVAL1', 36.45],
      ['CRVAL2', -4.6],
      ['CRPIX1', -300.5],
      ['CRPIX2', 5200.2],
      ...TAN_CD,
      ['PV1_0', 1.2e-4],
      ['PV1_1', 1.0012],
      ['PV1_2', -3.1e-4],
      ['PV1_3', 2.0e-4],
      ['PV1_4', 4.1e-3],
      ['PV1_5', -1.2e-3],
      ['PV1_7', -2.0e-2],
      ['PV1_9', 1.1e-2],
      ['PV1_11', 5.0e-3],
      ['PV1_12', 3.0e-3],
      ['PV1_17', -2.0e-3],
      ['PV1_23', 1.0e-3],
      ['PV1_26', 4.0e-4],
      ['PV1_31', -3.0e-4],
      ['PV1_39', 2.0e-4],
      ['PV2_0', -8.0e-5],
      ['PV2_1', 0.9991],
      ['PV2_2', 2.2e-4],
      ['PV2_3', -1.5e-4],
      ['PV2_6', 2.5e-3],
      ['PV2_8', -1.4e-2],
      ['PV2_10', 9.0e-3],
      ['PV2_11', -4.0e-3],
      ['PV2_16', 1.0e-3],
      ['PV2_22', 1.5e-3],
      ['PV2_23', -6.0e-4],
      ['PV2_30', 2.0e-4],
      ['PV2_39', -1.0e-4],
    ],
  },
  {
    name: 'alternate WCS A (primary is linear)',
    width: 400,
    height: 300,
    alt: 'A',
    cards: [
      ['CTYPE1', 'LINEAR'],
      ['CTYPE2', 'LINEAR'],
      ['CRPIX1', 1],
      ['CRPIX2', 1],
      ['CTYPE1A', 'RA---TAN'],
      ['CTYPE2A', 'DEC--TAN'],
      ['CRVAL1A', 180.001],
      ['CRVAL2A', 0.02],
      ['CRPIX1A', 200],
      ['CRPIX2A', 150],
      ['CD1_1A', -1e-4],
      ['CD2_2A', 1e-4],
    ],
  },
];

/** A regular grid of 1-based pixels covering the image grown by `grow` (fraction) on each side. */
export function pixelGrid(width: number, height: number, n = 41, grow = 0.2): { x: Float64Array; y: Float64Array } {
  const x = new Float64Array(n * n);
  const y = new Float64Array(n * n);
  const x0 = 0.5 - grow * width;
  const y0 = 0.5 - grow * height;
  const sx = ((1 + 2 * grow) * width) / (n - 1);
  const sy = ((1 + 2 * grow) * height) / (n - 1);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      x[j * n + i] = x0 + i * sx;
      y[j * n + i] = y0 + j * sy;
    }
  }
  return { x, y };
}

/** One oracle case (see wcs_oracle.py). */
export interface OracleCase {
  header?: string;
  file?: string;
  hdu?: number;
  key?: string;
  /** Also return the parameters astropy parsed. */
  describe?: boolean;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  lon?: ArrayLike<number>;
  lat?: ArrayLike<number>;
}

export interface OracleResult {
  lon: number[];
  lat: number[];
  x?: number[];
  y?: number[];
  params?: {
    ctype: string[];
    crpix: number[];
    crval: number[];
    /** Pixel scale matrix, row-major. */
    cd: number[];
    lonpole: number;
    radesys: string;
    sip: { a: number[][]; b: number[][]; ap: number[][] | null; bp: number[][] | null } | null;
  };
}

/** Evaluate all cases with astropy in one Python process. */
export function runWcsOracle(cases: OracleCase[]): OracleResult[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wcs-oracle-'));
  try {
    const file = path.join(dir, 'cases.json');
    const plain = cases.map((c) => ({
      ...c,
      x: Array.from(c.x),
      y: Array.from(c.y),
      ...(c.lon ? { lon: Array.from(c.lon), lat: Array.from(c.lat ?? []) } : {}),
    }));
    fs.writeFileSync(file, JSON.stringify(plain));
    const script = path.join(repoRoot, 'test/helpers/wcs_oracle.py');
    const r = spawnSync(PYTHON, [script, file], { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 120_000 });
    if (r.status !== 0) throw new Error(`wcs_oracle.py failed: ${r.stderr}`);
    return parsePythonJson<OracleResult[]>(r.stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
