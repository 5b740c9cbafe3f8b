import { expect } from 'chai';
import { bootstrapAucs, differenceInterval, eceSamplingFloor, expectedCalibrationError, operatingPoint, quantile, seededUniform } from '../../../src/evaluation/metrics';
import { rocAuc } from '../../../src/statistics/roc';

describe('evaluation/metrics', () => {
  describe('expectedCalibrationError (10 equal-width bins)', () => {
    it('is 0 for a perfectly calibrated bin', () => {
      // Four cases at 0.25, one of them high: mean P 0.25 = fraction high 0.25.
      expect(expectedCalibrationError([0.25, 0.25, 0.25, 0.25], [true, false, false, false])).to.be.closeTo(0, 1e-12);
    });
    it('matches a hand computation over two bins', () => {
      // Bin [0.1, 0.2): p = 0.1, 0.15, labels F, T -> |0.125 - 0.5| = 0.375, weight 2/5.
      // Bin [0.9, 1.0]: p = 0.9, 1.0, 0.95, labels T, T, F -> |0.95 - 2/3| = 0.28333, weight 3/5.
      const ece = expectedCalibrationError([0.1, 0.15, 0.9, 1.0, 0.95], [false, true, true, true, false]);
      expect(ece).to.be.closeTo((2 / 5) * 0.375 + (3 / 5) * (0.95 - 2 / 3), 1e-12);
    });
    it('puts P = 1.0 into the last bin and refuses probabilities outside [0, 1]', () => {
      expect(expectedCalibrationError([1.0], [true])).to.equal(0);
      expect(() => expectedCalibrationError([1.2], [true])).to.throw(RangeError, /not in \[0, 1\]/);
    });
  });

  describe('eceSamplingFloor', () => {
    it('is 0 where the labels are certain and shrinks as the cohort grows', () => {
      expect(eceSamplingFloor([0, 1, 1, 0]).mean).to.equal(0);
      const spread = (n: number): number[] => Array.from({ length: n }, (_, i) => 0.2 + (0.6 * i) / (n - 1));
      const small = eceSamplingFloor(spread(100));
      const large = eceSamplingFloor(spread(1600));
      // Sampling noise of a bin mean falls as 1/sqrt(cases): 16x the cases, about a quarter of the floor.
      expect(small.mean).to.be.within(0.05, 0.2);
      expect(large.mean).to.be.within(small.mean / 6, small.mean / 2.5);
      expect(small.p95).to.be.greaterThan(small.mean);
    });
    it('is reproducible for a seed', () => {
      const p = [0.3, 0.5, 0.7, 0.45, 0.62];
      expect(eceSamplingFloor(p, { seed: 7 })).to.deep.equal(eceSamplingFloor(p, { seed: 7 }));
    });
  });

  describe('operatingPoint', () => {
    it('counts "high" at P >= threshold', () => {
      const op = operatingPoint([0.9, 0.5, 0.49, 0.2, 0.7, 0.1], [true, true, true, false, false, false], 0.5);
      // High cases: 0.9 and 0.5 called high, 0.49 missed -> sensitivity 2/3. Low cases: 0.7 called high -> specificity 2/3.
      expect(op.sensitivity).to.be.closeTo(2 / 3, 1e-12);
      expect(op.specificity).to.be.closeTo(2 / 3, 1e-12);
      expect([op.truePositives, op.falseNegatives, op.falsePositives, op.trueNegatives]).to.deep.equal([2, 1, 1, 2]);
    });
  });

  describe('quantile', () => {
    it('interpolates between order statistics like numpy', () => {
      expect(quantile([1, 2, 3, 4], 0.5)).to.equal(2.5);
      expect(quantile([1, 2, 3, 4], 0)).to.equal(1);
      expect(quantile([1, 2, 3, 4], 1)).to.equal(4);
      expect(quantile([10, 20, 30, 40, 50], 0.025)).to.be.closeTo(11, 1e-12);
    });
  });

  describe('bootstrapAucs', () => {
    const positives = [true, true, true, true, false, false, false, false, true, false, true, false];
    const good = [0.9, 0.8, 0.7, 0.65, 0.3, 0.2, 0.4, 0.1, 0.6, 0.5, 0.55, 0.35];
    const noisy = [0.6, 0.4, 0.7, 0.2, 0.5, 0.3, 0.65, 0.1, 0.45, 0.55, 0.35, 0.25];

    it('is reproducible for a seed and brackets the point estimate', () => {
      const a = bootstrapAucs({ good, noisy }, positives, { replicates: 300, seed: 7 });
      const b = bootstrapAucs({ good, noisy }, positives, { replicates: 300, seed: 7 });
      expect(a.intervals).to.deep.equal(b.intervals);
      for (const [name, s] of Object.entries({ good, noisy })) {
        const [lo, hi] = a.intervals[name];
        const auc = rocAuc(s, positives);
        expect(lo).to.be.at.most(auc);
        expect(hi).to.be.at.least(auc);
        expect(hi).to.be.at.most(1);
      }
      expect(a.replicates.good).to.have.length(300);
    });

    it('gives a degenerate interval for a perfect score and the paired difference interval', () => {
      const perfect = positives.map((p) => (p ? 0.9 : 0.1));
      const r = bootstrapAucs({ perfect, noisy }, positives, { replicates: 200, seed: 3 });
      expect(r.intervals.perfect).to.deep.equal([1, 1]);
      const [lo, hi] = differenceInterval(r.replicates.perfect, r.replicates.noisy);
      expect(lo).to.be.at.least(0);
      expect(hi).to.be.at.most(1);
      expect(hi).to.be.above(lo);
    });

    it('draws uniform numbers in [0, 1) from a seed', () => {
      const u = seededUniform(42);
      const xs = Array.from({ length: 1000 }, u);
      expect(Math.min(...xs)).to.be.at.least(0);
      expect(Math.max(...xs)).to.be.below(1);
      expect(xs.reduce((a, b) => a + b, 0) / 1000).to.be.closeTo(0.5, 0.05);
    });
  });
});
