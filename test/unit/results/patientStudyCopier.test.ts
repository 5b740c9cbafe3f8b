import { expect } from 'chai';
import type { DicomJson } from '../../../src/dicomweb/dicomJson';
import { copyPatientStudy, PATIENT_STUDY_ATTRIBUTES } from '../../../src/results/patientStudyCopier';

const source: DicomJson = {
  '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane', Ideographic: '山田^花子' }] as unknown[] },
  '00100020': { vr: 'LO', Value: ['P123'] },
  '00100040': { vr: 'CS', Value: ['F'] },
  '0020000D': { vr: 'UI', Value: ['1.2.3'] },
  '00080020': { vr: 'DA', Value: ['20240101'] },
  '00080050': { vr: 'SH', Value: ['ACC1'] },
  '00101010': { vr: 'AS', Value: ['063Y'] },
  '00081032': { vr: 'SQ', Value: [{ '00080100': { vr: 'SH', Value: ['X1'] }, '00080102': { vr: 'SH', Value: ['99LOCAL'] }, '00080104': { vr: 'LO', Value: ['CT abdomen'] } }] },
  // Series and image level attributes must not be copied.
  '0020000E': { vr: 'UI', Value: ['1.2.3.4'] },
  '00080060': { vr: 'CS', Value: ['CT'] },
  // An optional module's member without its key attribute: not copied.
  '00120030': { vr: 'LO', Value: ['SITE'] },
};

describe('results/patientStudyCopier: table-driven Patient and Study modules', () => {
  const copied = copyPatientStudy(source).attributes;

  it('copies present attributes of the table, sequences included', () => {
    expect(copied.PatientID).to.equal('P123');
    expect(copied.PatientName).to.deep.equal([{ Alphabetic: 'Doe^Jane', Ideographic: '山田^花子' }]);
    expect(copied.StudyInstanceUID).to.equal('1.2.3');
    expect(copied.PatientAge).to.equal('063Y');
    expect((copied.ProcedureCodeSequence as Array<{ CodeValue: string }>)[0].CodeValue).to.equal('X1');
  });

  it('writes missing Type 2 attributes empty', () => {
    for (const keyword of ['PatientBirthDate', 'StudyTime', 'ReferringPhysicianName', 'StudyID']) {
      expect(copied, keyword).to.have.property(keyword, '');
    }
  });

  it('copies nothing outside the table, and no optional module without its key attribute', () => {
    const keywords = new Set(PATIENT_STUDY_ATTRIBUTES.map((a) => a.keyword));
    for (const k of Object.keys(copied)) expect(keywords.has(k), k).to.equal(true);
    expect(copied).to.not.have.property('SeriesInstanceUID');
    expect(copied).to.not.have.property('ClinicalTrialSiteID');
  });

  it('copies an optional module whole when its key attribute is there', () => {
    const trial = copyPatientStudy({ ...source, '00120010': { vr: 'LO', Value: ['Sponsor'] }, '00120020': { vr: 'LO', Value: ['PROT'] } }).attributes;
    expect(trial.ClinicalTrialSponsorName).to.equal('Sponsor');
    expect(trial.ClinicalTrialSiteID).to.equal('SITE');
    expect(trial.ClinicalTrialProtocolName, 'Type 2 written empty').to.equal('');
  });

  it('refuses a source without a Type 1 attribute, naming it', () => {
    const { '0020000D': _study, ...noStudy } = source;
    expect(() => copyPatientStudy(noStudy)).to.throw(/StudyInstanceUID \(0020000D\)/);
  });
});
