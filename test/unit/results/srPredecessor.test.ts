/**
 * The SR of a result that supersedes an earlier one (docs/dicom-conformance.md 3.4.1): its
 * Predecessor Documents Sequence (0040,A360) names the earlier SR by the Hierarchical SOP Instance
 * Reference Macro (PS3.3 C.17.2, Table C.17-3), read back with dcmjs, and dciodvfy finds no error.
 */
import { expect } from 'chai';
import { SOP_CLASS } from '../../../src/dicom/dictionary';
import { nodeDevice } from '../../../src/results/device';
import { readPart10, writePart10 } from '../../../src/results/part10';
import { buildTsrResults } from '../../../src/results/resultObjects';
import { buildTsrStructuredReport, type PredecessorDocument, type TsrStructuredReportOptions } from '../../../src/results/sr/tsrStructuredReport';
import { resultIdentity } from '../../../src/results/uids';
import { dciodvfy } from '../../harness/dciodvfy';
import { makeTsrFixture } from './tsrFixture';

/** The dciodvfy warnings accepted for every SR (docs/dicom-conformance.md section 5). */
const ACCEPTED_SR_WARNINGS: RegExp[] = [
  /CodingSchemeDesignator.* - Unrecognized defined term = <99TSRNODE>/,
  /ContributingEquipmentSequence\(0018,a001\)\[1\]\/DeviceUID\(0018,1002\)> - Attribute is not present in standard DICOM IOD/,
];

describe('results: the SR names the earlier SR it supersedes (Predecessor Documents Sequence)', () => {
  const f = makeTsrFixture({ size: 32, slices: 6 });
  const identity = resultIdentity({
    studyInstanceUID: f.studyInstanceUID,
    inputSopInstanceUIDs: [...f.analysis.arterial.sourceSopInstanceUIDs, ...f.analysis.venous.sourceSopInstanceUIDs],
    modelSha256s: f.analysis.models.map((model) => model.sha256),
  });
  // The earlier result: the same study with another model (its UIDs derive from other hashes).
  const earlier = resultIdentity({ studyInstanceUID: f.studyInstanceUID, inputSopInstanceUIDs: f.analysis.venous.sourceSopInstanceUIDs, modelSha256s: ['e'.repeat(64)] });
  const predecessor: PredecessorDocument = {
    studyInstanceUID: f.studyInstanceUID,
    seriesInstanceUID: earlier.srSeriesInstanceUID,
    sopClassUID: SOP_CLASS.comprehensive3dSrStorage,
    sopInstanceUID: earlier.srSopInstanceUID,
  };
  const options: TsrStructuredReportOptions = {
    analysis: f.analysis,
    sourceMetadata: f.sourceMetadata,
    identity,
    device: nodeDevice('TSR-NODE'),
    seriesDescription: 'TSR AI report (research use)',
    now: new Date('2025-03-01T10:20:30Z'),
  };
  const withPredecessor = writePart10(buildTsrStructuredReport({ ...options, predecessor }));

  it('lists the earlier SR: its study, its series and its instance with the SR SOP class', () => {
    const ds = readPart10(withPredecessor);
    const items = ds.PredecessorDocumentsSequence as Array<Record<string, unknown>>;
    expect(items).to.have.length(1);
    expect(items[0].StudyInstanceUID).to.equal(f.studyInstanceUID);
    const series = items[0].ReferencedSeriesSequence as Array<Record<string, unknown>>;
    expect(series).to.have.length(1);
    expect(series[0].SeriesInstanceUID).to.equal(earlier.srSeriesInstanceUID);
    const sops = series[0].ReferencedSOPSequence as Array<Record<string, unknown>>;
    expect(sops).to.have.length(1);
    expect(sops[0]).to.include({ ReferencedSOPClassUID: SOP_CLASS.comprehensive3dSrStorage, ReferencedSOPInstanceUID: earlier.srSopInstanceUID });
    // The new SR keeps its own identity: the predecessor changes no UID.
    expect(ds.SOPInstanceUID).to.equal(identity.srSopInstanceUID);
    expect(ds.SeriesInstanceUID).to.equal(identity.srSeriesInstanceUID);
  });

  it('passes dciodvfy with zero errors and only the documented warnings', () => {
    const report = dciodvfy(withPredecessor);
    expect(report.iod).to.equal('Comprehensive3DSR');
    expect(report.errors, report.raw).to.deep.equal([]);
    expect(report.warnings.filter((w) => !ACCEPTED_SR_WARNINGS.some((re) => re.test(w))), report.raw).to.deep.equal([]);
  });

  it('writes no Predecessor Documents Sequence for a first result, and otherwise the same attributes', () => {
    const first = readPart10(writePart10(buildTsrStructuredReport(options)));
    expect(first).to.not.have.property('PredecessorDocumentsSequence');
    const { PredecessorDocumentsSequence: _p, ...rest } = readPart10(withPredecessor);
    expect(rest).to.deep.equal(first);
  });

  it('refuses a predecessor in another study, or the SR itself', () => {
    expect(() => buildTsrStructuredReport({ ...options, predecessor: { ...predecessor, studyInstanceUID: '1.2.3.999' } })).to.throw(RangeError, /predecessor/);
    expect(() => buildTsrStructuredReport({ ...options, predecessor: { ...predecessor, sopInstanceUID: identity.srSopInstanceUID } })).to.throw(RangeError, /predecessor/);
  });

  it('buildTsrResults: a predecessor picked by the results\' identity goes into the SR and the results say which', () => {
    const seen: string[] = [];
    const results = buildTsrResults({
      analysis: f.analysis,
      sourceMetadata: f.sourceMetadata,
      device: nodeDevice('TSR-NODE'),
      srSeriesDescription: 'SR',
      scSeriesDescription: 'SC',
      now: new Date('2025-03-01T10:20:30Z'),
      overlayPanelSize: 128,
      predecessor: (id) => {
        seen.push(id.srSopInstanceUID);
        return predecessor;
      },
    });
    expect(seen).to.deep.equal([identity.srSopInstanceUID]);
    expect(results.predecessor).to.deep.equal(predecessor);
    const sr = readPart10(results.sr.part10);
    expect((sr.PredecessorDocumentsSequence as Array<Record<string, unknown>>)[0].StudyInstanceUID).to.equal(f.studyInstanceUID);
    const none = buildTsrResults({ analysis: f.analysis, sourceMetadata: f.sourceMetadata, device: nodeDevice('TSR-NODE'), srSeriesDescription: 'SR', scSeriesDescription: 'SC', now: new Date(0), overlayPanelSize: 128, predecessor: () => undefined });
    expect(none).to.not.have.property('predecessor');
    expect(readPart10(none.sr.part10)).to.not.have.property('PredecessorDocumentsSequence');
  });
});
