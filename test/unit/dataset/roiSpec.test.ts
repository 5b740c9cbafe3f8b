import { expect } from 'chai';
import { roiJitter } from '../../../src/dataset/roiSpec';

// The ROI centre itself is the node's rule (inference/roiFinding.ts: roiCentreFromMask), tested in
// test/unit/inference/roiFinding.test.ts; test/integration/dataset.test.ts checks that the builder's
// ROI sits at that centre plus the jitter.
describe('the ROI of the pancreas-first localiser (roiSpec)', () => {
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
