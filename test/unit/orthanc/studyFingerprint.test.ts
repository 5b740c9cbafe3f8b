import { expect } from 'chai';
import { studyContentFingerprint } from '../../../src/orthanc/studyFingerprint';

describe('orthanc/studyFingerprint: content identity of a study', () => {
  it('is the same whatever the order and duplicates of the UIDs (REST and QIDO list them differently)', () => {
    expect(studyContentFingerprint(['1.2.3', '1.2.10', '1.2.4'])).to.equal(studyContentFingerprint(['1.2.4', '1.2.3', '1.2.10', '1.2.3']));
  });
  it('changes when an instance is added or replaced, and says how many instances it covers', () => {
    const base = studyContentFingerprint(['1.2.3', '1.2.4']);
    expect(base).to.match(/^sha256:2:[0-9a-f]{64}$/);
    expect(studyContentFingerprint(['1.2.3', '1.2.4', '1.2.5'])).to.not.equal(base);
    expect(studyContentFingerprint(['1.2.3', '1.2.6'])).to.not.equal(base);
  });
  it('cannot be fooled by joining UIDs differently', () => {
    expect(studyContentFingerprint(['1.2', '3.4'])).to.not.equal(studyContentFingerprint(['1.23.4']));
  });
});
