/**
 * The tumour mask on any grid: evaluates the ground truth's tumour shape at every voxel centre of
 * the geometry (any orientation and spacing, patient coordinates), so a crop, a resampled volume
 * or a thick reconstruction gets an exact mask without the generator.
 */
import { indexToPatient, patientToIndex, type Geometry, type Vec3 } from '../study/geometry';
import type { SyntheticGroundTruth } from './groundTruth';
import { tumourBounds, tumourLevel } from './tumourShape';

/** 1 where the voxel centre lies inside the tumour in that phase, else 0; index k*rows*cols + j*cols + i. */
export function rasteriseTumourMask(truth: SyntheticGroundTruth, phase: 'arterial' | 'venous', geometry: Geometry): Uint8Array {
  const [nx, ny, nz] = geometry.dims;
  const mask = new Uint8Array(nx * ny * nz);
  const centre = truth.phases[phase].tumourCentre;
  const shape = truth.tumour.shape;
  const box = tumourBounds(shape, centre);
  // Index range covering the box: the 8 corners mapped to index space.
  let lo: Vec3 = [Infinity, Infinity, Infinity];
  let hi: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const x of [box.min[0], box.max[0]]) {
    for (const y of [box.min[1], box.max[1]]) {
      for (const z of [box.min[2], box.max[2]]) {
        const idx = patientToIndex(geometry, [x, y, z]);
        lo = [Math.min(lo[0], idx[0]), Math.min(lo[1], idx[1]), Math.min(lo[2], idx[2])];
        hi = [Math.max(hi[0], idx[0]), Math.max(hi[1], idx[1]), Math.max(hi[2], idx[2])];
      }
    }
  }
  const i0 = Math.max(0, Math.floor(lo[0]));
  const i1 = Math.min(nx - 1, Math.ceil(hi[0]));
  const j0 = Math.max(0, Math.floor(lo[1]));
  const j1 = Math.min(ny - 1, Math.ceil(hi[1]));
  const k0 = Math.max(0, Math.floor(lo[2]));
  const k1 = Math.min(nz - 1, Math.ceil(hi[2]));
  for (let k = k0; k <= k1; k++) {
    for (let j = j0; j <= j1; j++) {
      for (let i = i0; i <= i1; i++) {
        if (tumourLevel(shape, centre, indexToPatient(geometry, i, j, k)) <= 1) mask[k * nx * ny + j * nx + i] = 1;
      }
    }
  }
  return mask;
}
