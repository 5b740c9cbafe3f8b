/**
 * dciodvfy (dicom3tools) reports no errors on every kind of series the synthetic generator
 * writes: thin arterial and venous, 5 mm reconstructions, non-contrast, delayed, localizer, the
 * X-Ray Radiation Dose SR; and on every pixel encoding and on UTF-8 (ISO_IR 192) descriptions;
 * and on the studies of every centre profile (their own matrix, thickness, interval, kV, kernel,
 * dose and contrast volume).
 */
import { expect } from 'chai';
import { dciodvfy } from '../harness/dciodvfy';
import { CENTRE_PROFILE_NAMES, generateStudy, PIXEL_ENCODING_NAMES, type SyntheticStudy } from '../../src/synthetic';

function firstFileOf(study: SyntheticStudy, seriesInstanceUID: string): Uint8Array {
  const file = study.files.find((f) => f.seriesInstanceUID === seriesInstanceUID);
  if (!file) throw new Error(`no file for series ${seriesInstanceUID}`);
  return file.bytes;
}

describe('conformance: synthetic CT series pass dciodvfy', function () {
  this.timeout(120_000);

  it('every series role of a study with all extras: zero errors, zero warnings', () => {
    const study = generateStudy({ seed: 2024, columns: 64, slices: 24, extras: 'all' });
    const roles = study.groundTruth.series.map((s) => s.role);
    expect(roles).to.include.members(['arterial', 'venous', 'arterial-thick', 'venous-thick', 'non-contrast', 'delayed', 'localizer', 'dose-report']);
    for (const series of study.groundTruth.series) {
      const report = dciodvfy(firstFileOf(study, series.seriesInstanceUID));
      expect(report.iod, series.role).to.equal(series.role === 'dose-report' ? 'XRayRadiationDoseSR' : 'CTImage');
      expect(report.errors, `${series.role}:\n${report.raw}`).to.deep.equal([]);
      expect(report.warnings, `${series.role}:\n${report.raw}`).to.deep.equal([]);
    }
  });

  it('every pixel encoding, with and without timing tags, shuffled or not: zero errors', () => {
    PIXEL_ENCODING_NAMES.forEach((encoding, i) => {
      const study = generateStudy({ seed: 3000 + i, columns: 32, slices: 8, extras: 'none', encoding, timingTags: i % 2 === 0 ? 'absent' : 'present', instanceOrder: 'shuffled' });
      const report = dciodvfy(firstFileOf(study, study.groundTruth.phases.arterial.seriesInstanceUID));
      expect(report.errors, `${encoding}:\n${report.raw}`).to.deep.equal([]);
    });
  });

  it('UTF-8 (ISO_IR 192) descriptions: zero errors', () => {
    let checked = 0;
    for (let seed = 0; seed < 40 && checked < 2; seed++) {
      const study = generateStudy({ seed, columns: 32, slices: 8, extras: 'none', naming: 'random' });
      const description = study.groundTruth.series.find((s) => s.role === 'venous')!.seriesDescription;
      if (!/[^\x20-\x7e]/.test(description)) continue;
      const report = dciodvfy(firstFileOf(study, study.groundTruth.phases.venous.seriesInstanceUID));
      expect(report.errors, `${description}:\n${report.raw}`).to.deep.equal([]);
      checked++;
    }
    expect(checked).to.equal(2);
  });

  it('every centre profile, at its own matrix, thickness and interval, every series role: zero errors', () => {
    for (const profile of CENTRE_PROFILE_NAMES) {
      for (const seed of [4100, 4101]) {
        // The profile's own matrix (columns not given); few slices keep it quick.
        const study = generateStudy({ seed, slices: 8, extras: 'all', profile });
        for (const series of study.groundTruth.series) {
          const report = dciodvfy(firstFileOf(study, series.seriesInstanceUID));
          expect(report.errors, `${profile} ${seed} ${series.role}:\n${report.raw}`).to.deep.equal([]);
          expect(report.warnings, `${profile} ${seed} ${series.role}:\n${report.raw}`).to.deep.equal([]);
        }
      }
    }
  });
});
