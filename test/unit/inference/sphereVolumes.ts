/**
 * Small HU volumes for the inference tests: soft tissue with bright spheres ("tumours" the tiny
 * fixture localiser lights up, see test/fixtures/tiny-models/make_tiny_models.py).
 */
import { indexToPatient, type Geometry, type Vec3 } from '../../../src/study/geometry';
import type { HuVolume } from '../../../src/study/volume';

export interface Sphere {
  centreMm: Vec3;
  radiusMm: number;
  hu: number;
}

export function sphereVolume(options: {
  geometry: Geometry;
  spheres: Sphere[];
  backgroundHu?: number;
  seriesInstanceUID?: string;
  studyInstanceUID?: string;
  frameOfReferenceUID?: string;
}): HuVolume {
  const g = options.geometry;
  const [nx, ny, nz] = g.dims;
  const data = new Float32Array(nx * ny * nz).fill(options.backgroundHu ?? 40);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const p = indexToPatient(g, i, j, k);
        for (const s of options.spheres) {
          const d2 = (p[0] - s.centreMm[0]) ** 2 + (p[1] - s.centreMm[1]) ** 2 + (p[2] - s.centreMm[2]) ** 2;
          if (d2 <= s.radiusMm * s.radiusMm) data[(k * ny + j) * nx + i] = s.hu;
        }
      }
    }
  }
  const series = options.seriesInstanceUID ?? '2.25.1';
  return {
    geometry: g,
    data,
    sopInstanceUIDs: Array.from({ length: nz }, (_, k) => `${series}.${k + 1}`),
    seriesInstanceUID: series,
    studyInstanceUID: options.studyInstanceUID ?? '2.25.100',
    frameOfReferenceUID: options.frameOfReferenceUID ?? '2.25.200',
  };
}

/** 64 x 64 x 30 voxels of 2 x 2 x 2.5 mm, axial, centred near the origin. */
export const SMALL_AXIAL: Geometry = {
  dims: [64, 64, 30],
  spacing: [2, 2, 2.5],
  origin: [-63, -63, -36.25],
  rowDirection: [1, 0, 0],
  columnDirection: [0, 1, 0],
  normal: [0, 0, 1],
};
