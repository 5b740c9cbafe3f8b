import { expect } from 'chai';
import { assertUid, encodeQueryValue, instancesPath, qidoQueryString } from '../../../src/dicomweb/qido';
import { PermanentError } from '../../../src/errors';

describe('dicomweb/qido: QIDO-RS URLs that Orthanc DICOMweb 1.7 understands', () => {
  const values: Array<[string, string, string]> = [
    ['1.2.840.113619.2.55', '1.2.840.113619.2.55', 'UIDs are sent as they are'],
    ['CT*', 'CT*', 'wildcards literal: Orthanc 1.7 does not decode %2A'],
    ['1.2.3,1.2.4', '1.2.3,1.2.4', 'UID lists keep their commas'],
    ['20240101-20240131', '20240101-20240131', 'date ranges keep the dash'],
    ['Doe^John', 'Doe^John', 'PN component separator'],
    ['CTA *', 'CTA%20*', 'a space must be encoded; Orthanc 1.7 then matches nothing (select on the client)'],
    ['動脈', '%E5%8B%95%E8%84%88', 'non-ASCII percent-encoded as UTF-8 (raw UTF-8 gets 400)'],
    ['a&b=c', 'a%26b%3Dc', 'URL syntax characters encoded'],
  ];
  for (const [value, expected, why] of values) {
    it(`${value} -> ${expected} (${why})`, () => expect(encodeQueryValue(value)).to.equal(expected));
  }

  it('joins includefield with literal commas', () => {
    expect(qidoQueryString({ StudyInstanceUID: '1.2.3' }, ['0008103E', '00180050', '00200037'])).to.equal(
      '?StudyInstanceUID=1.2.3&includefield=0008103E,00180050,00200037',
    );
    expect(qidoQueryString()).to.equal('');
  });

  it('builds instance paths and refuses what is not a UID', () => {
    expect(instancesPath('1.2', '3.4')).to.equal('/studies/1.2/series/3.4/instances');
    expect(instancesPath('1.2')).to.equal('/studies/1.2/instances');
    for (const bad of ['', '1..2', '../x', '1.2/3', '1.2 ', 'a.b', '1.' + '2'.repeat(64)]) {
      expect(() => assertUid(bad, 'UID'), JSON.stringify(bad)).to.throw(PermanentError);
    }
  });
});
