import { expect } from 'chai';
import type { TumourLocalisation } from '../../../src/inference/result';
import { tumourSegmentFrames, type SegmentFrame } from '../../../src/results/seg/segmentFrames';
import { indexToPatient, type Geometry, type Vec3 } from '../../../src/study/geometry';
import { localisationBlob } from './tsrFixture';

/** A CT-like grid: 1 mm pixels, 2 mm slices, 96 x 96 x 40, axial unless told. */
function ctGeometry(overrides: Partial<Geometry> = {}): Geometry {
  return {
    dims: [96, 96, 40],
    spacing: [1, 1, 2],
    origin: [-48, -48, -40],
    rowDirection: [1, 0, 0],
    columnDirection: [0, 1, 0],
    normal: [0, 0, 1],
    ...overrides,
  };
}

/** Every segment pixel's centre in patient mm. */
function segmentPoints(frames: SegmentFrame[], g: Geometry): Vec3[] {
  const points: Vec3[] = [];
  for (const frame of frames) {
    frame.mask.forEach((inside, n) => {
      if (inside) points.push(indexToPatient(g, n % g.dims[0], Math.floor(n / g.dims[0]), frame.sliceIndex));
    });
  }
  return points;
}

const distance = (a: Vec3, b: Vec3): number => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

describe('results/seg/segmentFrames: the tumour component on the source frames', () => {
  const centre: Vec3 = [6, -4, 3];
  const radiusMm = 9;

  it('draws the component at its level: a ball of the half-maximum radius around the centre', () => {
    const g = ctGeometry();
    const frames = tumourSegmentFrames(localisationBlob(centre, radiusMm), g);
    const points = segmentPoints(frames, g);
    // Trilinear interpolation of a Gaussian sampled every 4 mm moves its half-maximum surface by ~1 mm.
    expect(Math.max(...points.map((p) => distance(p, centre)))).to.be.below(radiusMm + 1.5);
    const volumeMm3 = points.length * 1 * 1 * 2;
    expect(volumeMm3 / ((4 / 3) * Math.PI * radiusMm ** 3)).to.be.within(0.75, 1.25);
    const inner = (k: number, i: number, j: number): boolean => distance(indexToPatient(g, i, j, k), centre) < radiusMm - 1.5;
    for (const frame of frames) {
      frame.mask.forEach((inside, n) => {
        if (inner(frame.sliceIndex, n % 96, Math.floor(n / 96))) expect(inside, 'inside the ball').to.equal(1);
      });
    }
  });

  it('keeps only the slices the segment touches, each once, in slice order', () => {
    const g = ctGeometry();
    const frames = tumourSegmentFrames(localisationBlob(centre, radiusMm), g);
    const slices = frames.map((f) => f.sliceIndex);
    expect(slices).to.deep.equal([...slices].sort((a, b) => a - b));
    expect(new Set(slices).size).to.equal(slices.length);
    for (const frame of frames) expect(frame.mask.some((v) => v === 1), `slice ${frame.sliceIndex}`).to.be.true;
    // The ball spans z = 3 - 9 .. 3 + 9 mm: slices (z + 40) / 2 from 17 to 26, not beyond one slice either side.
    expect(slices[0]).to.be.within(16, 18);
    expect(slices[slices.length - 1]).to.be.within(25, 27);
  });

  it("draws only the peak's component, not another region at or above the level beside it", () => {
    const blob = localisationBlob(centre, radiusMm);
    // One voxel at 0.9, 12 mm from the centre along x and y: inside the box of the tumour's component
    // (which reaches 8 mm from its centre), but not touching it: another component.
    const data = blob.grid.data.slice();
    data[(8 * 24 + 15) * 24 + 15] = 0.9;
    const other: Vec3 = [centre[0] + 12, centre[1] + 12, centre[2]];
    const localisation: TumourLocalisation = { ...blob, grid: { geometry: blob.grid.geometry, data } };
    const ct = ctGeometry();
    const points = segmentPoints(tumourSegmentFrames(localisation, ct), ct);
    expect(points.length).to.be.above(1000);
    expect(points.filter((p) => distance(p, other) < 2.5), 'nothing of the other component').to.deep.equal([]);
    expect(points.every((p) => distance(p, centre) < radiusMm + 1.5)).to.be.true;
  });

  it('maps by patient coordinates: an oblique series gets the same ball', () => {
    // Rows and columns turned 30 degrees about the patient's z axis, the origin moved to match.
    const c = Math.cos(Math.PI / 6);
    const s = Math.sin(Math.PI / 6);
    const oblique = ctGeometry({ rowDirection: [c, s, 0], columnDirection: [-s, c, 0], origin: [-48 * c + 48 * s, -48 * s - 48 * c, -40] });
    const points = segmentPoints(tumourSegmentFrames(localisationBlob(centre, radiusMm), oblique), oblique);
    const mean = [0, 1, 2].map((a) => points.reduce((sum, p) => sum + p[a], 0) / points.length) as Vec3;
    expect(distance(mean, centre)).to.be.below(0.5);
    expect(Math.max(...points.map((p) => distance(p, centre)))).to.be.below(radiusMm + 1.5);
  });

  it('gives the pixel nearest the peak when the component falls between the source samples', () => {
    // A needle-thin response: one grid voxel at 0.9, its neighbours at 0; slices 10 mm apart miss it.
    const blob = localisationBlob(centre, radiusMm);
    const data = new Float32Array(blob.grid.data.length);
    data[(8 * 24 + 12) * 24 + 12] = 0.9;
    const sparse = ctGeometry({ dims: [96, 96, 8], spacing: [1, 1, 10], origin: [-48, -48, -32] });
    const frames = tumourSegmentFrames({ grid: { geometry: blob.grid.geometry, data }, peakIndex: [12, 12, 8], level: 0.45 }, sparse);
    expect(frames).to.have.length(1);
    const points = segmentPoints(frames, sparse);
    expect(points).to.have.length(1);
    expect(distance(points[0], centre)).to.be.below(Math.hypot(0.5, 0.5, 5) + 1e-9);
  });

  it('refuses a localisation whose peak is below its level', () => {
    const blob = localisationBlob(centre, radiusMm);
    expect(() => tumourSegmentFrames({ ...blob, level: 2 }, ctGeometry())).to.throw(/tumour component/);
  });
});
