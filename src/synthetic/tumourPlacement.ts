/**
 * The tumour's place and shape: its pancreatic region drawn with the frequencies of PDAC, a
 * position on the pancreas centre line kept clear of the vessels at its core, its size and its
 * irregular lobulated outline.
 */
import type { Vec3 } from '../study/geometry';
import type { AnatomyOptions, TumourPlacement, VesselCentreline } from './anatomyTypes';
import { jitter } from './anatomyHelpers';
import type { PancreasCentreLine } from './pancreas';
import type { SeededRandom } from './random';
import { rotation } from './shapes';
import type { TumourLobe, TumourShape } from './tumourShape';

/** Fraction of the tumour's smallest semi-axis, around its centre, that no vessel enters. */
export const VESSEL_FREE_CORE = 0.6;

/**
 * Tumour: region drawn with the frequencies of PDAC (about 60-70% head), placed on the
 * pancreas centre line with a small offset. Iso-attenuating tumours are smaller (PHANTOM.md:
 * 12 +- 5 mm vs 30 +- 9 mm); size depends on the enhancement parameters only, never on stroma.
 */
export function drawTumourPlacement(rng: SeededRandom, pancreas: PancreasCentreLine, vessels: VesselCentreline[], options: AnatomyOptions): TumourPlacement {
  const regionChoice = rng.weightedIndex([0.12, 0.5, 0.08, 0.2, 0.1]);
  const controlIndex = [0, 1, 3, 4, 6][regionChoice];
  const neighbour = controlIndex === 6 ? 5 : controlIndex + 1;
  const along = rng.uniform(0, controlIndex === 6 ? 0.5 : 0.45);
  const from = pancreas.control[controlIndex];
  const to = pancreas.control[neighbour];
  const onLine: Vec3 = [from[0] + (to[0] - from[0]) * along, from[1] + (to[1] - from[1]) * along, from[2] + (to[2] - from[2]) * along];
  const localRadius = pancreas.baseRadii[controlIndex];
  let diameter = rng.truncatedGaussian(30, 9, 15, 60);
  if (options.tpcArterialHu < 20) diameter = Math.max(11, diameter * 0.6);
  const shape = drawTumourShape(rng, diameter);
  const centreLocal = keepVesselsPeripheral(jitter(rng, onLine, localRadius * 0.2), shape, vessels);
  return { centreLocal, shape, diameterMm: diameter, region: pancreas.regionByControl[controlIndex] };
}

/**
 * Moves the tumour centre until no vessel comes within 0.6 of the tumour's smallest semi-axis of
 * its centre: vessels may abut or encase the tumour's margin (and are painted over it, patent)
 * but never run through its core, whose mean HU is the enhancement the oracle conditions on.
 */
export function keepVesselsPeripheral(start: Vec3, shape: TumourShape, vessels: VesselCentreline[]): Vec3 {
  const centre: Vec3 = [...start];
  const core = VESSEL_FREE_CORE * Math.min(...shape.radiiMm);
  for (let iteration = 0; iteration < 40; iteration++) {
    let worst = 0;
    let push: Vec3 = [0, -1, 0];
    for (const vessel of vessels) {
      for (let i = 0; i < vessel.points.length; i++) {
        const point = vessel.points[i];
        const distance = Math.hypot(centre[0] - point[0], centre[1] - point[1], centre[2] - point[2]);
        const deficit = core + vessel.radii[i] - distance;
        if (deficit > worst) {
          worst = deficit;
          push = distance > 1e-6 ? [(centre[0] - point[0]) / distance, (centre[1] - point[1]) / distance, (centre[2] - point[2]) / distance] : [0, -1, 0];
        }
      }
    }
    if (worst <= 0.05) break;
    for (let axis = 0; axis < 3; axis++) centre[axis] += push[axis] * (worst + 0.25);
  }
  return centre;
}

/** Irregular ellipsoid of the given longest diameter; random orientation; lobulated margin. */
export function drawTumourShape(rng: SeededRandom, diameterMm: number): TumourShape {
  const radius = diameterMm / 2;
  const orientation = rotation(rng.uniform(0, Math.PI), rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5));
  // Rows of `axes` are the body axes in patient coordinates: the columns of the rotation matrix.
  const axes: [Vec3, Vec3, Vec3] = [
    [orientation[0][0], orientation[1][0], orientation[2][0]],
    [orientation[0][1], orientation[1][1], orientation[2][1]],
    [orientation[0][2], orientation[1][2], orientation[2][2]],
  ];
  const lobes: TumourLobe[] = [];
  const count = rng.int(3, 6);
  for (let k = 0; k < count; k++) {
    // A direction uniform on the sphere: cosine of its polar angle, then its azimuth.
    const cosPolar = rng.uniform(-1, 1);
    const azimuth = rng.uniform(0, 2 * Math.PI);
    const sinPolar = Math.sqrt(1 - cosPolar * cosPolar);
    lobes.push({ direction: [sinPolar * Math.cos(azimuth), sinPolar * Math.sin(azimuth), cosPolar], frequency: rng.uniform(2, 6), phase: rng.uniform(0, 2 * Math.PI), amplitude: rng.uniform(0.02, 0.2 / count + 0.02) });
  }
  // The in-plane diameter is the largest; the others are a bit smaller.
  return { axes, radiiMm: [radius, radius * rng.uniform(0.72, 0.95), radius * rng.uniform(0.75, 1.0)], lobes };
}
