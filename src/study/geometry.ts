/**
 * Image geometry shared by every stage: a regular 3D grid in DICOM patient coordinates (LPS, mm).
 *
 * Index order is (i, j, k) = (column, row, slice). Voxel (i, j, k) has its centre at
 *   origin + i * spacing[0] * rowDirection + j * spacing[1] * columnDirection + k * spacing[2] * normal
 * where rowDirection is the first triplet of ImageOrientationPatient (the direction in which the
 * column index grows), columnDirection the second, and normal their cross product, pointing
 * from the first slice to the last after sorting.
 *
 * Note the DICOM spelling trap: PixelSpacing is [spacing between rows, spacing between columns],
 * i.e. [spacing[1], spacing[0]] here.
 */
export type Vec3 = [number, number, number];

export interface Geometry {
  /** [columns, rows, slices]. */
  dims: Vec3;
  /** Spacing along i, j and k, in mm. */
  spacing: Vec3;
  /** Patient coordinates (mm) of the centre of voxel (0, 0, 0). */
  origin: Vec3;
  /** Unit vectors: direction of increasing i, of increasing j, of increasing k. */
  rowDirection: Vec3;
  columnDirection: Vec3;
  normal: Vec3;
}

export function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function norm(a: Vec3): number {
  return Math.sqrt(dot(a, a));
}

/** Patient coordinates (mm) of a continuous voxel index. */
export function indexToPatient(g: Geometry, i: number, j: number, k: number): Vec3 {
  const a = i * g.spacing[0];
  const b = j * g.spacing[1];
  const c = k * g.spacing[2];
  return [
    g.origin[0] + a * g.rowDirection[0] + b * g.columnDirection[0] + c * g.normal[0],
    g.origin[1] + a * g.rowDirection[1] + b * g.columnDirection[1] + c * g.normal[1],
    g.origin[2] + a * g.rowDirection[2] + b * g.columnDirection[2] + c * g.normal[2],
  ];
}

/**
 * Continuous voxel index of a patient point. Exact for orthonormal directions, which volume
 * assembly guarantees (a sheared grid, e.g. gantry tilt, is refused before a Geometry exists).
 */
export function patientToIndex(g: Geometry, p: Vec3): Vec3 {
  const d: Vec3 = [p[0] - g.origin[0], p[1] - g.origin[1], p[2] - g.origin[2]];
  return [dot(d, g.rowDirection) / g.spacing[0], dot(d, g.columnDirection) / g.spacing[1], dot(d, g.normal) / g.spacing[2]];
}
