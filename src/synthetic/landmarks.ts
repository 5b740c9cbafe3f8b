/**
 * Landmarks: for a few structures, a point deep inside (in each contrast phase) and how far it is
 * from any other tissue. Written into the ground truth so tests, phase-detection checks and users
 * can measure HU from the images where each structure surely is (PHANTOM.md figures).
 *
 * A candidate point's clearance is the largest radius r (from a short list) such that the point
 * and 18 points on the sphere of radius r lie inside the structure and inside no structure painted
 * after it (a vessel through the liver, a rib over the muscle). The best candidate of a grid over
 * the structure's bounding box, within the scanned z range, wins; ties go to the one nearest the
 * middle of the scan.
 */
import type { Vec3 } from '../study/geometry';
import type { Anatomy, Structure } from './anatomyTypes';
import type { IntervalShape } from './shapes';

export type LandmarkName = 'aorta' | 'portal vein' | 'liver' | 'spleen' | 'kidney cortex' | 'pancreas' | 'paraspinal muscles' | 'subcutaneous fat' | 'vertebral posterior elements';

export const LANDMARK_STRUCTURES: readonly LandmarkName[] = [
  'aorta',
  'portal vein',
  'liver',
  'spleen',
  'kidney cortex',
  'pancreas',
  'paraspinal muscles',
  'subcutaneous fat',
  'vertebral posterior elements',
];

export interface Landmark {
  /** Local-frame point (before breathing shift), mm. */
  point: Vec3;
  /** Distance (mm) to the nearest other tissue, at least. */
  clearanceMm: number;
}

const RADII = [1.5, 2.5, 3.5, 5, 7, 9, 12];
const DIRECTIONS: Vec3[] = (() => {
  const d: Vec3[] = [
    [1, 0, 0],
    [-1, 0, 0],
    [0, 1, 0],
    [0, -1, 0],
    [0, 0, 1],
    [0, 0, -1],
  ];
  const s = Math.SQRT1_2;
  for (const [a, b] of [
    [0, 1],
    [0, 2],
    [1, 2],
  ] as const) {
    for (const sa of [-s, s]) {
      for (const sb of [-s, s]) {
        const v: Vec3 = [0, 0, 0];
        v[a] = sa;
        v[b] = sb;
        d.push(v);
      }
    }
  }
  return d;
})();

const scratch = new Float64Array(2);

function inShape(shape: IntervalShape, x: number, y: number, z: number): boolean {
  const b = shape.bounds;
  if (x < b.min[0] || x > b.max[0] || y < b.min[1] || y > b.max[1] || z < b.min[2] || z > b.max[2]) return false;
  return shape.interval(y, z, scratch) && x >= scratch[0] && x <= scratch[1];
}

interface Indexed {
  structure: Structure;
  min: Vec3;
  max: Vec3;
}

function indexed(s: Structure): Indexed {
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const shape of s.shapes) {
    for (let a = 0; a < 3; a++) {
      min[a] = Math.min(min[a], shape.bounds.min[a]);
      max[a] = Math.max(max[a], shape.bounds.max[a]);
    }
  }
  return { structure: s, min, max };
}

function inStructure(s: Indexed, x: number, y: number, z: number): boolean {
  if (x < s.min[0] || x > s.max[0] || y < s.min[1] || y > s.max[1] || z < s.min[2] || z > s.max[2]) return false;
  for (const shape of s.structure.shapes) if (inShape(shape, x, y, z)) return true;
  return false;
}

/**
 * Best landmark of a structure. The scan covers local z in [zLow, zHigh]; `shifts` are the
 * breathing displacements of the phases the landmark must hold in (moving structures shift,
 * fixed ones do not, so their overlap can change between phases). `tumourCovers` tells whether a
 * point (tumour frame) lies in the tumour, which is painted voxel by voxel.
 */
export function findLandmark(anatomy: Anatomy, name: string, zLow: number, zHigh: number, shifts: Vec3[], tumourCovers: (p: Vec3) => boolean): Landmark | undefined {
  const index = anatomy.structures.findIndex((s) => s.name === name);
  if (index < 0) throw new Error(`no structure named ${name}`);
  const target = indexed(anatomy.structures[index]);
  // Only later structures that can come near the target matter (reach: sphere radius + shift).
  const reach = RADII[RADII.length - 1] + 15;
  const later = anatomy.structures
    .slice(index + 1)
    .filter((s) => !s.isTumour)
    .map(indexed)
    .filter((s) => [0, 1, 2].every((a) => s.min[a] <= target.max[a] + reach && s.max[a] >= target.min[a] - reach));
  const laterHasTumour = anatomy.structures.slice(index + 1).some((s) => s.isTumour);
  const moves = target.structure.moves;
  const clear = (x: number, y: number, z: number): boolean => {
    if (!inStructure(target, x, y, z)) return false;
    for (const d of shifts) {
      // Where the scanner sees the point in this phase, then in each later structure's frame.
      const wx = moves ? x + d[0] : x;
      const wy = moves ? y + d[1] : y;
      const wz = moves ? z + d[2] : z;
      if (wz < zLow || wz > zHigh) return false;
      for (const s of later) {
        if (s.structure.moves ? inStructure(s, wx - d[0], wy - d[1], wz - d[2]) : inStructure(s, wx, wy, wz)) return false;
      }
      if (laterHasTumour && tumourCovers([wx - d[0], wy - d[1], wz - d[2]])) return false;
    }
    return true;
  };
  const min: Vec3 = [...target.min];
  const max: Vec3 = [...target.max];
  min[2] = Math.max(min[2], zLow - 10);
  max[2] = Math.min(max[2], zHigh + 10);
  if (max[2] < min[2]) return undefined;
  // Bounding boxes of clipped shapes can be huge (a slab); the body is at most ~400 mm wide.
  for (let a = 0; a < 2; a++) {
    min[a] = Math.max(min[a], -260);
    max[a] = Math.min(max[a], 260);
  }
  const volume = (max[0] - min[0]) * (max[1] - min[1]) * Math.max(1, max[2] - min[2]);
  const step = Math.max(1.5, Math.cbrt(volume / 250));
  const zMid = (zLow + zHigh) / 2;
  let best: Landmark | undefined;
  let bestScore = -Infinity;
  const maxRadius = RADII[RADII.length - 1];
  const consider = (x: number, y: number, z: number): void => {
    // Prune: even the largest clearance would not beat the best score so far.
    if (maxRadius * 1000 - Math.abs(z - zMid) <= bestScore) return;
    if (!clear(x, y, z)) return;
    const sphereClear = (r: number): boolean => {
      for (const d of DIRECTIONS) if (!clear(x + d[0] * r, y + d[1] * r, z + d[2] * r)) return false;
      return true;
    };
    // Only a candidate at least as clear as the best so far can win: test that radius first.
    // (RADII holds the floor, so the loop below skips re-testing it.)
    const floor = best?.clearanceMm ?? 0;
    if (floor > 0 && !sphereClear(floor)) return;
    let clearance = 0;
    for (const r of RADII) {
      if (r !== floor && !sphereClear(r)) break;
      clearance = r;
    }
    const score = clearance * 1000 - Math.abs(z - zMid);
    if (score > bestScore) {
      bestScore = score;
      best = { point: [x, y, z], clearanceMm: clearance };
    }
  };
  // Planes nearest the middle of the scan first, so that pruning bites early.
  const planes: number[] = [];
  for (let z = min[2] + step / 2; z <= max[2]; z += step) planes.push(z);
  planes.sort((a, b) => Math.abs(a - zMid) - Math.abs(b - zMid));
  for (const z of planes) {
    for (let y = min[1] + step / 2; y <= max[1]; y += step) {
      for (let x = min[0] + step / 2; x <= max[0]; x += step) consider(x, y, z);
    }
  }
  // Refine: a grid three times finer around the best coarse candidate.
  const coarse = best;
  if (coarse) {
    const [cx, cy, cz] = coarse.point;
    const fine = step / 3;
    for (let dz = -2; dz <= 2; dz++) {
      for (let dy = -2; dy <= 2; dy++) {
        for (let dx = -2; dx <= 2; dx++) consider(cx + dx * fine, cy + dy * fine, cz + dz * fine);
      }
    }
  }
  return best;
}
