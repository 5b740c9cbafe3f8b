import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { SOP_CLASS } from '../../src/dicom/dictionary';
import type { PancreasLocalisation, TsrAnalysis } from '../../src/inference/result';
import { CODES } from '../../src/results/codes';
import { nodeDevice } from '../../src/results/device';
import { readPart10 } from '../../src/results/part10';
import { buildTsrResults, type TsrResultsOptions } from '../../src/results/resultObjects';
import { buildSegmentation, type SegmentationOptions } from '../../src/results/seg/segmentation';
import { pancreasSegmentFrames, tumourSegmentFrames } from '../../src/results/seg/segmentFrames';
import { tumourSegment, venousSource } from '../../src/results/seg/tumourSegmentation';
import { resultIdentity } from '../../src/results/uids';
import { indexToPatient, patientToIndex, type Geometry, type Vec3 } from '../../src/study/geometry';
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
    expect(() => buildSegmentation({ ...base, contentDescription: 'x'.repeat(65) })).to.throw(/contentDescription: at most 64/);
    expect(() => buildSegmentation({ ...base, source: { ...base.source, sopInstanceUIDs: [] } })).to.throw(/source\.sopInstanceUIDs/);
    const oneImage = base.source.sopInstanceUIDs.map(() => base.source.sopInstanceUIDs[0]);
    expect(() => buildSegmentation({ ...base, source: { ...base.source, sopInstanceUIDs: oneImage } })).to.throw(/one distinct single-frame image per slice/);
  });
});

/**
 * A stage-1 pancreas on a 4 mm grid over the fixture's volume: an ellipsoidal blob (P 0.9 at its
 * centre, 0.5 on the ellipsoid of radii `radiiMm`) whose voxels at 0.5 or above are the mask, and a
 * second blob above the level outside the mask (another component, which must not be drawn).
 */
function pancreasBlob(centreMm: Vec3, radiiMm: Vec3, strayMm: Vec3): PancreasLocalisation {
  const dims: Vec3 = [20, 20, 16];
  const geometry: Geometry = { dims, spacing: [4, 4, 4], origin: [-40, -40, -56], rowDirection: [1, 0, 0], columnDirection: [0, 1, 0], normal: [0, 0, 1] };
  const level = 0.5;
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  const mask = new Uint8Array(data.length);
  const falloff = Math.log(0.9 / level);
  for (let n = 0; n < data.length; n++) {
    const p = indexToPatient(geometry, n % dims[0], Math.floor(n / dims[0]) % dims[1], Math.floor(n / (dims[0] * dims[1])));
    const e = p.reduce((sum, x, a) => sum + ((x - centreMm[a]) / radiiMm[a]) ** 2, 0);
    const stray = p.reduce((sum, x, a) => sum + ((x - strayMm[a]) / 6) ** 2, 0);
    data[n] = Math.max(0.9 * Math.exp(-falloff * e), 0.9 * Math.exp(-falloff * stray));
    mask[n] = e <= 1.2 && data[n] >= level ? 1 : 0;
  }
  return { grid: { geometry, data }, level, mask, volumeMl: mask.reduce((a, b) => a + b, 0) * 0.064, roiCentreMm: centreMm };
}

describe('results: SEG with a two-stage localiser: segment 2, the pancreas', () => {
  const f = makeTsrFixture();
  const pancreas = pancreasBlob([-12, -6, -24], [18, 9, 12], [22, 22, -24]);
  const analysis: TsrAnalysis = {
    ...f.analysis,
    models: [{ role: 'pancreas', name: 'tsr-pancreas', version: '0.1.0', sha256: 'c'.repeat(64) }, ...f.analysis.models],
    tumour: { ...f.analysis.tumour, confidence: 0.912, confidenceCalibrated: true },
    tumourLocalisation: { ...f.analysis.tumourLocalisation, level: 0.5 },
    pancreasLocalisation: pancreas,
  };
  const options: TsrResultsOptions = {
    analysis,
    sourceMetadata: f.sourceMetadata,
    device: nodeDevice('TSR-NODE'),
    srSeriesDescription: 'TSR AI report (research use)',
    scSeriesDescription: 'TSR AI overlay (research use)',
    now: new Date('2025-03-01T10:20:30Z'),
    overlayPanelSize: 128,
  };
  const results = buildTsrResults(options);
  const seg = readPart10(results.seg.part10);
  const tumourFrames = tumourSegmentFrames(analysis.tumourLocalisation, analysis.venous.volumeGeometry);
  const pancreasFrames = pancreasSegmentFrames(pancreas, analysis.venous.volumeGeometry);
  const geometry = analysis.venous.volumeGeometry;

  it('passes dciodvfy with zero errors and only the documented warnings', () => {
    const report = dciodvfy(results.seg.part10);
    expect(report.iod).to.equal('Segmentation');
    expect(report.errors, report.raw).to.deep.equal([]);
    expect(report.warnings.filter((w) => !ACCEPTED_WARNINGS.some((re) => re.test(w))), report.raw).to.deep.equal([]);
  });

  it('describes segment 2: Anatomical Structure / Pancreas, AUTOMATIC by the pancreas model', () => {
    const segments = items(seg.SegmentSequence);
    expect(segments.map((s) => [s.SegmentNumber, s.SegmentLabel])).to.deep.equal([
      [1, 'Tumour'],
      [2, 'Pancreas'],
    ]);
    const s = segments[1];
    expect(first(s.SegmentedPropertyCategoryCodeSequence)).to.include({ CodeValue: '91723000', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Anatomical Structure' });
    expect(first(s.SegmentedPropertyTypeCodeSequence)).to.include({ CodeValue: '15776009', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Pancreas' });
    expect(s.SegmentAlgorithmType).to.equal('AUTOMATIC');
    expect(s.SegmentAlgorithmName).to.equal('tsr-pancreas');
    const algorithm = first(s.SegmentationAlgorithmIdentificationSequence);
    expect(algorithm).to.include({ AlgorithmName: 'tsr-pancreas', AlgorithmVersion: '0.1.0' });
    expect(first(algorithm.AlgorithmFamilyCodeSequence).CodeValue).to.equal(CODES.artificialIntelligence.value);
    expect(String(algorithm.AlgorithmParameters)).to.equal(`pancreas=tsr-pancreas 0.1.0 sha256=${'c'.repeat(64)}; level=0.5`);
    expect(s.SegmentDescription).to.contain('Pancreas');
    expect(s.RecommendedDisplayCIELabValue).to.have.length(3);
    expect(s.RecommendedDisplayCIELabValue).to.not.deep.equal(segments[0].RecommendedDisplayCIELabValue);
    expect(seg.ContentDescription).to.equal('Tumour and pancreas, two-stage localiser (research use only)');
  });

  it('has the tumour frames, then one frame per venous image the pancreas touches, each referencing segment 2 and its image', () => {
    const perFrame = items(seg.PerFrameFunctionalGroupsSequence);
    expect(pancreasFrames.length).to.be.within(3, geometry.dims[2] - 1);
    expect(seg.NumberOfFrames).to.equal(tumourFrames.length + pancreasFrames.length);
    expect(perFrame.map((frame) => first(frame.SegmentIdentificationSequence).ReferencedSegmentNumber)).to.deep.equal([
      ...tumourFrames.map(() => 1),
      ...pancreasFrames.map(() => 2),
    ]);
    const slices = [...new Set([...tumourFrames, ...pancreasFrames].map((frame) => frame.sliceIndex))].sort((a, b) => a - b);
    perFrame.slice(tumourFrames.length).forEach((frame, n) => {
      const k = pancreasFrames[n].sliceIndex;
      const source = first(first(frame.DerivationImageSequence).SourceImageSequence);
      expect(source).to.include({ ReferencedSOPClassUID: SOP_CLASS.ctImageStorage, ReferencedSOPInstanceUID: analysis.venous.sourceSopInstanceUIDs[k] });
      expect(first(frame.FrameContentSequence).DimensionIndexValues).to.deep.equal([2, slices.indexOf(k) + 1]);
      const position = first(frame.PlanePositionSequence).ImagePositionPatient as number[];
      indexToPatient(geometry, 0, 0, k).forEach((x, a) => expect(position[a]).to.be.closeTo(x, 1e-3));
    });
    const referenced = items(first(seg.ReferencedSeriesSequence).ReferencedInstanceSequence).map((i) => i.ReferencedSOPInstanceUID);
    expect(referenced).to.deep.equal(slices.map((k) => analysis.venous.sourceSopInstanceUIDs[k]));
  });

  it('holds the pancreas where the mask is: every pixel in a grid cell of a mask voxel, the gland centre inside, the stray blob outside', () => {
    const [columns] = geometry.dims;
    const frames = pydicomFrames(results.seg.part10).slice(tumourFrames.length);
    expect(frames.map((frame) => frame.join(''))).to.deep.equal(pancreasFrames.map((frame) => [...frame.mask].join('')));
    const [nx, ny, nz] = pancreas.grid.geometry.dims;
    const inMask = (i: number, j: number, k: number): boolean => i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz && pancreas.mask[(k * ny + j) * nx + i] === 1;
    let pixels = 0;
    frames.forEach((frame, n) => {
      frame.forEach((v, p) => {
        if (v === 0) return;
        pixels++;
        const t = patientToIndex(pancreas.grid.geometry, indexToPatient(geometry, p % columns, Math.floor(p / columns), pancreasFrames[n].sliceIndex));
        const corners = [0, 1, 2, 3, 4, 5, 6, 7].map((c) => [Math.floor(t[0]) + (c & 1), Math.floor(t[1]) + ((c >> 1) & 1), Math.floor(t[2]) + ((c >> 2) & 1)]);
        expect(corners.some(([i, j, k]) => inMask(i, j, k)), `pixel ${p} of frame ${n}`).to.be.true;
      });
    });
    expect(pixels).to.be.greaterThan(100);
    const centre = patientToIndex(geometry, [-12, -6, -24]).map(Math.round);
    const centreFrame = pancreasFrames.find((frame) => frame.sliceIndex === centre[2]);
    expect(centreFrame?.mask[centre[1] * columns + centre[0]]).to.equal(1);
    const stray = patientToIndex(geometry, [22, 22, -24]).map(Math.round);
    expect(pancreasFrames.find((frame) => frame.sliceIndex === stray[2])?.mask[stray[1] * columns + stray[0]] ?? 0).to.equal(0);
  });

  it('leaves the tumour segment and the SR as without the pancreas mask; the same bytes for the same input', () => {
    const withoutMask = buildTsrResults({ ...options, analysis: { ...analysis, pancreasLocalisation: undefined } });
    expect(Buffer.from(withoutMask.sr.part10).equals(Buffer.from(results.sr.part10))).to.be.true;
    expect(withoutMask.seg.sopInstanceUID).to.equal(results.seg.sopInstanceUID);
    expect(items(readPart10(withoutMask.seg.part10).SegmentSequence)).to.have.length(1);
    expect(pydicomFrames(results.seg.part10).slice(0, tumourFrames.length)).to.deep.equal(pydicomFrames(withoutMask.seg.part10));
    expect(Buffer.from(buildTsrResults(options).seg.part10).equals(Buffer.from(results.seg.part10))).to.be.true;
  });
});
