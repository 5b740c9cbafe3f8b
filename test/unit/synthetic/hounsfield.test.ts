/**
 * HU measured from the written DICOM pixels (decoded with dcmjs, rescaled with the file's own
 * slope and intercept) fall in the PHANTOM.md ranges, in each structure and phase; and the tumour
 * and parenchyma carry the noise-free enhancement parameters the oracle conditions on.
 */
import { expect } from 'chai';
import { generateStudy, type SyntheticStudy } from '../../../src/synthetic';
import { PUBLISHED_RANGES, type Tissue } from '../../../src/synthetic/tissues';
import { tumourLevel } from '../../../src/synthetic/tumourShape';
import { VESSEL_FREE_CORE } from '../../../src/synthetic/anatomy';
import { indexToPatient } from '../../../src/study/geometry';
import { decodeSeries, filesOfSeries, meanInSphere, type DecodedSeries } from './readSyntheticSeries';

const PHASES = ['arterial', 'venous'] as const;

/**
 * Four standard errors of a sample mean of n voxels: the noise is [1 2 1]-filtered in x and y,
 * which makes about 7 neighbouring voxels share each independent value.
 */
function tolerance(noiseSdHu: number, n: number): number {
  return 4 * noiseSdHu * Math.sqrt(7.1 / Math.max(1, n));
}

/** PHANTOM.md ranges for the tissue a landmark sits in ("bone" is the compact posterior elements). */
function rangeOf(tissue: Tissue, phase: 'arterial' | 'venous'): [number, number] {
  const r = PUBLISHED_RANGES[tissue]?.[phase];
  if (!r) throw new Error(`no published range for ${tissue} ${phase}`);
  return r;
}

describe('synthetic: HU measured from the DICOM pixels', function () {
  this.timeout(120_000);
  const studies: Array<{ study: SyntheticStudy; series: Record<'arterial' | 'venous', DecodedSeries> }> = [];

  before(() => {
    // Three patients, each with a different pixel encoding, so rescaling is exercised too.
    const encodings = ['int16', 'uint12', 'uint16-slope-0.5'] as const;
    [101, 202, 303].forEach((seed, i) => {
      const study = generateStudy({ seed, columns: 256, slices: 40, extras: 'none', encoding: encodings[i] });
      const t = study.groundTruth;
      studies.push({
        study,
        series: {
          arterial: decodeSeries(filesOfSeries(study.files, t.phases.arterial.seriesInstanceUID)),
          venous: decodeSeries(filesOfSeries(study.files, t.phases.venous.seriesInstanceUID)),
        },
      });
    });
  });

  it('finds landmarks for the aorta, portal vein, liver, pancreas, muscle, fat and bone in every study', () => {
    for (const { study } of studies) {
      const names = study.groundTruth.landmarks.map((l) => l.structure);
      expect(names).to.include.members(['aorta', 'portal vein', 'liver', 'pancreas', 'paraspinal muscles', 'subcutaneous fat', 'vertebral posterior elements']);
    }
  });

  it('each structure is inside its published range in each phase', () => {
    const rows: string[] = [];
    for (const { study, series } of studies) {
      for (const landmark of study.groundTruth.landmarks) {
        for (const phase of PHASES) {
          const s = series[phase];
          // Stay a pixel and a half inside the structure: partial volume stays out of the sample.
          const radius = Math.max(0.5, Math.min(landmark.clearanceMm - 1.5 * s.geometry.spacing[0], 10));
          const { mean, count } = meanInSphere(s, landmark[phase], radius);
          const [lo, hi] = rangeOf(landmark.tissue, phase);
          // The range is for the tissue; the ROI mean also carries image noise: allow 3 standard errors.
          const slack = (3 / 4) * tolerance(study.groundTruth.acquisition.noiseSdHu, count);
          rows.push(`${study.groundTruth.seed} ${phase} ${landmark.structure}: ${mean.toFixed(1)} HU (n=${count}) in [${lo}, ${hi}] +- ${slack.toFixed(1)}`);
          expect(count, `${landmark.structure} sample`).to.be.greaterThan(0);
          expect(mean, `${study.groundTruth.seed} ${phase} ${landmark.structure}`).to.be.within(lo - slack, hi + slack);
        }
      }
    }
    if (process.env.TSR_SHOW_HU) process.stderr.write(rows.join('\n') + '\n');
    expect(rows.length).to.be.greaterThan(40);
  });

  it('tumour and parenchyma carry the noise-free enhancement parameters', () => {
    for (const { study, series } of studies) {
      const t = study.groundTruth;
      for (const phase of PHASES) {
        const s = series[phase];
        const g = s.geometry;
        const centre = t.phases[phase].tumourCentre;
        // The tumour core: within VESSEL_FREE_CORE of the smallest semi-axis of the centre, where by
        // construction no vessel runs, and inside the tumour.
        const coreRadius = 0.95 * VESSEL_FREE_CORE * Math.min(...t.tumour.shape.radiiMm);
        let sum = 0;
        let n = 0;
        for (let k = 0; k < g.dims[2]; k++) {
          for (let j = 0; j < g.dims[1]; j++) {
            for (let i = 0; i < g.dims[0]; i++) {
              const p = indexToPatient(g, i, j, k);
              const d = Math.hypot(p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]);
              if (d <= coreRadius && tumourLevel(t.tumour.shape, centre, p) <= 0.9) {
                sum += s.hu[k * g.dims[0] * g.dims[1] + j * g.dims[0] + i];
                n++;
              }
            }
          }
        }
        expect(n, 'tumour core voxels').to.be.greaterThan(3);
        const tumour = sum / n;
        const pancreas = t.landmarks.find((l) => l.structure === 'pancreas')!;
        const sample = meanInSphere(s, pancreas[phase], Math.max(0.5, Math.min(pancreas.clearanceMm - 1.5 * g.spacing[0], 6)));
        const e = t.tumour.enhancement;
        // Noise, plus a few HU for the zero-mean texture, which is smooth over millimetres.
        const noise = t.acquisition.noiseSdHu;
        const tumourTolerance = tolerance(noise, n) + 3;
        const parenchymaTolerance = tolerance(noise, sample.count) + 4;
        expect(tumour, `${t.seed} ${phase} tumour`).to.be.closeTo(e.tumourHu[phase], tumourTolerance);
        expect(sample.mean, `${t.seed} ${phase} parenchyma`).to.be.closeTo(e.parenchymaHu[phase], parenchymaTolerance);
        expect(sample.mean - tumour, `${t.seed} ${phase} TPC`).to.be.closeTo(e.tpcHu[phase], tumourTolerance + parenchymaTolerance);
      }
    }
  });
});
