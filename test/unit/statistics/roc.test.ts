/** ROC and AUC: table-driven, each row with its reason. */
import { expect } from 'chai';
import { bestThresholdBalancedAccuracy, rocAuc, rocCurve } from '../../../src/statistics/roc';

describe('evaluation/roc', () => {
  const cases: Array<[string, number[], boolean[], number]> = [
    ['perfect ranking', [0.1, 0.2, 0.8, 0.9], [false, false, true, true], 1],
    ['reversed ranking', [0.9, 0.8, 0.2, 0.1], [false, false, true, true], 0],
    ['all scores tied: chance', [0.5, 0.5, 0.5, 0.5], [false, true, false, true], 0.5],
    ['one swapped pair of four', [0.1, 0.6, 0.5, 0.9], [false, false, true, true], 0.75],
    ['a tie across classes counts one half', [0.1, 0.5, 0.5, 0.9], [false, false, true, true], 0.875],
  ];
  for (const [reason, scores, labels, auc] of cases) {
    it(`AUC: ${reason}`, () => expect(rocAuc(scores, labels)).to.be.closeTo(auc, 1e-12));
  }

  it('equals the trapezoidal area under the curve', () => {
    const scores = [0.3, 0.1, 0.7, 0.7, 0.2, 0.9, 0.4, 0.6];
    const labels = [false, false, true, false, true, true, false, true];
    const curve = rocCurve(scores, labels);
    let area = 0;
    for (let i = 1; i < curve.length; i++) {
      area += ((curve[i].falsePositiveRate - curve[i - 1].falsePositiveRate) * (curve[i].truePositiveRate + curve[i - 1].truePositiveRate)) / 2;
    }
    expect(curve[0]).to.include({ truePositiveRate: 0, falsePositiveRate: 0 });
    expect(curve[curve.length - 1]).to.include({ truePositiveRate: 1, falsePositiveRate: 1 });
    expect(area).to.be.closeTo(rocAuc(scores, labels), 1e-12);
  });

  it('best single-threshold balanced accuracy: 1 when separable, either direction', () => {
    expect(bestThresholdBalancedAccuracy([1, 2, 3, 4], [false, false, true, true])).to.equal(1);
    expect(bestThresholdBalancedAccuracy([4, 3, 2, 1], [false, false, true, true])).to.equal(1);
    expect(bestThresholdBalancedAccuracy([1, 3, 2, 4], [false, false, true, true])).to.equal(0.75);
  });

  it('refuses inputs it cannot score', () => {
    expect(() => rocAuc([0.1, 0.2], [true, true])).to.throw(RangeError, /positive and one negative/);
    expect(() => rocAuc([0.1], [true, false])).to.throw(RangeError, /length/);
    expect(() => rocAuc([NaN, 0.2], [true, false])).to.throw(RangeError, /finite/);
  });
});
