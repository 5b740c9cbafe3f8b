/**
 * A segment on the frames of a source series: for each source slice the segment touches, a
 * binary mask on that slice's pixel grid. Pure functions; every mapping goes through patient
 * space (LPS, mm).
 *
 * The tumour segment is the localiser's tumour component (tumourFinding.ts: the grid voxels at or
 * above the finding's level, 26-connected to the peak), resampled onto each source slice by
 * trilinear interpolation of the probability, then thresholded at that level. Voxels at or above
 * the level that belong to another component are set to 0 first, so that only the tumour's
 * component is drawn: a grid cell never holds corners of two components (they would touch, and
 * be one), so the result is exactly the component's iso-surface at the level.
 *
 * The pancreas segment (two-stage localiser only) is the stage-1 pancreas mask, drawn the same way:
 * its voxels are the component, its threshold the level.
 */
import { connectedComponent, type ProbabilityGrid } from '../../inference/tumourFinding';
import type { PancreasLocalisation, TumourLocalisation } from '../../inference/result';
import { sampleTrilinear } from '../../inference/preprocessing';
import { indexToPatient, patientToIndex, type Geometry, type Vec3 } from '../../study/geometry';

/** One source slice the segment touches. */
export interface SegmentFrame {
  /** Index k of the slice in the source volume (and in its sourceSopInstanceUIDs). */
  sliceIndex: number;
  /** rows x columns, row-major (`mask[row * columns + column]`), 1 inside the segment, 0 outside. */
  mask: Uint8Array;
}

/** The grid's probabilities with every voxel at or above `level` outside the component set to 0. */
function componentProbability(grid: ProbabilityGrid, level: number, component: Int32Array): Float32Array {
  const inComponent = new Uint8Array(grid.data.length);
  for (const n of component) inComponent[n] = 1;
  const out = new Float32Array(grid.data.length);
  for (let n = 0; n < out.length; n++) {
    const p = grid.data[n];
    out[n] = inComponent[n] === 1 || p < level ? p : 0;
  }
  return out;
}

/** The box (continuous indices of `target`) that holds the grid cells around the component's voxels. */
function componentBoxIn(target: Geometry, grid: Geometry, component: Int32Array): { lo: Vec3; hi: Vec3 } {
  const [nx, ny] = grid.dims;
  const gridLo: Vec3 = [Infinity, Infinity, Infinity];
  const gridHi: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const n of component) {
    const index: Vec3 = [n % nx, Math.floor(n / nx) % ny, Math.floor(n / (nx * ny))];
    for (let a = 0; a < 3; a++) {
      gridLo[a] = Math.min(gridLo[a], index[a] - 1);
      gridHi[a] = Math.max(gridHi[a], index[a] + 1);
    }
  }
  const lo: Vec3 = [Infinity, Infinity, Infinity];
  const hi: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const i of [gridLo[0], gridHi[0]]) {
    for (const j of [gridLo[1], gridHi[1]]) {
      for (const k of [gridLo[2], gridHi[2]]) {
        const t = patientToIndex(target, indexToPatient(grid, i, j, k));
        for (let a = 0; a < 3; a++) {
          lo[a] = Math.min(lo[a], t[a]);
          hi[a] = Math.max(hi[a], t[a]);
        }
      }
    }
  }
  return { lo, hi };
}

/**
 * The tumour component on the source volume's slices (`geometry`: the volume the analysis
 * assembled from the source series). Only slices with at least one pixel inside come back, in
 * slice order. Should the component fall between the source's samples (a component smaller than
 * the source's pixels or slices), the pixel nearest the peak is the segment, so that the tumour is
 * never without one.
 */
export function tumourSegmentFrames(localisation: TumourLocalisation, geometry: Geometry): SegmentFrame[] {
  const { grid, level, peakIndex } = localisation;
  const component = connectedComponent(grid, peakIndex, level);
  if (component.length === 0) throw new RangeError('tumourLocalisation: the peak is below the level, so there is no tumour component');
  const frames = componentSegmentFrames(grid, level, component, geometry);
  return frames.length > 0 ? frames : [peakPixelFrame(localisation, geometry)];
}

/**
 * The cascade's stage-1 pancreas (its mask: the largest 26-connected component of the coarse grid
 * at P(pancreas) >= level) on the source volume's slices, resampled as the tumour is. Only slices
 * with pixels inside come back; none when the mask falls between the source's samples.
 */
export function pancreasSegmentFrames(pancreas: PancreasLocalisation, geometry: Geometry): SegmentFrame[] {
  const { grid, level, mask } = pancreas;
  if (mask.length !== grid.data.length) throw new RangeError(`pancreasLocalisation.mask: ${mask.length} voxels for a grid of ${grid.data.length}`);
  const voxels: number[] = [];
  for (let n = 0; n < mask.length; n++) if (mask[n] !== 0) voxels.push(n);
  return voxels.length > 0 ? componentSegmentFrames(grid, level, Int32Array.from(voxels), geometry) : [];
}

/** A component of `grid` at `level` (its voxels' flat indices) on the source volume's slices: the slices it touches. */
function componentSegmentFrames(grid: ProbabilityGrid, level: number, component: Int32Array, geometry: Geometry): SegmentFrame[] {
  const probability = componentProbability(grid, level, component);
  const [columns, rows, slices] = geometry.dims;
  const box = componentBoxIn(geometry, grid.geometry, component);
  const first = (a: number): number => Math.max(0, Math.floor(box.lo[a]));
  const last = (a: number, n: number): number => Math.min(n - 1, Math.ceil(box.hi[a]));
  const frames: SegmentFrame[] = [];
  for (let k = first(2); k <= last(2, slices); k++) {
    // patient -> grid index is affine: the grid index of pixel (i, j) is base + i * stepI + j * stepJ.
    const base = patientToIndex(grid.geometry, indexToPatient(geometry, 0, 0, k));
    const stepI = patientToIndex(grid.geometry, indexToPatient(geometry, 1, 0, k)).map((x, a) => x - base[a]);
    const stepJ = patientToIndex(grid.geometry, indexToPatient(geometry, 0, 1, k)).map((x, a) => x - base[a]);
    let mask: Uint8Array | undefined;
    for (let j = first(1); j <= last(1, rows); j++) {
      for (let i = first(0); i <= last(0, columns); i++) {
        const x = base[0] + i * stepI[0] + j * stepJ[0];
        const y = base[1] + i * stepI[1] + j * stepJ[1];
        const z = base[2] + i * stepI[2] + j * stepJ[2];
        if (!(sampleTrilinear(probability, grid.geometry.dims, x, y, z, 0) >= level)) continue;
        mask ??= new Uint8Array(columns * rows);
        mask[j * columns + i] = 1;
      }
    }
    if (mask) frames.push({ sliceIndex: k, mask });
  }
  return frames;
}

/** The source pixel nearest the grid's peak, alone: the segment of a component the source's samples miss. */
function peakPixelFrame(localisation: TumourLocalisation, geometry: Geometry): SegmentFrame {
  const [columns, rows, slices] = geometry.dims;
  const peak = patientToIndex(geometry, indexToPatient(localisation.grid.geometry, ...localisation.peakIndex));
  const nearest = (x: number, n: number): number => Math.min(n - 1, Math.max(0, Math.round(x)));
  const mask = new Uint8Array(columns * rows);
  mask[nearest(peak[1], rows) * columns + nearest(peak[0], columns)] = 1;
  return { sliceIndex: nearest(peak[2], slices), mask };
}
