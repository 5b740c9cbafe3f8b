/**
 * Small helpers the organ-system drawers of the anatomy share: the phantom's z extent, a named
 * structure, a jittered point and a vertical column.
 */
import type { Vec3 } from '../study/geometry';
import type { Structure } from './anatomyTypes';
import type { SeededRandom } from './random';
import { ProfiledCylinder, type IntervalShape } from './shapes';
import type { Tissue } from './tissues';

/** z range (local mm) of the structures that run the whole length of the phantom (body, spine, table). */
export const Z_LOW = -340;
export const Z_HIGH = 280;

export function structure(name: string, tissue: Tissue, shapes: IntervalShape | IntervalShape[], moves: boolean): Structure {
  return { name, tissue, shapes: Array.isArray(shapes) ? shapes : [shapes], moves };
}

export const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];

/** The point moved by a gaussian of SD `sd` (mm) along x, then y, then z. */
export function jitter(rng: SeededRandom, point: Vec3, sd: number): Vec3 {
  return [point[0] + rng.gaussian(0, sd), point[1] + rng.gaussian(0, sd), point[2] + rng.gaussian(0, sd)];
}

/** Vertical solid with a constant cross-section between z0 and z1. */
export function column(x: number, y: number, rx: number, ry: number, z0: number, z1: number, exponent = 2): ProfiledCylinder {
  return new ProfiledCylinder(
    [
      { z: z0, x, y, rx, ry },
      { z: z1, x, y, rx, ry },
    ],
    exponent,
  );
}
