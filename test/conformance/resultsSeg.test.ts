import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { SOP_CLASS } from '../../src/dicom/dictionary';
import type { TsrAnalysis } from '../../src/inference/result';
import { CODES } from '../../src/results/codes';
import { nodeDevice } from '../../src/results/device';
import { readPart10 } from '../../src/results/part10';
import { buildTsrResults, type TsrResultsOptions } from '../../src/results/resultObjects';
import { buildSegmentation, type SegmentationOptions } from '../../src/results/seg/segmentation';
import { tumourSegmentFrames } from '../../src/results/seg/segmentFrames';
import { tumourSegment, venousSource } from '../../src/results/seg/tumourSegmentation';
import { resultIdentity } from '../../src/results/uids';
import { dciodvfy } from '../harness/dciodvfy';
import { flattenNaturalized } from '../unit/results/srTree';
import { makeTsrFixture } from '../unit/results/tsrFixture';

/** The dciodvfy warnings we accept, each justified in docs/dicom-conformance.md. */
const ACCEPTED_WARNINGS: RegExp[] = [
  /CodingSchemeDesignator.* - Unrecognized defined term = <99TSRNODE>/,
  /ContributingEquipmentSequence\(0018,a001\)\[1\]\/DeviceUID\(0018,1002\)> - Attribute is not present in standard DICOM IOD/,
];

/** pydicom's view of the SEG's pixels: frames x rows x columns of 0/1, as a flat list per frame. */
const PYDICOM_FRAMES = `
import json, sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
a = ds.pixel_array.reshape(int(ds.NumberOfFrames), ds.Rows, ds.Columns)
print(json.dumps({'frames': [[int(v) for v in f.flatten()] for f in a]}))
`;

function pydicomFrames(bytes: Uint8Array): number[][] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-seg-'));
  try {
    const file = path.join(dir, 'seg.dcm');
    writeFileSync(file, bytes);
    const run = spawnSync('/usr/bin/python3', ['-c', PYDICOM_FRAMES, file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (run.status !== 0) throw new Error(`pydicom failed: ${run.stderr}`);
    return (JSON.parse(run.stdout) as { frames: number[][] }).frames;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Item = Record<string, unknown>;
const items = (value: unknown): Item[] => (Array.isArray(value) ? (value as Item[]) : value ? [value as Item] : []);
const first = (value: unknown): Item => items(value)[0];

describe('results: tumour Segmentation (SEG) and the SR that points at it', () => {
  const f = makeTsrFixture({ extra: { SpecificCharacterSet: 'ISO_IR 192', PatientName: [{ Alphabetic: 'Wang^Li', Ideographic: '王^力' }], AccessionNumber: 'ACC7' } });
  const options: TsrResultsOptions = {
    analysis: f.analysis,
    sourceMetadata: f.sourceMetadata,
    device: nodeDevice('TSR-NODE'),
    srSeriesDescription: 'TSR AI report (research use)',
    scSeriesDescription: 'TSR AI overlay (research use)',
    now: new Date('2025-03-01T10:20:30Z'),
    overlayPanelSize: 128,
  };
  const results = buildTsrResults(options);
  const seg = readPart10(results.seg.part10);
  const expectedFrames = tumourSegmentFrames(f.analysis.tumourLocalisation, f.analysis.venous.volumeGeometry);

  it('passes dciodvfy with zero errors and only the documented warnings (SEG and SR)', () => {
    for (const [object, iod] of [
      [results.seg, 'Segmentation'],
      [results.sr, 'Comprehensive3DSR'],
    ] as const) {
      const report = dciodvfy(object.part10);
      expect(report.iod).to.equal(iod);
      expect(report.errors, report.raw).to.deep.equal([]);
      expect(report.warnings.filter((w) => !ACCEPTED_WARNINGS.some((re) => re.test(w))), report.raw).to.deep.equal([]);
    }
  });

  it('is a BINARY SEG in its own series of the same study, with the patient copied and the source frame of reference', () => {
    expect(seg.SOPClassUID).to.equal(SOP_CLASS.segmentationStorage);
    expect(seg.SOPInstanceUID).to.equal(results.identity.segSopInstanceUID);
    expect(seg.SeriesInstanceUID).to.equal(results.identity.segSeriesInstanceUID);
    expect(seg.StudyInstanceUID).to.equal(f.studyInstanceUID);
    expect(seg.Modality).to.equal('SEG');
    expect(seg.SeriesDescription).to.equal('TSR AI tumour segmentation (research use)');
    expect(seg.SeriesNumber).to.equal(9003);
    expect(seg.AccessionNumber).to.equal('ACC7');
    expect(seg.FrameOfReferenceUID).to.equal(readPart10(f.series.venous.instances[0].part10).FrameOfReferenceUID);
    expect(seg.SegmentationType).to.equal('BINARY');
    expect([seg.BitsAllocated, seg.BitsStored, seg.HighBit]).to.deep.equal([1, 1, 0]);
    expect(seg.ImageType).to.deep.equal(['DERIVED', 'PRIMARY']);
    expect(first(seg.ContributingEquipmentSequence).Manufacturer).to.equal('tsr-node project');
  });

  it('describes one tumour segment: codes, AUTOMATIC by the localiser, the SR tracking, a colour', () => {
    const segments = items(seg.SegmentSequence);
    expect(segments).to.have.length(1);
    const s = segments[0];
    expect(s.SegmentNumber).to.equal(1);
    expect(s.SegmentLabel).to.equal('Tumour');
    expect(first(s.SegmentedPropertyCategoryCodeSequence).CodeValue).to.equal(CODES.morphologicallyAbnormalStructure.value);
    expect(first(s.SegmentedPropertyTypeCodeSequence)).to.include({ CodeValue: '372087000', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Neoplasm, Primary' });
    expect(first(s.AnatomicRegionSequence).CodeValue).to.equal(CODES.pancreas.value);
    expect(s.SegmentAlgorithmType).to.equal('AUTOMATIC');
    expect(s.SegmentAlgorithmName).to.equal('tsr-localizer');
    const algorithm = first(s.SegmentationAlgorithmIdentificationSequence);
    expect(algorithm).to.include({ AlgorithmName: 'tsr-localizer', AlgorithmVersion: '0.2.0' });
    expect(first(algorithm.AlgorithmFamilyCodeSequence).CodeValue).to.equal(CODES.artificialIntelligence.value);
    expect(String(algorithm.AlgorithmParameters)).to.contain('classifier=tsr-clip-fusion 0.3.1');
    expect(s.TrackingID).to.equal('TSR pancreatic tumour');
    expect(s.TrackingUID).to.equal(results.identity.trackingUID);
    expect(s.RecommendedDisplayCIELabValue).to.have.length(3);
    // Single-stage localiser: the component at half its peak (the level is peak / 2).
    expect(s.SegmentDescription).to.equal('Pancreatic tumour: the localiser component at half its peak probability (portal-venous phase)');
    expect(String(algorithm.AlgorithmParameters)).to.contain(`level=${f.analysis.tumourLocalisation.level}`);
  });

  it('with a two-stage localiser: the chosen candidate at roi.candidateLevel; SEG and SR (with its confidence) pass dciodvfy', () => {
    const analysis: TsrAnalysis = {
      ...f.analysis,
      models: [{ role: 'pancreas', name: 'tsr-pancreas', version: '0.1.0', sha256: 'c'.repeat(64) }, ...f.analysis.models],
      tumour: { ...f.analysis.tumour, confidence: 0.912, confidenceCalibrated: true },
      // The cascade's level is the manifest's roi.candidateLevel, not half the peak.
      tumourLocalisation: { ...f.analysis.tumourLocalisation, level: 0.5 },
    };
    const twoStage = buildTsrResults({ ...options, analysis });
    for (const [object, iod] of [
      [twoStage.seg, 'Segmentation'],
      [twoStage.sr, 'Comprehensive3DSR'],
    ] as const) {
      const report = dciodvfy(object.part10);
      expect(report.iod).to.equal(iod);
      expect(report.errors, report.raw).to.deep.equal([]);
      expect(report.warnings.filter((w) => !ACCEPTED_WARNINGS.some((re) => re.test(w))), report.raw).to.deep.equal([]);
    }
    const s = first(readPart10(twoStage.seg.part10).SegmentSequence);
    expect(s.SegmentDescription).to.equal(
      'Pancreatic tumour: the candidate chosen by the two-stage localiser, its component at probability 0.5 or above in the region around the pancreas (portal-venous phase)',
    );
    const parameters = String(first(s.SegmentationAlgorithmIdentificationSequence).AlgorithmParameters);
    expect(parameters).to.contain('pancreas=tsr-pancreas 0.1.0').and.to.contain('level=0.5');
    const rows = flattenNaturalized(readPart10(twoStage.sr.part10));
    expect(rows.find((r) => r.path === `126000/126010/125007/${CODES.localisationConfidence.value}`)?.value).to.equal('0.912 1');
  });

  it('has one frame per venous image the tumour touches, each at that image\'s position and pointing at it', () => {
    const perFrame = items(seg.PerFrameFunctionalGroupsSequence);
    expect(seg.NumberOfFrames).to.equal(expectedFrames.length);
    expect(perFrame).to.have.length(expectedFrames.length);
    expect(expectedFrames.length).to.be.within(3, f.series.venous.instances.length - 1);
    const venousPositions = new Map(f.series.venous.instances.map((i) => [i.sopInstanceUID, readPart10(i.part10).ImagePositionPatient as number[]]));
    perFrame.forEach((frame, n) => {
      const source = first(first(frame.DerivationImageSequence).SourceImageSequence);
      const sopInstanceUID = source.ReferencedSOPInstanceUID as string;
      expect(sopInstanceUID).to.equal(f.analysis.venous.sourceSopInstanceUIDs[expectedFrames[n].sliceIndex]);
      expect(source.ReferencedSOPClassUID).to.equal(SOP_CLASS.ctImageStorage);
      expect(first(first(frame.DerivationImageSequence).DerivationCodeSequence).CodeValue).to.equal('113076');
      const position = first(frame.PlanePositionSequence).ImagePositionPatient as number[];
      (venousPositions.get(sopInstanceUID) ?? []).forEach((x, a) => expect(position[a], `frame ${n + 1} axis ${a}`).to.be.closeTo(x, 1e-3));
      expect(first(frame.SegmentIdentificationSequence).ReferencedSegmentNumber).to.equal(1);
      expect(first(frame.FrameContentSequence).DimensionIndexValues).to.deep.equal([1, n + 1]);
    });
    const shared = first(seg.SharedFunctionalGroupsSequence);
    expect(first(shared.PlaneOrientationSequence).ImageOrientationPatient).to.deep.equal([1, 0, 0, 0, 1, 0]);
    expect(first(shared.PixelMeasuresSequence).PixelSpacing).to.deep.equal([0.7, 0.7]);
    const referenced = first(seg.ReferencedSeriesSequence);
    expect(referenced.SeriesInstanceUID).to.equal(f.analysis.venous.seriesInstanceUID);
    expect(items(referenced.ReferencedInstanceSequence).map((i) => i.ReferencedSOPInstanceUID)).to.deep.equal(
      expectedFrames.map((frame) => f.analysis.venous.sourceSopInstanceUIDs[frame.sliceIndex]),
    );
  });

  it('holds the masks bit for bit (read back with pydicom)', () => {
    const frames = pydicomFrames(results.seg.part10);
    expect(frames.map((frame) => frame.join(''))).to.deep.equal(expectedFrames.map((frame) => [...frame.mask].join('')));
  });

  it('puts the segment where the key slice outline is: the key slice is a frame, and covers the outline centre', () => {
    const key = expectedFrames.find((frame) => frame.sliceIndex === f.analysis.venous.keySliceIndex);
    expect(key, 'the key slice is a frame').to.not.equal(undefined);
    const [column, row] = f.analysis.venous.tumourCentrePixel;
    expect(key!.mask[row * f.analysis.venous.volumeGeometry.dims[0] + column]).to.equal(1);
  });

  it('is pointed at by the SR: Referenced Segment with its number, the source series, and in the evidence', () => {
    const sr = readPart10(results.sr.part10);
    const rows = flattenNaturalized(sr);
    const group = '126000/126010/125007';
    expect(rows.find((r) => r.path === `${group}/121191`)).to.include({ relationship: 'CONTAINS', valueType: 'IMAGE', value: results.identity.segSopInstanceUID });
    expect(rows.find((r) => r.path === `${group}/121232`)).to.include({ relationship: 'CONTAINS', valueType: 'UIDREF', value: f.analysis.venous.seriesInstanceUID });
    type It = { ContentSequence?: It[]; ConceptNameCodeSequence?: Array<{ CodeValue: string }>; ReferencedSOPSequence?: Item[] };
    const find = (it: It, code: string): It | undefined =>
      it.ConceptNameCodeSequence?.[0]?.CodeValue === code ? it : (it.ContentSequence ?? []).map((c) => find(c, code)).find(Boolean);
    expect(first(find(sr, '121191')?.ReferencedSOPSequence)).to.include({ ReferencedSOPClassUID: SOP_CLASS.segmentationStorage, ReferencedSegmentNumber: 1 });
    const evidence = items(first(sr.CurrentRequestedProcedureEvidenceSequence).ReferencedSeriesSequence);
    expect(evidence.map((s) => s.SeriesInstanceUID)).to.include(results.identity.segSeriesInstanceUID);
  });

  it('is the same bytes for the same input, and another object for another model', () => {
    expect(Buffer.from(buildTsrResults(options).seg.part10).equals(Buffer.from(results.seg.part10))).to.be.true;
    const retrained = makeTsrFixture({ classifierSha256: 'c'.repeat(64) });
    const other = buildTsrResults({ ...options, analysis: retrained.analysis, sourceMetadata: retrained.sourceMetadata });
    expect(other.seg.sopInstanceUID).to.not.equal(results.seg.sopInstanceUID);
  });

  it('refuses inconsistent segments, naming the argument', () => {
    const identity = resultIdentity({ studyInstanceUID: f.studyInstanceUID, inputSopInstanceUIDs: f.analysis.venous.sourceSopInstanceUIDs, modelSha256s: ['a'.repeat(64)] });
    const segment = tumourSegment(f.analysis, identity.trackingUID);
    const base: SegmentationOptions = {
      analysis: f.analysis,
      sourceMetadata: f.sourceMetadata,
      identity,
      device: nodeDevice('TSR-NODE'),
      seriesDescription: 'SEG',
      now: options.now,
      source: venousSource(f.analysis),
      segments: [segment],
      contentLabel: 'TUMOUR',
    };
    expect(() => buildSegmentation({ ...base, segments: [] })).to.throw(/segments: at least one/);
    expect(() => buildSegmentation({ ...base, segments: [{ ...segment, frames: [] }] })).to.throw(/segments\[0\]\.frames: a segment needs/);
    expect(() => buildSegmentation({ ...base, segments: [{ ...segment, frames: [{ sliceIndex: 99, mask: segment.frames[0].mask }] }] })).to.throw(/slice index 99/);
    expect(() => buildSegmentation({ ...base, segments: [{ ...segment, frames: [{ sliceIndex: 1, mask: new Uint8Array(10) }] }] })).to.throw(/mask of 10 pixels/);
    expect(() => buildSegmentation({ ...base, contentLabel: 'tumour' })).to.throw(/contentLabel/);
    expect(() => buildSegmentation({ ...base, source: { ...base.source, sopInstanceUIDs: [] } })).to.throw(/source\.sopInstanceUIDs/);
    const oneImage = base.source.sopInstanceUIDs.map(() => base.source.sopInstanceUIDs[0]);
    expect(() => buildSegmentation({ ...base, source: { ...base.source, sopInstanceUIDs: oneImage } })).to.throw(/one distinct single-frame image per slice/);
  });
});
