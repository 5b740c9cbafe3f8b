import { expect } from 'chai';
import type { DicomJson } from '../../../src/dicomweb/dicomJson';
import { copyPatientStudy } from '../../../src/results/patientStudyCopier';

const valid: DicomJson = {
  '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] },
  '00100020': { vr: 'LO', Value: ['P123'] },
  '00100030': { vr: 'DA', Value: ['19600131'] },
  '0020000D': { vr: 'UI', Value: ['1.2.3'] },
  '00101010': { vr: 'AS', Value: ['063Y'] },
};

describe('results/patientStudyCopier: copied values made valid, by attribute type', () => {
  it('changes nothing in a valid source', () => {
    const copied = copyPatientStudy(valid);
    expect(copied.changes).to.deep.equal([]);
    expect(copied.attributes.PatientBirthDate).to.equal('19600131');
  });

  it('Type 2 without a valid value: written empty', () => {
    const copied = copyPatientStudy({ ...valid, '00100030': { vr: 'DA', Value: ['20261399'] } });
    expect(copied.attributes.PatientBirthDate).to.equal('');
    expect(copied.changes).to.deep.equal([{ keyword: 'PatientBirthDate', tag: '00100030', vr: 'DA', change: 'invalid-dropped' }]);
  });

  it('Type 3 without a valid value: left out', () => {
    const copied = copyPatientStudy({ ...valid, '00101010': { vr: 'AS', Value: ['63 years'] } });
    expect(copied.attributes).to.not.have.property('PatientAge');
    expect(copied.changes.map((c) => c.keyword)).to.deep.equal(['PatientAge']);
  });

  it('Type 2C present without a valid value: written empty (its condition holds)', () => {
    const copied = copyPatientStudy({ ...valid, '00102203': { vr: 'CS', Value: ['NOT-KNOWN'] } });
    expect(copied.attributes.PatientSexNeutered).to.equal('');
  });

  it('Type 1 without a valid value: refused, naming the attribute and not the value', () => {
    expect(() => copyPatientStudy({ ...valid, '0020000D': { vr: 'UI', Value: ['1.2.abc'] } })).to.throw(TypeError, /^source metadata: StudyInstanceUID \(0020000D\) is Type 1 in the General Study module and has no valid value$/);
  });

  it('an optional module missing a Type 1 attribute is left out whole, and that is reported', () => {
    const copied = copyPatientStudy({ ...valid, '00120010': { vr: 'LO', Value: ['Sponsor'] }, '00120030': { vr: 'LO', Value: ['SITE'] } });
    expect(copied.attributes).to.not.have.property('ClinicalTrialSponsorName');
    expect(copied.attributes).to.not.have.property('ClinicalTrialSiteID');
    expect(copied.changes).to.deep.equal([{ keyword: 'ClinicalTrialProtocolID', tag: '00120020', vr: 'LO', change: 'module-left-out' }]);
  });

  it('a PN too long for the codec is clipped rather than failing the copy', () => {
    const copied = copyPatientStudy({ ...valid, '00100010': { vr: 'PN', Value: [{ Alphabetic: `${'x'.repeat(300)}\u0007` }] } });
    expect(copied.attributes.PatientName).to.deep.equal([{ Alphabetic: 'x'.repeat(64) }]);
    expect(copied.changes.map((c) => c.change)).to.deep.equal(['control-characters-removed', 'clipped']);
  });
});
