import { expect } from 'chai';
import { middleSlices } from '../../../src/study/imageEvidence';
import { study } from './studyBuilder';

describe('study/imageEvidence', () => {
  it('picks instances spread over the middle third of the series, by position, not by metadata order', () => {
    const [summary] = study([{ description: 'x', slices: 31 }]);
    // Metadata order reversed: the choice must not depend on it.
    const reversed = { ...summary, instances: [...summary.instances].reverse() };
    const picked = middleSlices(reversed, 5);
    // The builder numbers instances k + 1 along increasing z; the middle third is k = 10..20.
    const ks = picked.map((uid) => Number(uid.split('.').pop()) - 1);
    expect(ks).to.have.length(5);
    expect(ks[0]).to.equal(10);
    expect(ks[2]).to.equal(15);
    expect(ks[4]).to.equal(20);
    expect(ks).to.deep.equal([...ks].sort((a, b) => a - b));
    expect(new Set(ks).size).to.equal(5);
  });

  it('asks for one middle slice when one is wanted, and none from a series without positions', () => {
    const [summary] = study([{ description: 'x', slices: 9 }]);
    expect(middleSlices(summary, 1).map((uid) => Number(uid.split('.').pop()) - 1)).to.deep.equal([4]);
    expect(middleSlices({ ...summary, instances: summary.instances.map(({ imagePositionPatient: _p, ...rest }) => rest) }, 3)).to.deep.equal([]);
  });
});
