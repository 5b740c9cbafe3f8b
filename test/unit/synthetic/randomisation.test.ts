/**
 * The domain randomisation of the randomised centre profiles: every drawn value is recorded in
 * the ground truth and is what the DICOM and the pixels show. Small images (the generator's
 * columns and slices options) keep it fast; profile copies with one range pinned isolate one
 * dimension (a copy keeps its name, so its other draws are those of the original).
 */
import { expect } from 'chai';
import { generateStudy, loadCentreProfile, rasteriseTumourMask, type CentreProfile, type SyntheticStudy } from '../../../src/synthetic';
import type { Geometry, Vec3 } from '../../../src/study/geometry';
import { iodineDoseFactor, iodineFactor, timingFactor } from '../../../src/synthetic/contrastEnhancement';
import { drawDomainRandomisation } from '../../../src/synthetic/domainRandomisation';
import { drawProfileBiology } from '../../../src/synthetic/profileBiology';
import { drawAnatomy } from '../../../src/synthetic/anatomy';
import { SeededRandom } from '../../../src/synthetic/random';
import type { PopulationDraw } from '../../../src/synthetic/randomisationTruth';
import { Ellipsoid, Intersection } from '../../../src/synthetic/shapes';
import { decodeSeries, filesOfSeries, meanInSphere, readDataset } from './readSyntheticSeries';

type Ranges = NonNullable<CentreProfile['randomisation']>;

/** A copy of the training profile (same name, so the same streams) with some ranges changed. */
function trainingWith(change: (ranges: Ranges) => void): CentreProfile {
  const copy = JSON.parse(JSON.stringify(loadCentreProfile('training'))) as CentreProfile;
  change(copy.randomisation!);
  return copy;
}

const SMALL = { columns: 96, slices: 24, extras: 'none' } as const;

function phaseSeries(study: SyntheticStudy, phase: 'arterial' | 'venous'): ReturnType<typeof decodeSeries> {
  return decodeSeries(filesOfSeries(study.files, study.groundTruth.phases[phase].seriesInstanceUID));
}

describe('synthetic: domain randomisation of the centre profiles', function () {
  this.timeout(120_000);

  it('records the profile and every draw; the same seed and profile give the same bytes', () => {
    const a = generateStudy({ seed: 5, profile: 'training', ...SMALL });
    const b = generateStudy({ seed: 5, profile: 'training', ...SMALL });
    expect(Buffer.concat(a.files.map((f) => Buffer.from(f.bytes))).equals(Buffer.concat(b.files.map((f) => Buffer.from(f.bytes))))).to.equal(true);
    const truth = a.groundTruth;
    expect(truth.profile).to.equal('training');
    const record = truth.randomisation!;
    expect(Object.keys(record)).to.have.members(['population', 'acquisition', 'contrast', 'tumour', 'misregistrationMm', 'intensity']);
    const draws = drawDomainRandomisation(5, loadCentreProfile('training'));
    expect(record.population).to.deep.equal(draws.population);
    expect(record.contrast.arterialDelaySeconds).to.equal(draws.contrast.arterialDelaySeconds);
    expect(record.acquisition.kvp).to.equal(draws.acquisition.kvp);
    expect(record.tumour.shape).to.equal(draws.tumour.shape);
  });

  it('matrix and pixel spacing: the drawn ones are the DICOM Rows, Columns and PixelSpacing, inside the profile range', () => {
    for (const matrix of [384, 768]) {
      const profile = trainingWith((r) => (r.acquisition.matrix = [{ value: matrix, weight: 1 }]));
      const study = generateStudy({ seed: 11, profile, slices: 8, extras: 'none' });
      const record = study.groundTruth.randomisation!.acquisition;
      const ds = readDataset(filesOfSeries(study.files, study.groundTruth.phases.venous.seriesInstanceUID)[0].bytes);
      expect([ds.Rows, ds.Columns, record.matrix]).to.deep.equal([matrix, matrix, matrix]);
      const spacing = (ds.PixelSpacing as number[]).map(Number);
      expect(spacing[0]).to.be.closeTo(record.pixelSpacingMm, 1e-4);
      expect(record.pixelSpacingMm).to.be.within(0.55, 0.98);
      expect(Number(ds.ReconstructionDiameter)).to.be.closeTo(record.fieldOfViewMm, 0.01);
    }
  });

  it('slice thickness and interval: the drawn ones are SliceThickness, SpacingBetweenSlices and the positions', () => {
    const seen = new Set<string>();
    for (const seed of [1, 2, 3, 4, 6, 8]) {
      const study = generateStudy({ seed, profile: 'training', ...SMALL });
      const record = study.groundTruth.randomisation!.acquisition;
      seen.add(`${record.sliceThicknessMm}/${record.sliceIntervalMm}`);
      const series = phaseSeries(study, 'arterial');
      expect(Number(series.datasets[0].SliceThickness)).to.equal(record.sliceThicknessMm);
      expect(Number(series.datasets[0].SpacingBetweenSlices)).to.be.closeTo(record.sliceIntervalMm, 1e-6);
      expect(series.geometry.spacing[2]).to.be.closeTo(record.sliceIntervalMm, 1e-3);
      expect(study.groundTruth.acquisition.spacingBetweenSlicesMm).to.equal(record.sliceIntervalMm);
      expect(series.datasets.length).to.equal(24);
    }
    expect(seen.size, [...seen].join(' ')).to.be.at.least(3);
  });

  it('tube voltage: KVP is the drawn kV, and iodine enhancement (aorta, tumour contrast) scales with it while the oracle does not change', () => {
    const at = (kvp: number): SyntheticStudy => generateStudy({ seed: 21, profile: trainingWith((r) => (r.acquisition.kvp = [{ value: kvp, weight: 1 }])), ...SMALL });
    const [s80, s100, s120] = [at(80), at(100), at(120)];
    for (const [study, kvp] of [[s80, 80], [s100, 100], [s120, 120]] as const) {
      expect(Number(readDataset(study.files[0].bytes).KVP)).to.equal(kvp);
      expect(study.groundTruth.randomisation!.acquisition.kvp).to.equal(kvp);
    }
    // The unenhanced aorta is the same in the three (same seed): its enhancement differences scale with the kV factor.
    const net = (kvp: number): number => iodineFactor(kvp) * iodineDoseFactor(kvp);
    const aorta = (study: SyntheticStudy): number => study.groundTruth.tissueHu.arterial.aorta;
    expect((aorta(s80) - aorta(s120)) / (aorta(s100) - aorta(s120))).to.be.closeTo((net(80) - 1) / (net(100) - 1), 1e-9);
    expect(aorta(s80)).to.be.greaterThan(aorta(s100) + 20);
    const tpc = (study: SyntheticStudy): number => study.groundTruth.tumour.enhancement.tpcHu.venous;
    expect(tpc(s80) / tpc(s120)).to.be.closeTo(net(80) / net(120), 1e-9);
    expect(s80.groundTruth.tumour.oracle.fused).to.be.closeTo(s120.groundTruth.tumour.oracle.fused, 1e-9);
    // In the pixels: the arterial aorta at its landmark is brighter at 80 kV by about the truth's difference.
    const measured = (study: SyntheticStudy): number => {
      const landmark = study.groundTruth.landmarks.find((l) => l.structure === 'aorta')!;
      return meanInSphere(phaseSeries(study, 'arterial'), landmark.arterial, Math.min(6, Math.max(2, landmark.clearanceMm - 4))).mean;
    };
    expect(measured(s80) - measured(s120)).to.be.closeTo(aorta(s80) - aorta(s120), 25);
  });

  it('contrast timing and strength: delays in the windows, written as the timing tags, and the pancreas scale is kV x dose x strength x timing', () => {
    for (const seed of [31, 32, 33, 34]) {
      const study = generateStudy({ seed, profile: 'training', timingTags: 'present', ...SMALL });
      const truth = study.groundTruth;
      const contrast = truth.randomisation!.contrast;
      expect(contrast.arterialDelaySeconds).to.be.within(35, 50);
      expect(contrast.venousDelaySeconds).to.be.within(60, 90);
      expect(contrast.venousDelaySeconds - contrast.arterialDelaySeconds).to.be.at.least(20);
      expect(truth.phases.arterial.delaySeconds).to.equal(contrast.arterialDelaySeconds);
      const ds = readDataset(filesOfSeries(study.files, truth.phases.venous.seriesInstanceUID)[0].bytes);
      const seconds = (time: unknown): number => {
        const text = String(time);
        return Number(text.slice(0, 2)) * 3600 + Number(text.slice(2, 4)) * 60 + Number(text.slice(4));
      };
      const bolus = (ds.ContrastBolusStartTime as string | undefined) ?? '';
      expect(Math.round(seconds(ds.AcquisitionTime) - seconds(bolus))).to.equal(contrast.venousDelaySeconds);
      const kvp = truth.randomisation!.acquisition.kvp;
      const expected = iodineFactor(kvp) * iodineDoseFactor(kvp) * contrast.strength * timingFactor('pancreas', 'venous', contrast.venousDelaySeconds);
      expect(contrast.enhancementScale.venous).to.be.closeTo(expected, 1e-12);
      const latent = drawProfileBiology(seed, loadCentreProfile('training')).biology.enhancement.tpcHu.venous;
      expect(truth.tumour.enhancement.tpcHu.venous).to.be.closeTo(latent * contrast.enhancementScale.venous, 1e-9);
    }
  });

  it('misregistration: the two phases tumour centres and moving landmarks differ by the recorded vector, at most the profile maximum', () => {
    let largest = 0;
    for (const seed of [41, 42, 43, 44, 45, 46]) {
      const truth = generateStudy({ seed, profile: trainingWith((r) => (r.misregistration = { sdMm: [4, 4, 8], maxMm: 10 })), ...SMALL }).groundTruth;
      const shift = truth.randomisation!.misregistrationMm;
      const a = truth.phases.arterial.tumourCentre;
      const v = truth.phases.venous.tumourCentre;
      for (let axis = 0; axis < 3; axis++) expect(v[axis] - a[axis]).to.be.closeTo(shift[axis], 0.01);
      expect(Math.hypot(...shift)).to.be.at.most(10 + 1e-6);
      largest = Math.max(largest, Math.hypot(...shift));
      const liver = truth.landmarks.find((l) => l.structure === 'liver');
      if (liver) expect(liver.venous[2] - liver.arterial[2]).to.be.closeTo(shift[2], 0.02);
    }
    expect(largest).to.be.greaterThan(6);
  });

  it('tumour size: the drawn diameter is the one rasterised (the mask spans it along the main axis) and lies in 8-50 mm', () => {
    for (const seed of [51, 52, 53, 54]) {
      const truth = generateStudy({ seed, profile: 'training', ...SMALL }).groundTruth;
      const { diameterMm, shape } = truth.tumour;
      expect(diameterMm).to.be.within(8, 50);
      expect(truth.randomisation!.tumour.diameterMm).to.be.closeTo(diameterMm, 0.005);
      expect(shape.radiiMm[0] * 2).to.be.closeTo(diameterMm, 0.005);
      // Mask on a 0.5 mm grid along the main axis through the centre: its extent is the diameter, give or take the lobes.
      const centre = truth.phases.venous.tumourCentre;
      const axis = shape.axes[0];
      const step = 0.5;
      const count = Math.ceil((diameterMm * 1.6) / step);
      const origin: Vec3 = [centre[0] - axis[0] * step * (count / 2), centre[1] - axis[1] * step * (count / 2), centre[2] - axis[2] * step * (count / 2)];
      const other: Vec3 = Math.abs(axis[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0];
      const second: Vec3 = [axis[1] * other[2] - axis[2] * other[1], axis[2] * other[0] - axis[0] * other[2], axis[0] * other[1] - axis[1] * other[0]];
      const norm = Math.hypot(...second);
      const column: Vec3 = [second[0] / norm, second[1] / norm, second[2] / norm];
      const normal: Vec3 = [axis[1] * column[2] - axis[2] * column[1], axis[2] * column[0] - axis[0] * column[2], axis[0] * column[1] - axis[1] * column[0]];
      const line: Geometry = { dims: [count, 1, 1], spacing: [step, step, step], origin, rowDirection: axis, columnDirection: column, normal };
      const inside = rasteriseTumourMask(truth, 'venous', line).reduce((sum, value) => sum + value, 0) * step;
      const lobes = shape.lobes.reduce((sum, lobe) => sum + lobe.amplitude, 0);
      expect(inside, `seed ${seed}: ${diameterMm} mm drawn`).to.be.within(diameterMm * (1 - lobes) - 1, diameterMm * (1 + lobes) + 1);
    }
  });

  it('tumour region and shape kind: the drawn ones are placed; round ones are near spheres, infiltrative ones have ill-defined margins', () => {
    const kinds = new Set<string>();
    for (let seed = 60; seed < 84; seed++) {
      const truth = generateStudy({ seed, profile: 'training', columns: 32, slices: 8, extras: 'none' }).groundTruth;
      const record = truth.randomisation!.tumour;
      expect(truth.tumour.region).to.equal(drawDomainRandomisation(seed, loadCentreProfile('training')).tumour.region);
      kinds.add(record.shape);
      const radii = truth.tumour.shape.radiiMm;
      if (record.shape === 'round') expect(Math.min(...radii) / Math.max(...radii)).to.be.at.least(0.88);
      if (record.shape === 'infiltrative') expect(truth.tumour.shape.marginWidthMm).to.be.within(2, 5);
      else expect(truth.tumour.shape.marginWidthMm).to.equal(undefined);
    }
    expect([...kinds]).to.have.members(['round', 'lobulated', 'infiltrative']);
  });

  it('region frequencies follow the profile weights, and the iso-attenuating share is the profile rate', () => {
    const profile = loadCentreProfile('training');
    const counts = new Map<string, number>();
    let iso = 0;
    const n = 3000;
    for (let seed = 0; seed < n; seed++) {
      const region = drawDomainRandomisation(seed, profile).tumour.region;
      counts.set(region, (counts.get(region) ?? 0) + 1);
      if (drawProfileBiology(seed, profile).isoAttenuating) iso++;
    }
    const weights = profile.randomisation!.tumour.regionWeights;
    const total = Object.values(weights).reduce((sum, w) => sum + w, 0);
    for (const [region, weight] of Object.entries(weights)) expect((counts.get(region) ?? 0) / n, region).to.be.closeTo(weight / total, 0.03);
    expect(iso / n).to.be.closeTo(profile.randomisation!.tumour.isoAttenuatingRate, 0.015);
  });

  it('iso-attenuating tumours: their contrast comes from the iso component, they are drawn small, and the oracle cannot rank them', () => {
    const profile = trainingWith((r) => (r.tumour.isoAttenuatingRate = 1));
    for (const seed of [81, 82, 83]) {
      const truth = generateStudy({ seed, profile, columns: 48, slices: 8, extras: 'none' }).groundTruth;
      const scale = truth.randomisation!.contrast.enhancementScale;
      expect(truth.randomisation!.tumour.isoAttenuating).to.equal(true);
      expect(truth.tumour.enhancement.tpcHu.arterial / scale.arterial).to.be.within(9 - 4 * 4, 9 + 4 * 4);
      expect(truth.tumour.diameterMm).to.be.at.most(30);
      // Every tumour is iso-attenuating: the TPCs carry no information, P(high) is the prior.
      expect(truth.tumour.oracle.fused).to.be.closeTo(0.6, 0.03);
    }
  });

  it('secondary signs: a head tumour with the signs drawn dilates the duct and the bile duct; a tail tumour neither', () => {
    const signs = (region: 'head' | 'tail'): CentreProfile =>
      trainingWith((r) => {
        r.tumour.regionWeights = { 'uncinate process': 0, head: region === 'head' ? 1 : 0, neck: 0, body: 0, tail: region === 'tail' ? 1 : 0 };
        r.tumour.secondarySigns = { upstreamDuctDilation: 1, parenchymalAtrophy: 1, bileDuctDilation: 1 };
      });
    const head = generateStudy({ seed: 91, profile: signs('head'), ...SMALL }).groundTruth;
    expect(head.tumour.ductDilated).to.equal(true);
    expect(head.randomisation!.tumour).to.include({ upstreamDuctDilated: true, parenchymalAtrophy: true, bileDuctDilated: true });
    expect(head.findingsText).to.match(/common bile duct|Biliary obstruction/);
    expect(head.findingsText).to.match(/atrophic|atrophy/);
    const tail = generateStudy({ seed: 91, profile: signs('tail'), ...SMALL }).groundTruth;
    expect(tail.randomisation!.tumour).to.include({ upstreamDuctDilated: false, bileDuctDilated: false });
    expect(tail.findingsText).to.match(/not dilated|normal calibre|No upstream/);
  });

  it('habitus and field of view: the body in the pixels is as wide as drawn and sits where the reconstruction centre put it', () => {
    for (const width of [125, 205]) {
      const profile = trainingWith((r) => {
        r.population.bodyHalfWidthMm = [width, width];
        r.population.fieldOfViewOffsetMm = { x: [30, 30], y: [0, 0] };
        r.acquisition.matrix = [{ value: 384, weight: 1 }];
        r.acquisition.pixelSpacingMm = [0.98, 0.98];
      });
      const study = generateStudy({ seed: 101, profile, slices: 8, extras: 'none', encoding: 'int16-hu' });
      const series = phaseSeries(study, 'venous');
      const [columns, rows] = series.geometry.dims;
      const j = Math.floor(rows / 2);
      const row = Array.from({ length: columns }, (_, i) => series.hu[4 * rows * columns + j * columns + i]);
      const inBody = row.map((value, i) => (value > -400 ? i : -1)).filter((i) => i >= 0);
      const spacing = series.geometry.spacing[0];
      const measured = (inBody[inBody.length - 1] - inBody[0] + 1) * spacing;
      const fieldOfView = study.groundTruth.randomisation!.acquisition.fieldOfViewMm;
      // The image spans 30 mm +- half the field of view: a body wider than that is cut at the side.
      const seen = Math.min(width, 30 + fieldOfView / 2) - Math.max(-width, 30 - fieldOfView / 2);
      expect(measured).to.be.closeTo(seen, 0.05 * 2 * width);
      if (seen === 2 * width) {
        const middle = ((inBody[0] + inBody[inBody.length - 1]) / 2) * spacing;
        expect(middle - ((columns - 1) / 2) * spacing).to.be.closeTo(-30, 4);
      }
    }
  });

  it('organ sizes and positions: kidneys, spleen and stomach are drawn at the drawn scale, filling and shift', () => {
    const organs = (change: (population: PopulationDraw) => void): Map<string, Ellipsoid[]> => {
      const draws = drawDomainRandomisation(111, loadCentreProfile('training'));
      change(draws.population);
      const anatomy = drawAnatomy(new SeededRandom(111, 'anatomy'), { tpcArterialHu: 40 }, { population: draws.population, tumour: draws.tumour });
      const byName = new Map<string, Ellipsoid[]>();
      for (const structure of anatomy.structures) {
        const ellipsoids = structure.shapes.flatMap((shape) => (shape instanceof Ellipsoid ? [shape] : shape instanceof Intersection ? shape.shapes.filter((s): s is Ellipsoid => s instanceof Ellipsoid) : []));
        byName.set(structure.name, ellipsoids);
      }
      return byName;
    };
    const small = organs((p) => ((p.organScale.kidneys = 0.8), (p.organScale.spleen = 0.8), (p.stomachFilling = 0), (p.organShiftMm.kidneys = [0, 0, 0])));
    const large = organs((p) => ((p.organScale.kidneys = 1.2), (p.organScale.spleen = 1.2), (p.stomachFilling = 1), (p.organShiftMm.kidneys = [0, 0, 10])));
    const radii = (map: Map<string, Ellipsoid[]>, name: string, k = 0): Vec3 => map.get(name)![k].radii;
    for (let axis = 0; axis < 3; axis++) {
      expect(radii(large, 'kidney cortex')[axis] / radii(small, 'kidney cortex')[axis]).to.be.closeTo(1.5, 1e-9);
      expect(radii(large, 'spleen')[axis] / radii(small, 'spleen')[axis]).to.be.closeTo(1.5, 1e-9);
      expect(radii(large, 'stomach wall')[axis] / radii(small, 'stomach wall')[axis]).to.be.closeTo(1.2 / 0.65, 1e-9);
    }
    expect(large.get('kidney cortex')![0].centre[2] - small.get('kidney cortex')![0].centre[2]).to.be.closeTo(10, 1e-9);
  });

  it('noise level and kernel texture: the measured noise is the drawn SD, and smooth kernels correlate it over neighbouring pixels more than sharp ones', () => {
    const correlation: Record<string, number> = {};
    for (const sharpness of ['smooth', 'standard', 'sharp'] as const) {
      const profile = trainingWith((r) => {
        r.acquisition.kernels = [{ name: 'K', sharpness, weight: 1 }];
        r.acquisition.matrix = [{ value: 384, weight: 1 }];
        r.acquisition.pixelSpacingMm = [0.98, 0.98];
        r.population.bodyHalfWidthMm = [130, 130];
        r.population.fieldOfViewOffsetMm = { x: [0, 0], y: [0, 0] };
      });
      const study = generateStudy({ seed: 121, profile, slices: 8, extras: 'none', encoding: 'int16-hu' });
      const series = phaseSeries(study, 'venous');
      const [columns] = series.geometry.dims;
      // Air inside the reconstruction circle, left of the body: -1000 HU plus noise.
      const values: number[] = [];
      const neighbours: Array<[number, number]> = [];
      for (let k = 0; k < 8; k++) {
        for (let j = 150; j < 234; j++) {
          for (let i = 8; i < 30; i++) {
            const p = k * columns * columns + j * columns + i;
            values.push(series.hu[p]);
            neighbours.push([series.hu[p], series.hu[p + 1]]);
          }
        }
      }
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
      expect(mean, sharpness).to.be.closeTo(-1000, 3);
      expect(sd, sharpness).to.be.closeTo(study.groundTruth.randomisation!.acquisition.noiseSdHu, 0.12 * sd + 0.6);
      correlation[sharpness] = neighbours.reduce((s, [a, b]) => s + (a - mean) * (b - mean), 0) / neighbours.length / (sd * sd);
      expect(readDataset(study.files[0].bytes).ConvolutionKernel).to.equal('K');
    }
    expect(correlation.smooth).to.be.greaterThan(correlation.standard + 0.1);
    expect(correlation.standard).to.be.greaterThan(correlation.sharp + 0.1);
  });

  it('SynthSeg-style intensities: offsets recorded and applied, the pancreas and tumour moved together so the contrast that carries the label stays', () => {
    const plain = generateStudy({ seed: 131, profile: 'training', columns: 48, slices: 8, extras: 'none' }).groundTruth;
    const synth = generateStudy({
      seed: 131,
      profile: trainingWith((r) => (r.intensity = { tissueHuSd: 60, noiseSdHu: [3, 3], blurFwhmMm: [2, 2], biasFieldHu: 30 })),
      columns: 48,
      slices: 8,
      extras: 'none',
    }).groundTruth;
    const offsets = synth.randomisation!.intensity!.tissueHuOffsets.arterial;
    expect(synth.tissueHu.arterial.liver - plain.tissueHu.arterial.liver).to.be.closeTo(offsets.liver!, 1e-9);
    expect(synth.tumour.enhancement.tpcHu).to.deep.equal(plain.tumour.enhancement.tpcHu);
    expect(synth.tumour.oracle).to.deep.equal(plain.tumour.oracle);
    // Drawn at 3 HU; pixels coarser than 1 mm (this small image) average it down by 1 / spacing.
    expect(synth.randomisation!.acquisition.noiseSdHu).to.be.closeTo(3 / synth.acquisition.pixelSpacingMm, 1e-9);
    expect(synth.randomisation!.intensity!.blurFwhmMm).to.equal(2);
  });
});
