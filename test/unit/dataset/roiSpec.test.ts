import { expect } from 'chai';
import { largestComponent, roiCentreFromMask, roiJitter } from '../../../src/dataset/roiSpec';
import type { Geometry } from '../../../src/study/geometry';

function grid(dims: [number, number, number], spacing = 4): Geometry {
  return { dims, spacing: [spacing, spacing, spacing], origin: [-100, -50, 20], rowDirection: [1, 0, 0], columnDirection: [0, 1, 0], normal: [0, 0, 1] };
}

function box(mask: Uint8Array, dims: [number, number, number], lo: number[], hi: number[]): void {
  for (let k = lo[2]; k <= hi[2]; k++) for (let j = lo[1]; j <= hi[1]; j++) for (let i = lo[0]; i <= hi[0]; i++) mask[(k * dims[1] + j) * dims[0] + i] = 1;
}

describe('the ROI of the pancreas-first localiser (roiSpec)', () => {
  const dims: [number, number, number] = [20, 16, 12];

  it('keeps the largest 26-connected component; voxels touching at a corner belong to it', () => {
    const mask = new Uint8Array(20 * 16 * 12);
    box(mask, dims, [1, 1, 1], [2, 2, 2]); // 8 voxels
    box(mask, dims, [3, 3, 3], [3, 3, 3]); // touches the first box only at a corner: joins it (9)
    box(mask, dims, [10, 10, 5], [11, 11, 6]); // 8 voxels, apart
    expect(largestComponent(mask, dims)).to.have.length(9);
    expect(largestComponent(new Uint8Array(mask.length), dims)).to.have.length(0);
  });

  it('centres the ROI on the bounding box of the largest component, in patient mm', () => {
    const g = grid(dims);
    const mask = new Uint8Array(20 * 16 * 12);
    box(mask, dims, [4, 2, 1], [10, 6, 3]); // the gland: box centre index (7, 4, 2)
    box(mask, dims, [15, 14, 10], [15, 14, 10]); // a speck elsewhere: ignored
    expect(roiCentreFromMask(mask, g)).to.deep.equal([-100 + 7 * 4, -50 + 4 * 4, 20 + 2 * 4]);
    expect(roiCentreFromMask(new Uint8Array(mask.length), g)).to.equal(undefined);
  });

  it('draws the jitter from the seed: the same seed the same jitter, within the bound', () => {
    expect(roiJitter(42, 8)).to.deep.equal(roiJitter(42, 8));
    expect(roiJitter(42, 8)).to.not.deep.equal(roiJitter(43, 8));
    const all = Array.from({ length: 500 }, (_, seed) => roiJitter(seed, 8)).flat();
    expect(Math.max(...all.map(Math.abs))).to.be.at.most(8);
    // Uniform on [-8, 8]: mean near 0, both signs, reaching near the ends.
    expect(Math.abs(all.reduce((s, v) => s + v, 0) / all.length)).to.be.below(0.6);
    expect(Math.min(...all)).to.be.below(-7.5);
    expect(Math.max(...all)).to.be.above(7.5);
  });
});
