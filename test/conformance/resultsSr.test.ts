import { SOP_CLASS } from '../../src/dicom/dictionary';
import { expect } from 'chai';
import type { TsrAnalysis } from '../../src/inference/result';
import { CODES } from '../../src/results/codes';
import { nodeDevice } from '../../src/results/device';
import { readPart10, writePart10 } from '../../src/results/part10';
import { buildTsrStructuredReport, type TsrStructuredReportOptions } from '../../src/results/sr/tsrStructuredReport';
import { resultIdentity } from '../../src/results/uids';
import { dciodvfy } from '../harness/dciodvfy';
import { flattenNaturalized, readSrWithPydicom, type SrRow } from '../unit/results/srTree';
import { makeTsrFixture } from '../unit/results/tsrFixture';

/** The dciodvfy warnings we accept, each justified in docs/dicom-conformance.md. */
const ACCEPTED_SR_WARNINGS: RegExp[] = [
  /CodingSchemeDesignator.* - Unrecognized defined term = <99TSRNODE>/,
  /ContributingEquipmentSequence\(0018,a001\)\[1\]\/DeviceUID\(0018,1002\)> - Attribute is not present in standard DICOM IOD/,
];

/** What the localiser stage of an analysis was: single-stage, or two-stage with or without a fitted calibration. */
type LocaliserKind = 'single-stage' | 'two-stage calibrated' | 'two-stage uncalibrated';

/** The fixture analysis as the two-stage localiser would give it (a pancreas stage in the set, its confidence). */
function twoStage(analysis: TsrAnalysis, calibrated: boolean, confidence: number): TsrAnalysis {
  return {
    ...analysis,
    models: [{ role: 'pancreas', name: 'tsr-pancreas', version: '0.1.0', sha256: 'c'.repeat(64) }, ...analysis.models],
    tumour: { ...analysis.tumour, confidence, confidenceCalibrated: calibrated },
  };
}

function options(label: 'low' | 'high' = 'high', localiser: LocaliserKind = 'single-stage', confidence = 0.87349): TsrStructuredReportOptions {
  const f = makeTsrFixture({
    label,
    extra: { SpecificCharacterSet: 'ISO_IR 192', PatientName: [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' }], AccessionNumber: 'ACC42' },
  });
  const analysis = localiser === 'single-stage' ? f.analysis : twoStage(f.analysis, localiser === 'two-stage calibrated', confidence);
  const identity = resultIdentity({
    studyInstanceUID: f.studyInstanceUID,
    inputSopInstanceUIDs: [...f.analysis.arterial.sourceSopInstanceUIDs, ...f.analysis.venous.sourceSopInstanceUIDs],
    modelSha256s: analysis.models.map((model) => model.sha256),
  });
  return {
    analysis,
    sourceMetadata: f.sourceMetadata,
    identity,
    device: nodeDevice('TSR-NODE'),
    seriesDescription: 'TSR AI report (research use)',
    now: new Date('2025-03-01T10:20:30Z'),
  };
}

const GROUP = '126000/126010/125007';
const row = (rows: SrRow[], p: string): SrRow | undefined => rows.find((r) => r.path === p);

describe('results: TID 1500 Comprehensive 3D SR', () => {
  const o = options('high');
  const bytes = writePart10(buildTsrStructuredReport(o));

  it('passes dciodvfy with zero errors and only the documented warnings', () => {
    const report = dciodvfy(bytes);
    expect(report.iod).to.equal('Comprehensive3DSR');
    expect(report.errors, report.raw).to.deep.equal([]);
    const unexpected = report.warnings.filter((w) => !ACCEPTED_SR_WARNINGS.some((re) => re.test(w)));
    expect(unexpected, report.raw).to.deep.equal([]);
  });

  it('reads back with dcmjs: header, patient/study copied, content tree as built', () => {
    const ds = readPart10(bytes);
    expect(ds.SOPClassUID).to.equal(SOP_CLASS.comprehensive3dSrStorage);
    expect(ds.SOPInstanceUID).to.equal(o.identity.srSopInstanceUID);
    expect(ds.SeriesInstanceUID).to.equal(o.identity.srSeriesInstanceUID);
    expect(ds.StudyInstanceUID).to.equal(o.analysis.studyInstanceUID);
    expect(ds.AccessionNumber).to.equal('ACC42');
    expect(ds.Modality).to.equal('SR');
    expect(ds.CompletionFlag).to.equal('COMPLETE');
    expect(ds.VerificationFlag).to.equal('UNVERIFIED');
    expect(ds.ContentDate).to.equal('20250301');
    const rows = flattenNaturalized(ds);
    expect(row(rows, '126000')?.valueType).to.equal('CONTAINER');
    expect(row(rows, '126000/121049')?.value).to.equal('en-US');
    expect(row(rows, '126000/121005')?.value).to.equal('121007');
    expect(row(rows, '126000/121013')?.value).to.equal('TSR-NODE');
    expect(row(rows, '126000/121058')?.value).to.equal('25045-6');
    expect(row(rows, `${GROUP}/112039`)?.relationship).to.equal('HAS OBS CONTEXT');
    expect(row(rows, `${GROUP}/112040`)?.value).to.equal(o.identity.trackingUID);
    expect(row(rows, `${GROUP}/276214006`)?.value).to.equal(CODES.morphologicallyAbnormalStructure.value);
    expect(row(rows, `${GROUP}/121071`)?.value).to.equal(CODES.adenocarcinomaOfPancreas.value);
    expect(row(rows, `${GROUP}/363698007`)?.value).to.equal(CODES.pancreas.value);
    expect(row(rows, `${GROUP}/111001`)?.value).to.equal('tsr-clip-fusion');
    expect(row(rows, `${GROUP}/111003`)?.value).to.equal('0.3.1');
    expect(row(rows, `${GROUP}/111000`)?.value).to.equal('123110');
    expect(rows.filter((r) => r.path === `${GROUP}/111002`).map((r) => r.value)).to.include('threshold=0.5');
    expect(row(rows, `${GROUP}/TSR`)?.value).to.equal('TSR-HIGH');
    expect(row(rows, `${GROUP}/TSR-P-HIGH`)?.value).to.equal('0.8734 1');
    expect(row(rows, `${GROUP}/81827009`)?.value).to.match(/^\d+(\.\d+)? mm$/);
    expect(rows.filter((r) => r.path === `${GROUP}/121106`).map((r) => r.value)).to.deep.equal([
      'Tumour-stroma ratio: High (P(high) 0.87)',
      'Research use only - not for diagnostic use',
    ]);
    // One region per phase, each on that phase's key slice.
    const regions = rows.filter((r) => r.path === `${GROUP}/81827009/121112`);
    expect(regions.map((r) => r.value)).to.deep.equal(['POLYLINE', 'POLYLINE']);
    const selected = rows.filter((r) => r.path === `${GROUP}/81827009/121112/-`).map((r) => r.value);
    expect(selected).to.deep.equal([o.analysis.venous.keySopInstanceUID, o.analysis.arterial.keySopInstanceUID]);
    // Image library: every source image, once.
    const library = rows.filter((r) => r.path === '126000/111028/126200/-').map((r) => r.value);
    expect(library).to.have.length(o.analysis.arterial.sourceSopInstanceUIDs.length * 2);
    expect(new Set(library)).to.deep.equal(new Set([...o.analysis.arterial.sourceSopInstanceUIDs, ...o.analysis.venous.sourceSopInstanceUIDs]));
  });

  it('closes each region outline (last point = first) in pixel-corner coordinates', () => {
    const ds = readPart10(bytes);
    type It = { ContentSequence?: It[]; ConceptNameCodeSequence?: Array<{ CodeValue: string }>; GraphicData?: number[] };
    const find = (it: It, code: string): It | undefined =>
      it.ConceptNameCodeSequence?.[0]?.CodeValue === code ? it : (it.ContentSequence ?? []).map((c) => find(c, code)).find(Boolean);
    const diameter = find(ds, '81827009')!;
    const data = diameter.ContentSequence![0].GraphicData!;
    expect(data.slice(0, 2)).to.deep.equal(data.slice(-2));
    const [c0, r0] = o.analysis.venous.outlinePixels[0];
    expect(data[0]).to.be.closeTo(c0 + 0.5, 1e-4);
    expect(data[1]).to.be.closeTo(r0 + 0.5, 1e-4);
  });

  it('reads back with pydicom: same tree, UTF-8 patient name, evidence, AIR purpose', () => {
    const py = readSrWithPydicom(bytes);
    expect(py.sopClassUID).to.equal(SOP_CLASS.comprehensive3dSrStorage);
    expect(py.charset).to.equal('ISO_IR 192');
    expect(py.patientName).to.equal('Yamada^Tarou=山田^太郎');
    expect(py.completion).to.equal('COMPLETE');
    expect(py.verification).to.equal('UNVERIFIED');
    expect(py.evidence).to.equal(o.analysis.arterial.sourceSopInstanceUIDs.length * 2);
    expect(py.purpose).to.equal('Newcode1');
    const ts = flattenNaturalized(readPart10(bytes));
    expect(py.rows.map((r) => r.path)).to.deep.equal(ts.map((r) => r.path));
    expect(row(py.rows, `${GROUP}/TSR`)?.value).to.equal('TSR-HIGH');
    expect(row(py.rows, `${GROUP}/TSR-P-HIGH`)?.value).to.equal('0.8734 1');
  });

  it('writes Low for a low-TSR analysis', () => {
    const low = options('low');
    const rows = flattenNaturalized(readPart10(writePart10(buildTsrStructuredReport(low))));
    expect(row(rows, `${GROUP}/TSR`)?.value).to.equal('TSR-LOW');
    expect(row(rows, `${GROUP}/121106`)?.value).to.equal('Tumour-stroma ratio: Low (P(high) 0.21)');
  });

  it('refuses inconsistent options, naming the argument', () => {
    const bad = options();
    expect(() => buildTsrStructuredReport({ ...bad, analysis: { ...bad.analysis, probabilityHigh: 1.5 } })).to.throw(/probabilityHigh/);
    const wrongKey = { ...bad.analysis, venous: { ...bad.analysis.venous, keySopInstanceUID: '1.2.3' } };
    expect(() => buildTsrStructuredReport({ ...bad, analysis: wrongKey })).to.throw(/venous\.keySopInstanceUID/);
    expect(() => buildTsrStructuredReport({ ...bad, sourceMetadata: { ...bad.sourceMetadata, arterial: {} } })).to.throw(/sourceMetadata\.arterial/);
  });
});

describe('results: the SR holds the calibrated localisation confidence (two-stage localiser)', () => {
  const CONFIDENCE = `${GROUP}/${CODES.localisationConfidence.value}`;
  const calibrated = options('high', 'two-stage calibrated', 0.87349);
  const bytes = writePart10(buildTsrStructuredReport(calibrated));

  it('passes dciodvfy with zero errors and only the documented warnings', () => {
    const report = dciodvfy(bytes);
    expect(report.iod).to.equal('Comprehensive3DSR');
    expect(report.errors, report.raw).to.deep.equal([]);
    const unexpected = report.warnings.filter((w) => !ACCEPTED_SR_WARNINGS.some((re) => re.test(w)));
    expect(unexpected, report.raw).to.deep.equal([]);
  });

  it('one NUM in the tumour group: (TSR-LOC-CONF, 99TSRNODE), value rounded to 3 decimals, unit (1, UCUM, "no units")', () => {
    const ds = readPart10(bytes);
    const rows = flattenNaturalized(ds);
    const found = rows.filter((r) => r.path === CONFIDENCE);
    expect(found).to.have.length(1);
    expect(found[0]).to.include({ relationship: 'CONTAINS', valueType: 'NUM', value: '0.873 1' });
    type It = { ContentSequence?: It[]; ConceptNameCodeSequence?: Array<Record<string, string>>; MeasuredValueSequence?: Array<Record<string, unknown>> };
    const find = (it: It): It | undefined =>
      it.ConceptNameCodeSequence?.[0]?.CodeValue === CODES.localisationConfidence.value ? it : (it.ContentSequence ?? []).map(find).find(Boolean);
    const item = find(ds)!;
    expect(item.ConceptNameCodeSequence![0]).to.include({ CodeValue: 'TSR-LOC-CONF', CodingSchemeDesignator: '99TSRNODE', CodeMeaning: 'Calibrated tumour localisation confidence' });
    const measured = item.MeasuredValueSequence![0];
    expect(measured.FloatingPointValue).to.equal(0.873);
    expect((measured.MeasurementUnitsCodeSequence as Array<Record<string, string>>)[0]).to.include({ CodeValue: '1', CodingSchemeDesignator: 'UCUM', CodeMeaning: 'no units' });
    expect(item.ContentSequence).to.equal(undefined);
    // pydicom reads the same value and unit.
    expect(row(readSrWithPydicom(bytes).rows, CONFIDENCE)?.value).to.equal('0.873 1');
  });

  it('writes the ends of the range as they are (0 and 1)', () => {
    for (const [confidence, text] of [[0, '0 1'], [1, '1 1'], [0.99951, '1 1'], [0.0004, '0 1']] as const) {
      const rows = flattenNaturalized(readPart10(writePart10(buildTsrStructuredReport(options('high', 'two-stage calibrated', confidence)))));
      expect(row(rows, CONFIDENCE)?.value, String(confidence)).to.equal(text);
    }
  });

  it('leaves it out when it is not calibrated (a peak probability), and changes nothing else in the SR', () => {
    const uncalibrated = options('high', 'two-stage uncalibrated', 0.87349);
    const without = flattenNaturalized(readPart10(writePart10(buildTsrStructuredReport(uncalibrated))));
    expect(without.map((r) => r.path)).to.not.include(CONFIDENCE);
    const single = flattenNaturalized(readPart10(writePart10(buildTsrStructuredReport(options('high', 'single-stage')))));
    expect(single.map((r) => r.path)).to.not.include(CONFIDENCE);
    // The calibrated SR is the uncalibrated one plus the one NUM, right after the diameter's measurement.
    const withIt = flattenNaturalized(readPart10(bytes));
    expect(withIt.filter((r) => r.path !== CONFIDENCE)).to.deep.equal(without);
    const paths = withIt.map((r) => r.path);
    expect(paths.indexOf(CONFIDENCE)).to.equal(paths.lastIndexOf(`${GROUP}/81827009/121112/-`) + 1);
  });

  it('refuses a calibrated confidence outside [0, 1]', () => {
    for (const bad of [-0.01, 1.01, Number.NaN]) {
      expect(() => buildTsrStructuredReport(options('high', 'two-stage calibrated', bad))).to.throw(/tumour\.confidence/);
    }
  });
});
