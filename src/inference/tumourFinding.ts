/**
 * From the localiser's probability grid to a tumour: peak, the connected component around it,
 * its centre and size. Pure functions on a grid in patient space.
 */
import { indexToPatient, type Geometry, type Vec3 } from '../study/geometry';

/** The localiser's output on its grid (layout of HuVolume: x fastest, then y, then z). */
export interface ProbabilityGrid {
  geometry: Geometry;
  data: Float32Array;
}

export interface TumourFinding {
  /** Peak probability (the localiser's confidence). */
  confidence: number;
  /** Grid index (x, y, z) of the peak. */
  peakIndex: Vec3;
  /** Probability-weighted centroid of the component, in patient mm. */
  centreMm: Vec3;
  /** Diameter of the sphere with the component's volume, in mm. */
  diameterMm: number;
  /** Probability level that delimits the component (half the peak). */
  level: number;
  /** Number of grid voxels in the component. */
  voxels: number;
}

export interface SearchWindow {
  /** Only peaks within radiusMm of this patient point count. */
  centreMm: Vec3;
  radiusMm: number;
}

/** Grid index of the highest probability (inside the window when one is given); the first one on ties. */
export function findPeak(grid: ProbabilityGrid, window?: SearchWindow): { index: Vec3; value: number } | undefined {
  const [nx, ny, nz] = grid.geometry.dims;
  const g = grid.geometry;
  let best = -Infinity;
  let bestIndex = -1;
  if (!window) {
    for (let n = 0; n < grid.data.length; n++) {
      if (grid.data[n] > best) {
        best = grid.data[n];
        bestIndex = n;
      }
    }
  } else {
    const r2 = window.radiusMm * window.radiusMm;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          const n = (k * ny + j) * nx + i;
          if (!(grid.data[n] > best)) continue;
          const p = indexToPatient(g, i, j, k);
          const dx = p[0] - window.centreMm[0];
          const dy = p[1] - window.centreMm[1];
          const dz = p[2] - window.centreMm[2];
          if (dx * dx + dy * dy + dz * dz > r2) continue;
          best = grid.data[n];
          bestIndex = n;
        }
      }
    }
  }
  if (bestIndex < 0) return undefined;
  const i = bestIndex % nx;
  const j = Math.floor(bestIndex / nx) % ny;
  const k = Math.floor(bestIndex / (nx * ny));
  return { index: [i, j, k], value: best };
}

/**
 * The 26-connected component of voxels at or above `level` that contains `seed`, as a list of
 * flat grid indices.
 */
export function connectedComponent(grid: ProbabilityGrid, seed: Vec3, level: number): Int32Array {
  const [nx, ny] = grid.geometry.dims;
  const data = grid.data;
  const start = (seed[2] * ny + seed[1]) * nx + seed[0];
  if (!(data[start] >= level)) return new Int32Array(0);
  return floodFill26(grid.geometry.dims, start, (n) => data[n] >= level, new Uint8Array(data.length));
}

/**
 * Breadth-first flood fill from `start` over the 26-connected voxels where `inside(n)` that are
 * not yet `visited` (marked as they are reached): their flat indices, in the order reached.
 */
export function floodFill26(dims: Vec3, start: number, inside: (n: number) => boolean, visited: Uint8Array): Int32Array {
  const [nx, ny, nz] = dims;
  let queue = new Int32Array(1024);
  let head = 0;
  let tail = 0;
  queue[tail++] = start;
  visited[start] = 1;
  while (head < tail) {
    const n = queue[head++];
    const i = n % nx;
    const j = Math.floor(n / nx) % ny;
    const k = Math.floor(n / (nx * ny));
    for (let dk = -1; dk <= 1; dk++) {
      const kk = k + dk;
      if (kk < 0 || kk >= nz) continue;
      for (let dj = -1; dj <= 1; dj++) {
        const jj = j + dj;
        if (jj < 0 || jj >= ny) continue;
        for (let di = -1; di <= 1; di++) {
          const ii = i + di;
          if (ii < 0 || ii >= nx) continue;
          const m = (kk * ny + jj) * nx + ii;
          if (visited[m] || !inside(m)) continue;
          visited[m] = 1;
          if (tail === queue.length) {
            const bigger = new Int32Array(queue.length * 2);
            bigger.set(queue);
            queue = bigger;
          }
          queue[tail++] = m;
        }
      }
    }
  }
  return queue.slice(0, tail);
}

/**
 * The tumour around the grid's peak (within `window` when given): the component at half the
 * peak's probability (a "full width at half maximum" rule, so it does not depend on how sharp
 * the localiser's sigmoid is), its probability-weighted centroid, and the diameter of a sphere of
 * the same volume. Undefined when the grid is empty or the window holds no voxel.
 */
export function findTumour(grid: ProbabilityGrid, window?: SearchWindow): TumourFinding | undefined {
  const peak = findPeak(grid, window);
  if (!peak) return undefined;
  const level = peak.value / 2;
  const component = connectedComponent(grid, peak.index, level);
  const [nx, ny] = grid.geometry.dims;
  let w = 0;
  let si = 0;
  let sj = 0;
  let sk = 0;
  for (const n of component) {
    const p = grid.data[n];
    w += p;
    si += p * (n % nx);
    sj += p * (Math.floor(n / nx) % ny);
    sk += p * Math.floor(n / (nx * ny));
  }
  const s = grid.geometry.spacing;
  const volumeMm3 = component.length * s[0] * s[1] * s[2];
  return {
    confidence: peak.value,
    peakIndex: peak.index,
    centreMm: w > 0 ? indexToPatient(grid.geometry, si / w, sj / w, sk / w) : indexToPatient(grid.geometry, ...peak.index),
    diameterMm: Math.cbrt((6 * volumeMm3) / Math.PI),
    level,
    voxels: component.length,
  };
}
