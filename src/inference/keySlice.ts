/**
 * What the report shows on each phase's key slice (the source image nearest the tumour centre
 * along the slice normal): the HU of that image, the classifier's saliency and the tumour outline
 * on its pixel grid. Pure functions; every mapping goes through patient space (LPS, mm).
 */
import { indexToPatient, patientToIndex, type Geometry, type Vec3 } from '../study/geometry';
import type { HuVolume } from '../study/volume';
import { sampleTrilinear, patientToCropPixel, type CropPlane } from './preprocessing';
import type { SliceImage } from './result';
import type { ProbabilityGrid } from './tumourFinding';

/** The slice index nearest `centreMm` along the normal, clamped to the volume. */
export function keySliceIndex(g: Geometry, centreMm: Vec3): number {
  const k = Math.round(patientToIndex(g, centreMm)[2]);
  return Math.min(g.dims[2] - 1, Math.max(0, k));
}

/** A copy of slice k's HU. */
export function sliceHu(volume: Pick<HuVolume, 'geometry' | 'data'>, k: number): SliceImage {
  const [columns, rows] = volume.geometry.dims;
  return { columns, rows, data: volume.data.slice(k * columns * rows, (k + 1) * columns * rows) };
}

/**
 * A crop-plane map (e.g. the classifier's saliency, sizePx x sizePx, row-major) resampled onto
 * slice k by bilinear interpolation; 0 outside the crop. The crop is axial in patient space; each
 * slice pixel takes the value at its own x and y (its distance from the crop plane along z is at
 * most half a slice).
 */
export function cropMapOnSlice(g: Geometry, k: number, plane: CropPlane, map: Float32Array): SliceImage {
  const [columns, rows] = g.dims;
  const n = plane.sizePx;
  const out = new Float32Array(columns * rows);
  const p00 = indexToPatient(g, 0, 0, k);
  const [u0, v0] = patientToCropPixel(plane, p00);
  const [u1, v1] = patientToCropPixel(plane, indexToPatient(g, 1, 0, k));
  const [u2, v2] = patientToCropPixel(plane, indexToPatient(g, 0, 1, k));
  const dui = u1 - u0;
  const dvi = v1 - v0;
  const duj = u2 - u0;
  const dvj = v2 - v0;
  for (let j = 0; j < rows; j++) {
    for (let i = 0; i < columns; i++) {
      const u = u0 + i * dui + j * duj;
      const v = v0 + i * dvi + j * dvj;
      if (!(u >= 0 && v >= 0 && u <= n - 1 && v <= n - 1)) continue;
      const a = Math.min(Math.floor(u), n - 2 < 0 ? 0 : n - 2);
      const b = Math.min(Math.floor(v), n - 2 < 0 ? 0 : n - 2);
      const fu = u - a;
      const fv = v - b;
      const a1 = n > 1 ? a + 1 : a;
      const b1 = n > 1 ? b + 1 : b;
      const top = map[b * n + a] + (map[b * n + a1] - map[b * n + a]) * fu;
      const bottom = map[b1 * n + a] + (map[b1 * n + a1] - map[b1 * n + a]) * fu;
      out[j * columns + i] = top + (bottom - top) * fv;
    }
  }
  return { columns, rows, data: out };
}

/**
 * The localiser's probability resampled onto slice k (trilinear, 0 outside the grid), computed
 * only within `radiusMm` of `centreMm` in the slice's pixel box; 0 elsewhere.
 */
export function probabilityOnSlice(g: Geometry, k: number, grid: ProbabilityGrid, centreMm: Vec3, radiusMm: number): SliceImage {
  const [columns, rows] = g.dims;
  const out = new Float32Array(columns * rows);
  const c = patientToIndex(g, centreMm);
  const i0 = Math.max(0, Math.floor(c[0] - radiusMm / g.spacing[0]));
  const i1 = Math.min(columns - 1, Math.ceil(c[0] + radiusMm / g.spacing[0]));
  const j0 = Math.max(0, Math.floor(c[1] - radiusMm / g.spacing[1]));
  const j1 = Math.min(rows - 1, Math.ceil(c[1] + radiusMm / g.spacing[1]));
  const base = patientToIndex(grid.geometry, indexToPatient(g, 0, 0, k));
  const stepI = sub(patientToIndex(grid.geometry, indexToPatient(g, 1, 0, k)), base);
  const stepJ = sub(patientToIndex(grid.geometry, indexToPatient(g, 0, 1, k)), base);
  for (let j = j0; j <= j1; j++) {
    for (let i = i0; i <= i1; i++) {
      out[j * columns + i] = sampleTrilinear(
        grid.data,
        grid.geometry.dims,
        base[0] + i * stepI[0] + j * stepJ[0],
        base[1] + i * stepI[1] + j * stepJ[1],
        base[2] + i * stepI[2] + j * stepJ[2],
        0,
      );
    }
  }
  return { columns, rows, data: out };
}

function sub(a: Vec3, b: Vec3): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

// Moore neighbourhood in image coordinates (column, row; rows grow downwards), clockwise from east.
const DIRECTIONS: Array<[number, number]> = [
  [1, 0],
  [1, 1],
  [0, 1],
  [-1, 1],
  [-1, 0],
  [-1, -1],
  [0, -1],
  [1, -1],
];

function directionOf(dc: number, dr: number): number {
  return DIRECTIONS.findIndex(([c, r]) => c === dc && r === dr);
}

/**
 * The 8-connected region of pixels >= level that contains the pixel nearest `seed` (or the
 * nearest such pixel within `maxSeedDistancePx`), as a mask; undefined when there is none.
 */
export function regionAround(image: SliceImage, level: number, seed: [number, number], maxSeedDistancePx: number): Uint8Array | undefined {
  const { columns, rows, data } = image;
  let start = -1;
  let best = Infinity;
  const sc = Math.round(seed[0]);
  const sr = Math.round(seed[1]);
  const reach = Math.ceil(maxSeedDistancePx);
  for (let r = Math.max(0, sr - reach); r <= Math.min(rows - 1, sr + reach); r++) {
    for (let c = Math.max(0, sc - reach); c <= Math.min(columns - 1, sc + reach); c++) {
      if (!(data[r * columns + c] >= level)) continue;
      const d = (c - seed[0]) ** 2 + (r - seed[1]) ** 2;
      if (d < best && d <= maxSeedDistancePx * maxSeedDistancePx) {
        best = d;
        start = r * columns + c;
      }
    }
  }
  if (start < 0) return undefined;
  const mask = new Uint8Array(columns * rows);
  const stack = [start];
  mask[start] = 1;
  while (stack.length > 0) {
    const n = stack.pop() as number;
    const c = n % columns;
    const r = (n - c) / columns;
    for (const [dc, dr] of DIRECTIONS) {
      const cc = c + dc;
      const rr = r + dr;
      if (cc < 0 || rr < 0 || cc >= columns || rr >= rows) continue;
      const m = rr * columns + cc;
      if (mask[m] || !(data[m] >= level)) continue;
      mask[m] = 1;
      stack.push(m);
    }
  }
  return mask;
}

/**
 * The outer boundary of a one-region mask, traced clockwise by Moore-neighbour tracing with
 * Jacob's stopping criterion, as (column, row) pixel centres; the polygon is closed implicitly
 * (the last point connects to the first).
 */
export function traceBoundary(mask: Uint8Array, columns: number, rows: number): Array<[number, number]> {
  let start = -1;
  for (let n = 0; n < mask.length; n++) {
    if (mask[n]) {
      start = n;
      break;
    }
  }
  if (start < 0) return [];
  const inside = (c: number, r: number): boolean => c >= 0 && r >= 0 && c < columns && r < rows && mask[r * columns + c] === 1;
  const sc = start % columns;
  const sr = (start - sc) / columns;
  const outline: Array<[number, number]> = [[sc, sr]];
  // The first pixel in raster order has background to its west: begin the scan there.
  let c = sc;
  let r = sr;
  let back = 4;
  let firstMove = -1;
  const limit = 4 * mask.length + 8;
  for (let steps = 0; steps < limit; steps++) {
    let moved = -1;
    for (let t = 1; t <= 8; t++) {
      const d = (back + t) % 8;
      if (inside(c + DIRECTIONS[d][0], r + DIRECTIONS[d][1])) {
        moved = d;
        break;
      }
    }
    if (moved < 0) return outline; // a single isolated pixel
    // Jacob's criterion: stop on re-entering the start pixel the same way as the first time.
    if (c === sc && r === sr) {
      if (firstMove === moved) break;
      if (firstMove < 0) firstMove = moved;
    }
    const prev = (moved + 7) % 8;
    const bc = c + DIRECTIONS[prev][0];
    const br = r + DIRECTIONS[prev][1];
    c += DIRECTIONS[moved][0];
    r += DIRECTIONS[moved][1];
    back = directionOf(bc - c, br - r);
    if (c === sc && r === sr) continue;
    outline.push([c, r]);
  }
  return outline;
}

/** A circle of pixel centres, for when the probability map shows no region on the key slice. */
export function circleOutline(centrePx: [number, number], radiusPx: [number, number], points = 32): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let n = 0; n < points; n++) {
    const a = (2 * Math.PI * n) / points;
    out.push([centrePx[0] + radiusPx[0] * Math.cos(a), centrePx[1] + radiusPx[1] * Math.sin(a)]);
  }
  return out;
}
