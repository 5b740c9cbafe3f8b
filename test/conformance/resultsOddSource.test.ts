/**
 * Issue 24 "Encode strictly, decode tolerantly": a source whose Patient and Study values are not
 * valid for their VR (a 300-character Patient's Name with control characters, an impossible birth
 * date, over-long descriptions and accession number, a lower-case code, a broken Frame of
 * Reference UID) still gets its SR, SC and SEG, all valid, and the log says what was changed
 * without saying what the values were.
 */
import { expect } from 'chai';
import type { DicomJson } from '../../src/dicomweb/dicomJson';
import { createLogger } from '../../src/logging/logger';
import { nodeDevice } from '../../src/results/device';
import { readPart10, writePart10 } from '../../src/results/part10';
import { buildTsrResults } from '../../src/results/resultObjects';
import { dciodvfy } from '../harness/dciodvfy';
import { makeTsrFixture } from '../unit/results/tsrFixture';

/** The warnings of resultsSr/resultsSc (docs/dicom-conformance.md), and two that this odd source earns. */
const ACCEPTED_WARNINGS: RegExp[] = [
  /CodingSchemeDesignator.* - Unrecognized defined term = <99TSRNODE>/,
  /ContributingEquipmentSequence\(0018,a001\)\[1\]\/DeviceUID\(0018,1002\)> - Attribute is not present in standard DICOM IOD/,
  // The impossible Study Time is dropped, so Study Time (Type 2) is empty.
  /<\/StudyTime\(0008,0030\)> - Missing attribute or value that would be needed to build DICOMDIR/,
  // Clipped to 64 characters, the name is all family name, with no "^": valid, but dciodvfy doubts it.
  /<\/PatientName\(0010,0010\)\[1\]> - Value dubious for this VR \[PN\] = <Doex+> - Retired Person Name form/,
];

const FAMILY_NAME = `Doe\u0007${'x'.repeat(290)}`;
const LONG_NAME = `${FAMILY_NAME}^Jane\n`;
const BIRTH_DATE = '20261399';
const STUDY_DESCRIPTION = `CT pancreas ${'d'.repeat(100)}`;
const ACCESSION_NUMBER = 'ACC-20250301-000042';

/** The fixture's metadata with the odd values the issue describes, as WADO-RS would return them. */
function oddSource(metadata: DicomJson, frameOfReferenceUID?: string): DicomJson {
  return {
    ...metadata,
    '00100010': { vr: 'PN', Value: [{ Alphabetic: LONG_NAME }] },
    '00100030': { vr: 'DA', Value: [BIRTH_DATE] },
    '00100040': { vr: 'CS', Value: ['f'] },
    '00080030': { vr: 'TM', Value: ['256100'] },
    '00081030': { vr: 'LO', Value: [STUDY_DESCRIPTION] },
    '00080050': { vr: 'SH', Value: [ACCESSION_NUMBER] },
    '00101010': { vr: 'AS', Value: ['63 years'] },
    '00104000': { vr: 'LT', Value: ['first line\r\nsecond line\u0000'] },
    ...(frameOfReferenceUID ? { '00200052': { vr: 'UI', Value: [frameOfReferenceUID] } } : {}),
  };
}

describe('results: a source with values invalid for their VR still gets valid results (issue 24)', () => {
  const f = makeTsrFixture({ size: 32, slices: 6 });
  const sourceMetadata = { venous: oddSource(f.sourceMetadata.venous), arterial: oddSource(f.sourceMetadata.arterial, 'FOR-not-a-uid') };
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(line) });
  const results = buildTsrResults({
    analysis: f.analysis,
    sourceMetadata,
    device: nodeDevice('TSR-NODE'),
    srSeriesDescription: 'TSR AI report (research use)',
    scSeriesDescription: 'TSR AI overlay (research use)',
    now: new Date('2025-03-01T10:20:30Z'),
    overlayPanelSize: 128,
    logger,
  });
  const objects = { sr: results.sr.part10, sc: results.sc.part10, seg: results.seg.part10 };

  it('is the case the issue describes: copied as it was, the Patient\'s Name is refused by the codec', () => {
    const dataset = readPart10(objects.sr);
    expect(() => writePart10({ ...dataset, PatientName: [{ Alphabetic: LONG_NAME }] })).to.throw(/exceeds max length, vr: PN/);
  });

  for (const [role, iod] of [['sr', 'Comprehensive3DSR'], ['sc', 'SCImage'], ['seg', 'Segmentation']] as const) {
    it(`${role.toUpperCase()}: written, and dciodvfy finds no error`, () => {
      const report = dciodvfy(objects[role]);
      expect(report.iod).to.equal(iod);
      expect(report.errors, report.raw).to.deep.equal([]);
      expect(report.warnings.filter((w) => !ACCEPTED_WARNINGS.some((re) => re.test(w))), report.raw).to.deep.equal([]);
    });

    it(`${role.toUpperCase()}: each value clipped, cleaned or dropped by its VR and type`, () => {
      const dataset = readPart10(objects[role]);
      const name = (dataset.PatientName as Array<{ Alphabetic: string }>)[0].Alphabetic;
      expect(name, 'PN: control characters removed, clipped to 64').to.equal(`Doe${'x'.repeat(61)}`);
      expect(dataset.PatientBirthDate, 'DA Type 2: an impossible date is written empty').to.equal('');
      expect(dataset.StudyTime, 'TM Type 2: an impossible time is written empty').to.equal('');
      expect(dataset.PatientSex, 'CS: upper-cased').to.equal('F');
      expect(dataset.StudyDescription, 'LO: clipped to 64').to.equal(STUDY_DESCRIPTION.slice(0, 64));
      expect(dataset.AccessionNumber, 'SH: clipped to 16').to.equal(ACCESSION_NUMBER.slice(0, 16));
      expect(dataset, 'AS Type 3: invalid, left out').to.not.have.property('PatientAge');
      expect(dataset.PatientComments, 'LT: CR LF kept, NUL removed').to.equal('first line\r\nsecond line');
      expect(dataset.StudyInstanceUID).to.equal(f.studyInstanceUID);
    });
  }

  it('SR: a Frame of Reference UID that is not a UID is left out of the image library', () => {
    const text = JSON.stringify(readPart10(objects.sr));
    expect(text).to.not.include('FOR-not-a-uid');
  });

  it('logs one warning per object with what changed, never the values', () => {
    const warnings = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.msg === 'source values made valid for their VR');
    expect(warnings.map((w) => w.modality)).to.deep.equal(['SR', 'OT', 'SEG']);
    expect(warnings.map((w) => w.sopInstanceUID)).to.deep.equal([results.identity.srSopInstanceUID, results.identity.scSopInstanceUID, results.identity.segSopInstanceUID]);
    const changesOf = (warning: Record<string, unknown>): string[] =>
      (warning.changes as Array<{ keyword: string; vr: string; change: string }>).map((c) => `${c.keyword} ${c.vr} ${c.change}`);
    const common = [
      'PatientName PN control-characters-removed',
      'PatientName PN clipped',
      'PatientBirthDate DA invalid-dropped',
      'PatientSex CS upper-cased',
      'PatientComments LT control-characters-removed',
      'StudyTime TM invalid-dropped',
      'AccessionNumber SH clipped',
      'StudyDescription LO clipped',
      'PatientAge AS invalid-dropped',
    ];
    expect(changesOf(warnings[0])).to.have.members([...common, 'FrameOfReferenceUID UI invalid-dropped']);
    expect(changesOf(warnings[1])).to.have.members(common);
    // The SEG copies the venous Frame of Reference, which is valid here.
    expect(changesOf(warnings[2])).to.have.members(common);
    const logged = lines.join('\n');
    for (const value of ['xxxxxxxxxx', 'Jane', BIRTH_DATE, 'dddddddddd', ACCESSION_NUMBER, '63 years', 'first line', 'FOR-not-a-uid', '256100']) {
      expect(logged, value).to.not.include(value);
    }
  });

  it('changes nothing and logs nothing for a valid source', () => {
    const quiet: string[] = [];
    buildTsrResults({
      analysis: f.analysis,
      sourceMetadata: f.sourceMetadata,
      device: nodeDevice('TSR-NODE'),
      srSeriesDescription: 'TSR AI report (research use)',
      scSeriesDescription: 'TSR AI overlay (research use)',
      now: new Date('2025-03-01T10:20:30Z'),
      overlayPanelSize: 128,
      logger: createLogger({ level: 'debug', write: (line) => quiet.push(line) }),
    });
    expect(quiet).to.deep.equal([]);
  });
});
