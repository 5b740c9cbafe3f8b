/**
 * Model inputs cut from HU volumes: the 2.5D crops of the classifier and the coarse grid of the
 * localiser. ONE implementation, used by the dataset builder (training data) and by the node
 * (inference), so both see bit-identical inputs for the same volume and centre: the arithmetic
 * is plain IEEE double in a fixed order, rounded to float32 once, at the end, per value.
 *
 * Both work in patient space (DICOM LPS, mm; PS3.3 C.7.6.2.1.1): a crop is an axial plane of
 * patient space whatever the acquisition orientation, with columns growing towards the patient's
 * left (+x) and rows towards posterior (+y), the usual radiological display of an axial slice.
 */
import { patientToIndex, type Geometry, type Vec3 } from '../study/geometry';
import type { HuVolume } from '../study/volume';
import type { CropSpec, GridSpec, Phase } from './manifest';

/** Index tolerance at the volume's faces, so a point on the last voxel centre counts as inside. */
const EDGE_TOLERANCE = 1e-6;

/**
 * Trilinear interpolation of `data` (layout of HuVolume: i fastest, then j, then k) at the
 * continuous index (x, y, z); `outside` for points beyond the outermost voxel centres.
 */
export function sampleTrilinear(data: Float32Array, dims: Vec3, x: number, y: number, z: number, outside: number): number {
  const nx = dims[0];
  const ny = dims[1];
  const nz = dims[2];
  if (!(x >= -EDGE_TOLERANCE && y >= -EDGE_TOLERANCE && z >= -EDGE_TOLERANCE)) return outside;
  if (!(x <= nx - 1 + EDGE_TOLERANCE && y <= ny - 1 + EDGE_TOLERANCE && z <= nz - 1 + EDGE_TOLERANCE)) return outside;
  let x0 = Math.floor(x);
  let y0 = Math.floor(y);
  let z0 = Math.floor(z);
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (z0 < 0) z0 = 0;
  if (x0 > nx - 1) x0 = nx - 1;
  if (y0 > ny - 1) y0 = ny - 1;
  if (z0 > nz - 1) z0 = nz - 1;
  let fx = x - x0;
  let fy = y - y0;
  let fz = z - z0;
  if (fx < 0) fx = 0;
  if (fy < 0) fy = 0;
  if (fz < 0) fz = 0;
  const x1 = x0 + 1 < nx ? x0 + 1 : x0;
  const y1 = y0 + 1 < ny ? y0 + 1 : y0;
  const z1 = z0 + 1 < nz ? z0 + 1 : z0;
  const sliceSize = nx * ny;
  const r00 = z0 * sliceSize + y0 * nx;
  const r01 = z0 * sliceSize + y1 * nx;
  const r10 = z1 * sliceSize + y0 * nx;
  const r11 = z1 * sliceSize + y1 * nx;
  const c00 = data[r00 + x0] + (data[r00 + x1] - data[r00 + x0]) * fx;
  const c01 = data[r01 + x0] + (data[r01 + x1] - data[r01 + x0]) * fx;
  const c10 = data[r10 + x0] + (data[r10 + x1] - data[r10 + x0]) * fx;
  const c11 = data[r11 + x0] + (data[r11 + x1] - data[r11 + x0]) * fx;
  const c0 = c00 + (c01 - c00) * fy;
  const c1 = c10 + (c11 - c10) * fy;
  return c0 + (c1 - c0) * fz;
}

/** HU -> [0, 1] over the window (clipped), then (x - mean) / std. */
export function windowAndNormalise(hu: number, window: { low: number; high: number }, normalisation: { mean: number; std: number }): number {
  let w = (hu - window.low) / (window.high - window.low);
  if (w < 0) w = 0;
  else if (w > 1) w = 1;
  return (w - normalisation.mean) / normalisation.std;
}

/** Where the crop's pixels lie in patient space: pixel (u, v) of channel c is `centre + ((u - half) * pixelMm, (v - half) * pixelMm, offset[c])`. */
export interface CropPlane {
  centreMm: Vec3;
  /** Pixel size in mm (fieldOfViewMm / sizePx). */
  pixelMm: number;
  sizePx: number;
  /** (sizePx - 1) / 2: the crop's centre lies between pixels when sizePx is even. */
  half: number;
}

export function cropPlane(centreMm: Vec3, spec: CropSpec): CropPlane {
  return { centreMm: [centreMm[0], centreMm[1], centreMm[2]], pixelMm: spec.fieldOfViewMm / spec.sizePx, sizePx: spec.sizePx, half: (spec.sizePx - 1) / 2 };
}

/** Patient position (mm) of the crop pixel (u, v) at z offset `offsetMm`. */
export function cropPixelToPatient(plane: CropPlane, u: number, v: number, offsetMm = 0): Vec3 {
  return [
    plane.centreMm[0] + (u - plane.half) * plane.pixelMm,
    plane.centreMm[1] + (v - plane.half) * plane.pixelMm,
    plane.centreMm[2] + offsetMm,
  ];
}

/** Continuous crop pixel (u, v) of a patient point, ignoring z (the crop is axial). */
export function patientToCropPixel(plane: CropPlane, p: Vec3): [number, number] {
  return [(p[0] - plane.centreMm[0]) / plane.pixelMm + plane.half, (p[1] - plane.centreMm[1]) / plane.pixelMm + plane.half];
}

function checkCropSpec(spec: CropSpec): void {
  if (!(spec.sizePx > 0 && Number.isInteger(spec.sizePx))) throw new RangeError(`crop sizePx must be a positive integer, got ${spec.sizePx}`);
  if (!(spec.fieldOfViewMm > 0)) throw new RangeError(`crop fieldOfViewMm must be positive, got ${spec.fieldOfViewMm}`);
  if (spec.sliceOffsetsMm.length === 0) throw new RangeError('crop sliceOffsetsMm must not be empty');
  if (!(spec.huWindow.high > spec.huWindow.low)) throw new RangeError('crop huWindow.high must exceed huWindow.low');
  if (!(spec.normalisation.std > 0)) throw new RangeError('crop normalisation.std must be positive');
}

/**
 * The 2.5D crop around `centreMm`: Float32Array [C, H, W] (C = sliceOffsetsMm.length, H = W =
 * sizePx), trilinear, outsideHu beyond the volume, windowed and normalised: exactly the model
 * input of one phase.
 */
export function extractCrop(volume: Pick<HuVolume, 'geometry' | 'data'>, centreMm: Vec3, spec: CropSpec): Float32Array {
  checkCropSpec(spec);
  const g = volume.geometry;
  const plane = cropPlane(centreMm, spec);
  const n = spec.sizePx;
  const out = new Float32Array(spec.sliceOffsetsMm.length * n * n);
  // The map patient -> index is affine, so index(u, v) = index(0, 0) + u * du + v * dv. Each
  // point is computed directly (never accumulated), so rounding does not drift across the crop.
  const stepU = patientToIndex(g, [g.origin[0] + plane.pixelMm, g.origin[1], g.origin[2]]);
  const stepV = patientToIndex(g, [g.origin[0], g.origin[1] + plane.pixelMm, g.origin[2]]);
  const outside = windowAndNormalise(spec.outsideHu, spec.huWindow, spec.normalisation);
  for (let c = 0; c < spec.sliceOffsetsMm.length; c++) {
    const base = patientToIndex(g, cropPixelToPatient(plane, 0, 0, spec.sliceOffsetsMm[c]));
    const channel = c * n * n;
    for (let v = 0; v < n; v++) {
      for (let u = 0; u < n; u++) {
        const x = base[0] + u * stepU[0] + v * stepV[0];
        const y = base[1] + u * stepU[1] + v * stepV[1];
        const z = base[2] + u * stepU[2] + v * stepV[2];
        const hu = sampleTrilinear(volume.data, g.dims, x, y, z, Number.NaN);
        out[channel + v * n + u] = Number.isNaN(hu) ? outside : windowAndNormalise(hu, spec.huWindow, spec.normalisation);
      }
    }
  }
  return out;
}

/**
 * Geometry of the localiser grid: isotropic `voxelMm`, `gridSize` [x, y, z] voxels, axes along
 * patient x, y, z (LPS), centred on `centreMm` (by default the centre of the volume's voxel box).
 * Its data layout is HuVolume's, which is the ONNX input [Z, Y, X].
 */
export function localizerGridGeometry(volumeGeometry: Geometry, spec: GridSpec, centreMm?: Vec3): Geometry {
  const centre = centreMm ?? volumeCentre(volumeGeometry);
  const [gx, gy, gz] = spec.gridSize;
  const s = spec.voxelMm;
  return {
    dims: [gx, gy, gz],
    spacing: [s, s, s],
    origin: [centre[0] - ((gx - 1) / 2) * s, centre[1] - ((gy - 1) / 2) * s, centre[2] - ((gz - 1) / 2) * s],
    rowDirection: [1, 0, 0],
    columnDirection: [0, 1, 0],
    normal: [0, 0, 1],
  };
}

/** Patient position of the centre of the volume's voxel box. */
export function volumeCentre(g: Geometry): Vec3 {
  const ci = (g.dims[0] - 1) / 2;
  const cj = (g.dims[1] - 1) / 2;
  const ck = (g.dims[2] - 1) / 2;
  const a = ci * g.spacing[0];
  const b = cj * g.spacing[1];
  const c = ck * g.spacing[2];
  return [
    g.origin[0] + a * g.rowDirection[0] + b * g.columnDirection[0] + c * g.normal[0],
    g.origin[1] + a * g.rowDirection[1] + b * g.columnDirection[1] + c * g.normal[1],
    g.origin[2] + a * g.rowDirection[2] + b * g.columnDirection[2] + c * g.normal[2],
  ];
}

/**
 * Adds the sums of `blocks` consecutive runs of `width` values of `src`, starting at `start`, to
 * `sums[at]`, `sums[at + 1]`, ...: sums[at + b] += ((src[s] + src[s + 1]) + ...) with s = start +
 * b * width, added left to right, so every width gives the same doubles as the plain
 * loop. The common widths are written out: the plain loop with its short inner loop was 3 to 4
 * times slower, and this runs once per voxel of both phases.
 */
export function addRunSums(src: Float32Array, start: number, width: number, blocks: number, sums: Float64Array, at: number): void {
  let i = start;
  const end = at + blocks;
  switch (width) {
    case 1:
      for (let o = at; o < end; o++, i += 1) sums[o] += src[i];
      return;
    case 2:
      for (let o = at; o < end; o++, i += 2) sums[o] += src[i] + src[i + 1];
      return;
    case 3:
      for (let o = at; o < end; o++, i += 3) sums[o] += src[i] + src[i + 1] + src[i + 2];
      return;
    case 4:
      for (let o = at; o < end; o++, i += 4) sums[o] += src[i] + src[i + 1] + src[i + 2] + src[i + 3];
      return;
    case 5:
      for (let o = at; o < end; o++, i += 5) sums[o] += src[i] + src[i + 1] + src[i + 2] + src[i + 3] + src[i + 4];
      return;
    case 6:
      for (let o = at; o < end; o++, i += 6) sums[o] += src[i] + src[i + 1] + src[i + 2] + src[i + 3] + src[i + 4] + src[i + 5];
      return;
    default:
      for (let o = at; o < end; o++) {
        let s = 0;
        for (let d = 0; d < width; d++) s += src[i++];
        sums[o] += s;
      }
  }
}

/**
 * Box-averages a volume by whole factors along i, j, k (anti-aliasing before the coarse grid:
 * point-sampling 0.7 mm pixels at 4 mm would alias the noise). A trailing partial block is
 * dropped. The result's voxel centres are the block centres.
 *
 * Each block's sum is accumulated in double, one row run at a time (k, then j, then i), and
 * rounded to float32 once: the dataset builder and the node get the same numbers.
 */
export function boxDownsample(volume: Pick<HuVolume, 'geometry' | 'data'>, factors: Vec3): { geometry: Geometry; data: Float32Array } {
  const g = volume.geometry;
  const [fi, fj, fk] = factors;
  if (fi === 1 && fj === 1 && fk === 1) return { geometry: g, data: volume.data };
  const [nx, ny, nz] = g.dims;
  const mx = Math.floor(nx / fi);
  const my = Math.floor(ny / fj);
  const mz = Math.floor(nz / fk);
  if (mx < 1 || my < 1 || mz < 1) throw new RangeError(`volume ${nx}x${ny}x${nz} is smaller than one block of ${fi}x${fj}x${fk}`);
  const sums = new Float64Array(mx * my * mz);
  const src = volume.data;
  for (let kb = 0; kb < mz; kb++) {
    for (let dk = 0; dk < fk; dk++) {
      const slice = (kb * fk + dk) * nx * ny;
      for (let jb = 0; jb < my; jb++) {
        const outRow = (kb * my + jb) * mx;
        for (let dj = 0; dj < fj; dj++) addRunSums(src, slice + (jb * fj + dj) * nx, fi, mx, sums, outRow);
      }
    }
  }
  const data = new Float32Array(sums.length);
  const count = fi * fj * fk;
  for (let n = 0; n < sums.length; n++) data[n] = sums[n] / count;
  const shift: Vec3 = [((fi - 1) / 2) * g.spacing[0], ((fj - 1) / 2) * g.spacing[1], ((fk - 1) / 2) * g.spacing[2]];
  return {
    data,
    geometry: {
      dims: [mx, my, mz],
      spacing: [g.spacing[0] * fi, g.spacing[1] * fj, g.spacing[2] * fk],
      origin: [
        g.origin[0] + shift[0] * g.rowDirection[0] + shift[1] * g.columnDirection[0] + shift[2] * g.normal[0],
        g.origin[1] + shift[0] * g.rowDirection[1] + shift[1] * g.columnDirection[1] + shift[2] * g.normal[1],
        g.origin[2] + shift[0] * g.rowDirection[2] + shift[1] * g.columnDirection[2] + shift[2] * g.normal[2],
      ],
      rowDirection: g.rowDirection,
      columnDirection: g.columnDirection,
      normal: g.normal,
    },
  };
}

/** Whole box factors that bring each spacing up to at most the grid's voxel size. */
export function antiAliasFactors(spacing: Vec3, voxelMm: number): Vec3 {
  const f = (s: number): number => Math.max(1, Math.floor(voxelMm / s + 1e-9));
  return [f(spacing[0]), f(spacing[1]), f(spacing[2])];
}

export interface LocalizerInput {
  /** The grid, in patient space. */
  geometry: Geometry;
  /** Float32Array [Z, Y, X], windowed and normalised: the ONNX input `volume` without the batch and channel axes. */
  data: Float32Array;
}

/**
 * The localiser's input: the volume box-averaged to about the grid's voxel size, then sampled
 * trilinearly on the patient-aligned isotropic grid (centred on the volume's centre unless
 * `centreMm` is given), windowed and normalised.
 */
export function extractLocalizerInput(volume: Pick<HuVolume, 'geometry' | 'data'>, spec: GridSpec, centreMm?: Vec3): LocalizerInput {
  if (!(spec.voxelMm > 0)) throw new RangeError(`localizer voxelMm must be positive, got ${spec.voxelMm}`);
  if (!spec.gridSize.every((n) => Number.isInteger(n) && n > 0)) throw new RangeError(`localizer gridSize must be positive integers, got ${spec.gridSize.join('x')}`);
  const grid = localizerGridGeometry(volume.geometry, spec, centreMm);
  const reduced = boxDownsample(volume, antiAliasFactors(volume.geometry.spacing, spec.voxelMm));
  const rg = reduced.geometry;
  const [gx, gy, gz] = grid.dims;
  const out = new Float32Array(gx * gy * gz);
  const outside = windowAndNormalise(spec.outsideHu, spec.huWindow, spec.normalisation);
  const s = spec.voxelMm;
  const o = grid.origin;
  const stepX = patientToIndex(rg, [rg.origin[0] + s, rg.origin[1], rg.origin[2]]);
  const stepY = patientToIndex(rg, [rg.origin[0], rg.origin[1] + s, rg.origin[2]]);
  const stepZ = patientToIndex(rg, [rg.origin[0], rg.origin[1], rg.origin[2] + s]);
  const base = patientToIndex(rg, o);
  for (let k = 0; k < gz; k++) {
    for (let j = 0; j < gy; j++) {
      const row = (k * gy + j) * gx;
      for (let i = 0; i < gx; i++) {
        const x = base[0] + i * stepX[0] + j * stepY[0] + k * stepZ[0];
        const y = base[1] + i * stepX[1] + j * stepY[1] + k * stepZ[1];
        const z = base[2] + i * stepX[2] + j * stepY[2] + k * stepZ[2];
        const hu = sampleTrilinear(reduced.data, rg.dims, x, y, z, Number.NaN);
        out[row + i] = Number.isNaN(hu) ? outside : windowAndNormalise(hu, spec.huWindow, spec.normalisation);
      }
    }
  }
  return { geometry: grid, data: out };
}

/**
 * The localiser's inputs for a study: both phases on one grid, the venous volume's (the arterial
 * volume is sampled on it in patient coordinates, so a voxel of one phase lies where the same
 * voxel of the other does). The model takes them as channels of one tensor. `centreMm` (the
 * cascade's ROI centre) centres the grid elsewhere than on the venous volume's centre.
 */
export function extractLocalizerInputs(volumes: Record<Phase, Pick<HuVolume, 'geometry' | 'data'>>, spec: GridSpec, centreMm?: Vec3): Record<Phase, LocalizerInput> {
  const centre = centreMm ?? volumeCentre(volumes.venous.geometry);
  return {
    arterial: extractLocalizerInput(volumes.arterial, spec, centre),
    venous: extractLocalizerInput(volumes.venous, spec, centre),
  };
}
