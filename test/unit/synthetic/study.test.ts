/**
 * generateStudy: determinism, the ground truth, the DICOM attributes a real scanner writes, and
 * the variants (naming, encodings, timing tags, instance order, extras, forced labels, cohorts).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { patientToIndex, type Geometry } from '../../../src/study/geometry';
import {
  balancedLabels,
  generateCohort,
  generateStudy,
  GROUND_TRUTH_SCHEMA,
  LABELS_CSV_HEADER,
  labelsCsvRow,
  PIXEL_ENCODING_NAMES,
  rasteriseTumourMask,
  writeStudyToFolder,
  type SyntheticStudy,
} from '../../../src/synthetic';
import { allDescriptions } from '../../../src/synthetic/naming';
import { decodeSeries, filesOfSeries, readDataset } from './readSyntheticSeries';

const SMALL = { columns: 64, slices: 24 } as const;

function digest(study: SyntheticStudy): string {
  const h = createHash('sha256');
  for (const f of study.files) h.update(f.relativePath).update(f.bytes);
  h.update(JSON.stringify(study.groundTruth));
  return h.digest('hex');
}

describe('synthetic: generateStudy', function () {
  this.timeout(60_000);

  it('same seed gives byte-identical files and ground truth', () => {
    const a = generateStudy({ seed: 42, ...SMALL, extras: 'all' });
    const b = generateStudy({ seed: 42, ...SMALL, extras: 'all' });
    expect(a.files.length).to.equal(b.files.length);
    a.files.forEach((f, i) => {
      expect(f.relativePath).to.equal(b.files[i].relativePath);
      expect(Buffer.from(f.bytes).equals(Buffer.from(b.files[i].bytes)), f.relativePath).to.equal(true);
    });
    expect(digest(a)).to.equal(digest(b));
  });

  it('a different seed gives a different patient: anatomy, tumour, pixels, UIDs', () => {
    const a = generateStudy({ seed: 42, ...SMALL, extras: 'none' });
    const b = generateStudy({ seed: 43, ...SMALL, extras: 'none' });
    expect(a.studyInstanceUID).to.not.equal(b.studyInstanceUID);
    expect(a.groundTruth.tumour.shape).to.not.deep.equal(b.groundTruth.tumour.shape);
    expect(a.groundTruth.phases.venous.tumourCentre).to.not.deep.equal(b.groundTruth.phases.venous.tumourCentre);
    const va = decodeSeries(filesOfSeries(a.files, a.groundTruth.phases.venous.seriesInstanceUID));
    const vb = decodeSeries(filesOfSeries(b.files, b.groundTruth.phases.venous.seriesInstanceUID));
    // Body outline: the count of voxels denser than fat differs between the two patients.
    const body = (hu: Float32Array): number => hu.reduce((n, v) => n + (v > -300 ? 1 : 0), 0);
    expect(Math.abs(body(va.hu) - body(vb.hu)) / body(va.hu)).to.be.greaterThan(0.01);
    const uidsA = new Set(a.files.map((f) => f.sopInstanceUID));
    expect(b.files.some((f) => uidsA.has(f.sopInstanceUID))).to.equal(false);
  });

  it('writes a complete ground truth', () => {
    const s = generateStudy({ seed: 7, ...SMALL, extras: 'all' });
    const t = s.groundTruth;
    expect(t.schema).to.equal(GROUND_TRUTH_SCHEMA);
    expect(t.seed).to.equal(7);
    expect(t.generatorVersion).to.match(/tsr-node-synthetic/);
    expect(t.studyInstanceUID).to.equal(s.studyInstanceUID);
    expect(t.series.map((x) => x.role).sort()).to.deep.equal(['arterial', 'arterial-thick', 'delayed', 'dose-report', 'localizer', 'non-contrast', 'venous', 'venous-thick']);
    for (const series of t.series) {
      expect(filesOfSeries(s.files, series.seriesInstanceUID).length, series.role).to.equal(series.instanceCount);
    }
    expect(t.phases.arterial.seriesInstanceUID).to.equal(t.series.find((x) => x.role === 'arterial')!.seriesInstanceUID);
    expect(t.phases.venous.thickSeriesInstanceUID).to.equal(t.series.find((x) => x.role === 'venous-thick')!.seriesInstanceUID);
    for (const phase of ['arterial', 'venous'] as const) {
      const p = t.phases[phase];
      for (let a = 0; a < 3; a++) expect(p.tumourCentre[a]).to.be.within(p.boundingBox.min[a], p.boundingBox.max[a]);
    }
    expect(t.tumour.label).to.equal(t.tumour.stromaFraction >= 0.5 ? 'low' : 'high');
    expect(t.tumour.labelDefinition).to.match(/stroma fraction >= 0.5/);
    expect(t.tumour.diameterMm).to.be.within(10, 70);
    for (const v of [t.tumour.oracle.fused, t.tumour.oracle.arterial, t.tumour.oracle.venous]) expect(v).to.be.within(0, 1);
    expect(t.tumour.enhancement.tpcHu.arterial).to.be.closeTo(t.tumour.enhancement.parenchymaHu.arterial - t.tumour.enhancement.tumourHu.arterial, 1e-9);
    expect(t.findingsText).to.match(/\d+ mm/);
    expect(t.findingsText).to.match(/\d+ HU/);
    expect(t.findingsText.toLowerCase()).to.not.match(/stroma|tsr|fibro|desmoplas/);
    expect(t.acquisition.pixelSpacingMm * t.acquisition.columns).to.be.within(300, 470);
  });

  it('breathing moves the organs between phases; both phases share one frame of reference', () => {
    const s = generateStudy({ seed: 11, ...SMALL, extras: 'none' });
    const t = s.groundTruth;
    const a = t.phases.arterial;
    const v = t.phases.venous;
    const shift = [0, 1, 2].map((i) => v.tumourCentre[i] - a.tumourCentre[i]);
    const expected = [0, 1, 2].map((i) => v.breathingShiftMm[i] - a.breathingShiftMm[i]);
    shift.forEach((d, i) => expect(d).to.be.closeTo(expected[i], 0.01));
    expect(Math.hypot(...expected)).to.be.below(15);
    const frames = new Set(s.files.map((f) => readDataset(f.bytes).FrameOfReferenceUID));
    expect([...frames]).to.deep.equal([t.frameOfReferenceUID]);
  });

  it('writes obviously synthetic names, 2.25 UIDs and fixed dates, and the CT Image attributes', () => {
    const s = generateStudy({ seed: 123, ...SMALL, extras: 'none', naming: 'english', timingTags: 'present' });
    const ds = readDataset(s.files[0].bytes);
    expect(ds.PatientName).to.deep.equal([{ Alphabetic: 'SYNTHETIC^TSR-000123' }]);
    expect(ds.PatientID).to.equal('SYN-000123');
    for (const f of s.files) {
      expect(f.sopInstanceUID).to.match(/^2\.25\.\d+$/);
      expect(f.sopInstanceUID.length).to.be.at.most(64);
    }
    expect(ds.StudyDate).to.match(/^20(19|2[0-4])\d{4}$/);
    expect(ds.SOPClassUID).to.equal('1.2.840.10008.5.1.4.1.1.2');
    expect(ds.Modality).to.equal('CT');
    expect(ds.ImageOrientationPatient).to.deep.equal([1, 0, 0, 0, 1, 0]);
    expect(ds.ImageType).to.deep.equal(['ORIGINAL', 'PRIMARY', 'AXIAL']);
    expect(Number(ds.SliceThickness)).to.be.greaterThan(0);
    expect(Number(ds.SpacingBetweenSlices)).to.equal(Number(ds.SliceThickness));
    expect(ds.ContrastBolusAgent).to.be.a('string').and.not.equal('');
    expect(ds.ContrastBolusStartTime).to.match(/^\d{6}$/);
    expect(ds.AcquisitionTime).to.match(/^\d{6}$/);
    // AcquisitionTime - ContrastBolusStartTime is the phase delay (PHANTOM.md: 35-50 s arterial, 65-75 s venous).
    const seconds = (t: string): number => Number(t.slice(0, 2)) * 3600 + Number(t.slice(2, 4)) * 60 + Number(t.slice(4, 6));
    for (const phase of ['arterial', 'venous'] as const) {
      const uid = s.groundTruth.phases[phase].seriesInstanceUID;
      const d = readDataset(filesOfSeries(s.files, uid)[0].bytes);
      const delay = seconds(d.AcquisitionTime as string) - seconds(d.ContrastBolusStartTime as string);
      if (phase === 'arterial') expect(delay, phase).to.be.within(35, 50);
      else expect(delay, phase).to.be.within(65, 75);
    }
  });

  it('pixel spacing is 0.6-0.9 mm at 512 columns and grows for small images', () => {
    for (const seed of [1, 2, 3]) {
      const t = generateStudy({ seed, columns: 512, slices: 8, extras: 'none' }).groundTruth;
      expect(t.acquisition.pixelSpacingMm, `seed ${seed}`).to.be.within(0.6, 0.9);
    }
    const small = generateStudy({ seed: 1, columns: 64, slices: 8, extras: 'none' }).groundTruth;
    expect(small.acquisition.pixelSpacingMm).to.be.greaterThan(4.5);
  });

  it('the dose report sums the CT dose of the spiral acquisitions', () => {
    const s = generateStudy({ seed: 77, columns: 32, slices: 8, extras: 'all' });
    const dose = s.groundTruth.series.find((x) => x.role === 'dose-report')!;
    expect(dose.seriesNumber).to.equal(999);
    const ds = readDataset(filesOfSeries(s.files, dose.seriesInstanceUID)[0].bytes);
    expect(ds.Modality).to.equal('SR');
    expect(ds.SOPClassUID).to.equal('1.2.840.10008.5.1.4.1.1.88.67');
    type Item = { ConceptNameCodeSequence?: Array<{ CodeValue: string }>; ContentSequence?: Item[]; MeasuredValueSequence?: Array<{ NumericValue: number | string }> };
    const items = (ds.ContentSequence as Item[]) ?? [];
    const find = (list: Item[], code: string): Item | undefined => list.find((i) => i.ConceptNameCodeSequence?.[0]?.CodeValue === code);
    const acquisitions = items.filter((i) => i.ConceptNameCodeSequence?.[0]?.CodeValue === '113819');
    // Localizer, non-contrast, arterial, venous, delayed: five irradiation events.
    expect(acquisitions).to.have.length(5);
    const accumulated = find(items, '113811')!;
    const total = Number(find(accumulated.ContentSequence!, '113813')!.MeasuredValueSequence![0].NumericValue);
    const sum = acquisitions.reduce((n, a) => {
      const dose = find(a.ContentSequence!, '113829');
      return n + (dose ? Number(find(dose.ContentSequence!, '113838')!.MeasuredValueSequence![0].NumericValue) : 0);
    }, 0);
    expect(total).to.be.greaterThan(0);
    expect(total).to.be.closeTo(sum, 0.01 * total);
  });

  it('timing tags can be left out; contrast agent stays', () => {
    const s = generateStudy({ seed: 5, ...SMALL, extras: 'none', timingTags: 'absent' });
    for (const f of s.files.slice(0, 3)) {
      const ds = readDataset(f.bytes);
      expect(ds).to.not.have.property('ContrastBolusStartTime');
      expect(ds).to.not.have.property('AcquisitionTime');
      expect(ds.ContrastBolusAgent).to.be.a('string');
    }
  });

  it('instance numbers: head first, feet first or shuffled, as asked', () => {
    const positions = (order: 'head-first' | 'feet-first' | 'shuffled'): number[] => {
      const s = generateStudy({ seed: 8, ...SMALL, extras: 'none', instanceOrder: order });
      const files = filesOfSeries(s.files, s.groundTruth.phases.arterial.seriesInstanceUID);
      return files
        .map((f) => readDataset(f.bytes))
        .sort((p, q) => (p.InstanceNumber as number) - (q.InstanceNumber as number))
        .map((ds) => Number((ds.ImagePositionPatient as number[])[2]));
    };
    const head = positions('head-first');
    const feet = positions('feet-first');
    const shuffled = positions('shuffled');
    expect(head).to.deep.equal([...head].sort((a, b) => b - a));
    expect(feet).to.deep.equal([...head].reverse());
    expect(shuffled).to.not.deep.equal(head);
    expect([...shuffled].sort((a, b) => b - a)).to.deep.equal(head);
  });

  it('every pixel encoding decodes to the same HU (within half a step)', () => {
    const huBy = PIXEL_ENCODING_NAMES.map((encoding) => {
      const s = generateStudy({ seed: 21, ...SMALL, extras: 'none', encoding });
      return decodeSeries(filesOfSeries(s.files, s.groundTruth.phases.venous.seriesInstanceUID));
    });
    const reference = huBy[0];
    const inside = (i: number): boolean => reference.hu[i] > -1000 && reference.hu[i] < 3000;
    huBy.forEach((series, e) => {
      let worst = 0;
      for (let i = 0; i < series.hu.length; i++) if (inside(i) && series.datasets[0].PixelPaddingValue === undefined) worst = Math.max(worst, Math.abs(series.hu[i] - reference.hu[i]));
      expect(worst, PIXEL_ENCODING_NAMES[e]).to.be.at.most(1);
    });
    const padded = huBy[PIXEL_ENCODING_NAMES.indexOf('int16-padded')];
    expect(padded.datasets[0].PixelPaddingValue).to.equal(-2000);
    expect(padded.hu[0]).to.equal(-3024);
  });

  it('series descriptions: english names, blanks, or the multilingual set with ISO_IR 192', () => {
    const english = generateStudy({ seed: 30, ...SMALL, extras: 'all', naming: 'english' }).groundTruth;
    for (const s of english.series) expect(s.seriesDescription, s.role).to.match(/^[\x20-\x7e]+$/);
    const blank = generateStudy({ seed: 30, ...SMALL, extras: 'none', naming: 'blank' }).groundTruth;
    for (const s of blank.series) expect(s.seriesDescription).to.equal('');
    let sawCjk = false;
    for (let seed = 0; seed < 30 && !sawCjk; seed++) {
      const s = generateStudy({ seed, columns: 32, slices: 8, extras: 'none', naming: 'random' });
      const description = s.groundTruth.series.find((x) => x.role === 'arterial')!.seriesDescription;
      expect(allDescriptions('arterial')).to.include(description);
      if (/[\u3040-\u9fff]/.test(description)) {
        sawCjk = true;
        const ds = readDataset(filesOfSeries(s.files, s.groundTruth.phases.arterial.seriesInstanceUID)[0].bytes);
        expect(ds.SpecificCharacterSet).to.equal('ISO_IR 192');
        expect(ds.SeriesDescription).to.equal(description);
      }
    }
    expect(sawCjk, 'a Chinese or Japanese description within 30 seeds').to.equal(true);
  });

  it('5 mm reconstructions average the thin slices of the same acquisition', () => {
    const s = generateStudy({ seed: 12, ...SMALL, extras: 'all' });
    const t = s.groundTruth;
    const thin = decodeSeries(filesOfSeries(s.files, t.phases.arterial.seriesInstanceUID));
    const thick = decodeSeries(filesOfSeries(s.files, t.phases.arterial.thickSeriesInstanceUID!));
    const per = Math.round(thick.geometry.spacing[2] / thin.geometry.spacing[2]);
    expect(thick.geometry.dims[2]).to.equal(Math.floor(thin.geometry.dims[2] / per));
    const n = thin.geometry.dims[0] * thin.geometry.dims[1];
    // The thick slice nearest the top equals the mean of its thin slices (both sorted feet first).
    const offset = thin.geometry.dims[2] - thick.geometry.dims[2] * per;
    const k = thick.geometry.dims[2] - 1;
    let worst = 0;
    for (let i = 0; i < n; i += 7) {
      let sum = 0;
      for (let q = 0; q < per; q++) sum += thin.hu[(offset + k * per + q) * n + i];
      worst = Math.max(worst, Math.abs(sum / per - thick.hu[k * n + i]));
    }
    expect(worst).to.be.at.most(1);
  });

  it('forced labels and balanced cohorts', () => {
    expect(generateStudy({ seed: 3, columns: 32, slices: 8, extras: 'none', label: 'low' }).groundTruth.tumour.label).to.equal('low');
    expect(generateStudy({ seed: 3, columns: 32, slices: 8, extras: 'none', label: 'high' }).groundTruth.tumour.label).to.equal('high');
    const labels = [...generateCohort({ seed: 50, count: 4, balance: true, columns: 32, slices: 8, extras: 'none' })].map((s) => s.groundTruth.tumour.label);
    expect(labels).to.deep.equal(balancedLabels(50, 4));
    expect(labels.filter((l) => l === 'low')).to.have.length(2);
    // The order is shuffled: over many cohorts, the label is not a function of the study's parity.
    const evenLow = [...Array(200).keys()].map((seed) => balancedLabels(seed, 10).filter((l, i) => i % 2 === 0 && l === 'low').length);
    expect(new Set(evenLow).size).to.be.greaterThan(2);
    const seeds = [...generateCohort({ seed: 50, count: 2, columns: 32, slices: 8, extras: 'none' })].map((s) => s.groundTruth.seed);
    expect(seeds).to.deep.equal([50, 51]);
  });

  it('rasterises the tumour mask on the series grid and on any other grid', () => {
    const s = generateStudy({ seed: 17, columns: 128, slices: 40, extras: 'none' });
    const t = s.groundTruth;
    const venous = decodeSeries(filesOfSeries(s.files, t.phases.venous.seriesInstanceUID));
    const mask = rasteriseTumourMask(t, 'venous', venous.geometry);
    const voxels = mask.reduce((n, v) => n + v, 0);
    const g = venous.geometry;
    const volume = voxels * g.spacing[0] * g.spacing[1] * g.spacing[2];
    const r = t.tumour.shape.radiiMm;
    const ellipsoid = (4 / 3) * Math.PI * r[0] * r[1] * r[2];
    expect(volume / ellipsoid).to.be.within(0.6, 1.6);
    // The centre voxel is in the mask; the same mask on a fine grid around the tumour agrees in volume.
    const c = patientToIndex(g, t.phases.venous.tumourCentre).map(Math.round);
    expect(mask[c[2] * g.dims[0] * g.dims[1] + c[1] * g.dims[0] + c[0]]).to.equal(1);
    const box = t.phases.venous.boundingBox;
    const fine: Geometry = {
      dims: [60, 60, 60],
      spacing: [(box.max[0] - box.min[0]) / 59, (box.max[1] - box.min[1]) / 59, (box.max[2] - box.min[2]) / 59],
      origin: box.min,
      rowDirection: [1, 0, 0],
      columnDirection: [0, 1, 0],
      normal: [0, 0, 1],
    };
    const fineMask = rasteriseTumourMask(t, 'venous', fine);
    const fineVolume = fineMask.reduce((n, v) => n + v, 0) * fine.spacing[0] * fine.spacing[1] * fine.spacing[2];
    expect(fineVolume / volume).to.be.within(0.8, 1.25);
    // Nothing outside the bounding box: the border planes of the fine grid hold no tumour.
    let border = 0;
    for (let j = 0; j < 60; j++) for (let i = 0; i < 60; i++) border += fineMask[j * 60 + i] + fineMask[59 * 3600 + j * 60 + i];
    expect(border).to.equal(0);
  });

  it('writes a study folder with its sidecar', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-synth-'));
    try {
      const s = generateStudy({ seed: 2, columns: 32, slices: 8, extras: 'none' });
      writeStudyToFolder(s, dir);
      const truth = JSON.parse(readFileSync(path.join(dir, 'ground-truth.json'), 'utf8')) as { studyInstanceUID: string };
      expect(truth.studyInstanceUID).to.equal(s.studyInstanceUID);
      const written = readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.dcm'));
      expect(written.length).to.equal(s.files.length);
      expect(labelsCsvRow(s.groundTruth).split(',')).to.have.length(LABELS_CSV_HEADER.split(',').length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad options with a clear message', () => {
    expect(() => generateStudy({ seed: -1 })).to.throw(RangeError, /seed/);
    expect(() => generateStudy({ seed: 1, columns: 8 })).to.throw(RangeError, /columns/);
    expect(() => generateStudy({ seed: 1, slices: 2 })).to.throw(RangeError, /slices/);
    expect(() => generateStudy({ seed: 1, encoding: 'jpeg' as never })).to.throw(RangeError, /encoding/);
  });
});
