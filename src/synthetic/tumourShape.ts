/**
 * The tumour's shape: an ellipsoid with irregular, lobulated margins, as PDAC has. It is written
 * into the ground-truth sidecar in patient coordinates, so the same function rasterises the
 * phantom and, later, a mask on any grid (rasteriseTumourMask).
 *
 * A point p is inside when level(p) <= 1, where
 *   q = diag(1/r) * axes * (p - centre)            (the ellipsoid's normalised frame)
 *   level(p) = |q| / (1 + sum_k a_k sin(f_k * (q/|q|) . d_k + phi_k))
 */
import type { Vec3 } from '../study/geometry';

export interface TumourLobe {
  /** Unit vector in the normalised frame. */
  direction: Vec3;
  frequency: number;
  phase: number;
  amplitude: number;
}

export interface TumourShape {
  /** Rows: the ellipsoid's unit axes in patient coordinates (LPS). */
  axes: [Vec3, Vec3, Vec3];
  /** Semi-axes along `axes`, mm. */
  radiiMm: Vec3;
  lobes: TumourLobe[];
  /**
   * Width (mm) over which an ill-defined (infiltrative) margin fades into the pancreas, centred on
   * the surface; absent: a sharp margin (one pixel). The mask is level <= 1 either way.
   */
  marginWidthMm?: number;
}

/** Largest outward reach of the lobulation, as a factor of the radii. */
export function maxLobeFactor(shape: TumourShape): number {
  return 1 + shape.lobes.reduce((s, l) => s + Math.abs(l.amplitude), 0);
}

/** level <= 1 inside; about 1 + distance / radius near the surface. */
export function tumourLevel(shape: TumourShape, centre: Vec3, p: Vec3): number {
  const dx = p[0] - centre[0];
  const dy = p[1] - centre[1];
  const dz = p[2] - centre[2];
  const [a0, a1, a2] = shape.axes;
  const q0 = (a0[0] * dx + a0[1] * dy + a0[2] * dz) / shape.radiiMm[0];
  const q1 = (a1[0] * dx + a1[1] * dy + a1[2] * dz) / shape.radiiMm[1];
  const q2 = (a2[0] * dx + a2[1] * dy + a2[2] * dz) / shape.radiiMm[2];
  const r = Math.sqrt(q0 * q0 + q1 * q1 + q2 * q2);
  if (r < 1e-9) return 0;
  let rho = 1;
  for (const lobe of shape.lobes) {
    const d = lobe.direction;
    rho += lobe.amplitude * Math.sin(lobe.frequency * ((q0 * d[0] + q1 * d[1] + q2 * d[2]) / r) + lobe.phase);
  }
  return r / rho;
}

/** Axis-aligned bounding box (patient mm) that contains the whole tumour. */
export function tumourBounds(shape: TumourShape, centre: Vec3): { min: Vec3; max: Vec3 } {
  const f = maxLobeFactor(shape);
  const half = [0, 1, 2].map((axis) =>
    Math.sqrt(shape.axes.reduce((s, a, k) => s + (a[axis]) ** 2 * (shape.radiiMm[k] * f) ** 2, 0)),
  ) as Vec3;
  return {
    min: [centre[0] - half[0], centre[1] - half[1], centre[2] - half[2]],
    max: [centre[0] + half[0], centre[1] + half[1], centre[2] + half[2]],
  };
}
