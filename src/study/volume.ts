import type { Geometry } from './geometry';

/**
 * One CT series as a volume of Hounsfield units, the form every later stage consumes.
 * `data[k * rows * columns + j * columns + i]` is the HU of voxel (i, j, k) (see geometry.ts).
 */
export interface HuVolume {
  geometry: Geometry;
  data: Float32Array;
  /** SOP Instance UID of the source image of each slice k, in volume order. */
  sopInstanceUIDs: string[];
  seriesInstanceUID: string;
  studyInstanceUID: string;
  frameOfReferenceUID: string;
}

export function voxelCount(g: Geometry): number {
  return g.dims[0] * g.dims[1] * g.dims[2];
}
