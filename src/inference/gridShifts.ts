/**
 * Shift averaging: a model also runs on its input moved by a few whole voxels or pixels, and the
 * outputs (moved back where they are maps) are averaged.
 * - The localiser: its features are computed on a grid twice as coarse as its input, so a small
 *   tumour can fall between two feature voxels and be missed; a run on the input moved by one
 *   voxel evens that out (preprocessing.localizer.averageShifts; the kit: localizer.py
 *   `shifted_probability`).
 * - The classifiers: runs on the crop moved by 4 pixels (5 mm) each way and averaged are less
 *   sensitive to where exactly the crop centre falls (preprocessing.crop.averageShifts; the kit:
 *   tsr_classifier.py `embed_crops`). A crop [channels][rows][columns] is a one-slice grid here,
 *   dims [columns, rows, 1].
 * The kit moves grids and crops with grid_shifts.py `move_grid`, the same indexing as shiftGrids.
 *
 * Layout: channels of [z][y][x] grids, x fastest, as the localiser's input and output.
 */
import type { Vec3 } from '../study/geometry';

function clampIndex(i: number, n: number): number {
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/**
 * Copies `channels` grids of size dims [x, y, z] into `out` moved by `shift` [x, y, z] voxels:
 * out[z][y][x] = input[z - sz][y - sy][x - sx], the nearest edge voxel where that falls outside.
 */
export function shiftGrids(input: Float32Array, dims: Vec3, channels: number, shift: Vec3, out: Float32Array): void {
  const [nx, ny, nz] = dims;
  const [sx, sy, sz] = shift;
  const voxels = nx * ny * nz;
  if (input.length !== voxels * channels || out.length !== voxels * channels) throw new Error('shiftGrids: array length does not match dims x channels');
  for (let c = 0; c < channels; c++) {
    const base = c * voxels;
    for (let z = 0; z < nz; z++) {
      const fromZ = clampIndex(z - sz, nz);
      for (let y = 0; y < ny; y++) {
        const from = base + (fromZ * ny + clampIndex(y - sy, ny)) * nx;
        const to = base + (z * ny + y) * nx;
        for (let x = 0; x < nx; x++) out[to + x] = input[from + clampIndex(x - sx, nx)];
      }
    }
  }
}

/**
 * Adds `weight` times the grids of `shifted` (an output on the input moved by `shift`) back on
 * the unshifted grid: sum[z][y][x] += weight * shifted[z + sz][y + sy][x + sx] (nearest edge
 * voxel outside). `scratch` (same length) is overwritten; pass one to reuse it across calls.
 */
export function addShiftedBack(shifted: Float32Array, dims: Vec3, channels: number, shift: Vec3, weight: number, sum: Float32Array, scratch = new Float32Array(shifted.length)): void {
  if (sum.length !== shifted.length) throw new Error('addShiftedBack: array length does not match dims x channels');
  shiftGrids(shifted, dims, channels, [-shift[0], -shift[1], -shift[2]], scratch);
  for (let i = 0; i < sum.length; i++) sum[i] += weight * scratch[i];
}

/** True when `shifts` asks for one run on the input as it is. */
function isPlainRun(shifts: readonly Vec3[]): boolean {
  return shifts.length === 1 && shifts[0].every((s) => s === 0);
}

/**
 * The batch for one run of a model: `input` (one item of `channels` grids) moved by each shift,
 * one item per shift; `input` itself when the shifts ask for a plain run.
 */
export function shiftedBatch(input: Float32Array, dims: Vec3, channels: number, shifts: readonly Vec3[]): Float32Array {
  if (isPlainRun(shifts)) return input;
  const perItem = input.length;
  const batch = new Float32Array(perItem * shifts.length);
  shifts.forEach((shift, b) => shiftGrids(input, dims, channels, shift, batch.subarray(b * perItem, (b + 1) * perItem)));
  return batch;
}

/**
 * The mean of a model's outputs on shiftedBatch's items, each moved back onto the unshifted grid;
 * `outputs` itself when the shifts ask for a plain run.
 */
export function meanShiftedBack(outputs: Float32Array, dims: Vec3, channels: number, shifts: readonly Vec3[]): Float32Array {
  if (isPlainRun(shifts)) return outputs;
  const perItem = outputs.length / shifts.length;
  const mean = new Float32Array(perItem);
  const scratch = new Float32Array(perItem);
  shifts.forEach((shift, b) => addShiftedBack(outputs.subarray(b * perItem, (b + 1) * perItem), dims, channels, shift, 1 / shifts.length, mean, scratch));
  return mean;
}
