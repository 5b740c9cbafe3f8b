import { expect } from 'chai';
import { indexToPatient, type Geometry, type Vec3 } from '../../../src/study/geometry';
import { connectedComponent, findPeak, findTumour, type ProbabilityGrid } from '../../../src/inference/tumourFinding';

const grid4: Geometry = { dims: [20, 20, 10], spacing: [4, 4, 4], origin: [-38, -38, -18], rowDirection: [1, 0, 0], columnDirection: [0, 1, 0], normal: [0, 0, 1] };

function gridWith(fill: (p: Vec3) => number): ProbabilityGrid {
  const [nx, ny, nz] = grid4.dims;
  const data = new Float32Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) data[(k * ny + j) * nx + i] = fill(indexToPatient(grid4, i, j, k));
  return { geometry: grid4, data };
}

const ball = (c: Vec3, r: number, p: number) => (x: Vec3) => ((x[0] - c[0]) ** 2 + (x[1] - c[1]) ** 2 + (x[2] - c[2]) ** 2 <= r * r ? p : 0);

describe('inference/tumourFinding', () => {
  it('finds the peak, also within a search window only', () => {
    const grid = gridWith((p) => Math.max(ball([10, -6, 2], 6, 0.9)(p), ball([-22, 14, -10], 6, 0.95)(p)));
    expect(findPeak(grid)?.value).to.be.closeTo(0.95, 1e-6);
    const local = findPeak(grid, { centreMm: [10, -6, 2], radiusMm: 10 });
    expect(local?.value).to.be.closeTo(0.9, 1e-6);
    expect(findPeak(grid, { centreMm: [500, 0, 0], radiusMm: 10 })).to.equal(undefined);
  });

  it('gives the centroid and the equivalent-sphere diameter of the component around the peak', () => {
    // A box of 3 x 3 x 3 voxels at probability 0.8 around grid index (10, 10, 5); one far voxel at 0.9 is a separate component.
    const grid = gridWith(() => 0);
    const [nx, ny] = grid4.dims;
    for (let k = 4; k <= 6; k++) for (let j = 9; j <= 11; j++) for (let i = 9; i <= 11; i++) grid.data[(k * ny + j) * nx + i] = 0.8;
    grid.data[(5 * ny + 10) * nx + 10] = 0.85;
    const found = findTumour(grid, { centreMm: indexToPatient(grid4, 10, 10, 5), radiusMm: 12 });
    expect(found).to.not.equal(undefined);
    expect(found!.confidence).to.be.closeTo(0.85, 1e-6);
    expect(found!.voxels).to.equal(27);
    const centre = indexToPatient(grid4, 10, 10, 5);
    for (let a = 0; a < 3; a++) expect(found!.centreMm[a]).to.be.closeTo(centre[a], 1e-6);
    // 27 voxels of 64 mm3: the sphere of 1728 mm3 has a diameter of (6 * 1728 / pi)^(1/3).
    expect(found!.diameterMm).to.be.closeTo(Math.cbrt((6 * 1728) / Math.PI), 1e-9);
    expect(found!.level).to.be.closeTo(0.425, 1e-6);
  });

  it('weights the centroid by probability', () => {
    const grid = gridWith(() => 0);
    const [nx, ny] = grid4.dims;
    grid.data[(5 * ny + 10) * nx + 10] = 0.9;
    grid.data[(5 * ny + 10) * nx + 11] = 0.6;
    const found = findTumour(grid)!;
    // Centroid index 10 + 0.6 / 1.5 = 10.4 along x.
    expect(found.centreMm[0]).to.be.closeTo(indexToPatient(grid4, 10.4, 10, 5)[0], 1e-6);
    expect(found.voxels).to.equal(2);
  });

  it('connects 26-neighbours (diagonals) but not voxels below the level', () => {
    const grid = gridWith(() => 0);
    const [nx, ny] = grid4.dims;
    const at = (i: number, j: number, k: number): number => (k * ny + j) * nx + i;
    grid.data[at(5, 5, 5)] = 1;
    grid.data[at(6, 6, 6)] = 1; // corner neighbour
    grid.data[at(8, 6, 6)] = 1; // two voxels away
    expect(connectedComponent(grid, [5, 5, 5], 0.5).length).to.equal(2);
    expect(connectedComponent(grid, [0, 0, 0], 0.5).length).to.equal(0);
  });
});
