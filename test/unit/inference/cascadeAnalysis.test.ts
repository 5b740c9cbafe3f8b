/**
 * The pancreas-first cascade end to end on the tiny fixture pair (test/fixtures/tiny-models:
 * tsr-pancreas-tiny lights up anything brighter than soft tissue, tsr-localizer-roi-tiny's
 * tumour channels bright blobs and its pancreas channel the same as stage 1): loading and the pair
 * check, both stages, the decision, the analysis' new fields, and the refusals.
 */
import { expect } from 'chai';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AnalysisRefusedError, ConfigError } from '../../../src/errors';
import { analyseStudy, type CascadeTrace } from '../../../src/inference/analyse';
import { releaseModels } from '../../../src/inference/models';
import { loadLocalisation, loadModelSet, type ModelSet, type ModelsConfig } from '../../../src/inference/modelSet';
import { toPrintable } from '../../../src/inference/result';
import { meanShiftedBack, shiftedBatch } from '../../../src/inference/gridShifts';
import { extractLocalizerInputs } from '../../../src/inference/preprocessing';
import { sigmoid } from '../../../src/inference/roiFinding';
import { runCascadeLocalizer } from '../../../src/inference/sessions';
import * as ort from 'onnxruntime-node';
import { tumourSegmentFrames } from '../../../src/results/seg/segmentFrames';
import { resultIdentity } from '../../../src/results/uids';
import { indexToPatient, type Geometry, type Vec3 } from '../../../src/study/geometry';
import type { HuVolume } from '../../../src/study/volume';

const FIXTURES = path.resolve(__dirname, '../../fixtures/tiny-models');
const RUNTIME = { intraOpThreads: 1, executionProvider: 'cpu' as const };
const config = (extra: Partial<ModelsConfig> = {}): ModelsConfig => ({ dir: FIXTURES, classifier: 'tsr-clip-fusion', localizer: 'tsr-localizer-roi-tiny', pancreas: 'tsr-pancreas-tiny', ...RUNTIME, ...extra });

const GEOMETRY: Geometry = {
  dims: [128, 128, 48],
  spacing: [2.5, 2.5, 3],
  origin: [-158.75, -158.75, -70.5],
  rowDirection: [1, 0, 0],
  columnDirection: [0, 1, 0],
  normal: [0, 0, 1],
};

interface Body {
  /** The gland: a box of 100 HU, [min, max] mm per axis; absent: no pancreas. */
  pancreas?: [Vec3, Vec3];
  tumour?: { centreMm: Vec3; radiusMm: number; hu: number };
}

function volume(body: Body, series: string): HuVolume {
  const g = GEOMETRY;
  const [nx, ny, nz] = g.dims;
  const data = new Float32Array(nx * ny * nz).fill(40);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const p = indexToPatient(g, i, j, k);
        const n = (k * ny + j) * nx + i;
        const box = body.pancreas;
        if (box && p.every((x, a) => x >= box[0][a] && x <= box[1][a])) data[n] = 100;
        const t = body.tumour;
        if (t && Math.hypot(p[0] - t.centreMm[0], p[1] - t.centreMm[1], p[2] - t.centreMm[2]) <= t.radiusMm) data[n] = t.hu;
      }
    }
  }
  return {
    geometry: g,
    data,
    sopInstanceUIDs: Array.from({ length: nz }, (_, k) => `${series}.${k + 1}`),
    seriesInstanceUID: series,
    studyInstanceUID: '2.25.100',
    frameOfReferenceUID: '2.25.200',
  };
}

const GLAND: [Vec3, Vec3] = [
  [-60, -30, -30],
  [60, 30, 30],
];
const VENOUS_TUMOUR: Vec3 = [20, 0, 0];

function study(arterialTumour: Vec3 = [23, 2, 0], body: Partial<Body> = {}): { arterial: HuVolume; venous: HuVolume } {
  return {
    venous: volume({ pancreas: GLAND, tumour: { centreMm: VENOUS_TUMOUR, radiusMm: 15, hu: 250 }, ...body }, '2.25.2'),
    arterial: volume({ pancreas: GLAND, tumour: { centreMm: arterialTumour, radiusMm: 15, hu: 280 }, ...body }, '2.25.1'),
  };
}

const distance = (a: Vec3, b: Vec3): number => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

async function refused(f: () => Promise<unknown>): Promise<AnalysisRefusedError> {
  try {
    await f();
  } catch (err) {
    expect(err).to.be.instanceOf(AnalysisRefusedError);
    return err as AnalysisRefusedError;
  }
  expect.fail('the study was analysed');
}

describe('inference/cascade: the pancreas-first localiser on the tiny fixture pair', function () {
  this.timeout(60_000);
  let models: ModelSet;
  let calibrated: ModelSet;
  before(async () => {
    models = await loadModelSet(config());
    calibrated = await loadModelSet(config({ localizer: 'tsr-localizer-roi-tiny-calibrated' }));
  });
  after(async () => {
    await releaseModels(models);
    await releaseModels(calibrated);
  });

  it('loads the pancreas stage because the localiser names it, and lists it first', () => {
    expect(models.pancreas?.identity.name).to.equal('tsr-pancreas-tiny');
    expect(models.pancreas?.pancreas.gridSize).to.deep.equal([24, 24, 12]);
    expect(models.localizer.localizer.roi?.pancreasModel.sha256).to.equal(models.pancreas?.identity.sha256);
  });

  it('finds the pancreas, centres the ROI on it and finds the tumour in both phases', async () => {
    let trace: CascadeTrace | undefined;
    const input = study();
    const { analysis, localisation } = await analyseStudy(models, input, { onCascade: (t) => (trace = t) });
    expect(analysis.models.map((m) => m.role)).to.deep.equal(['pancreas', 'localizer', 'classifier']);
    expect(distance(analysis.tumour.centreMm, VENOUS_TUMOUR)).to.be.below(4);
    expect(distance(analysis.arterial.tumourCentreMm, [23, 2, 0])).to.be.below(4);
    expect(localisation.arterial.refined).to.be.true;
    // The ROI grid: 8 mm voxels, centred on the gland's box (the ROI centre lies within a coarse voxel of it).
    const roiGrid = analysis.tumourLocalisation.grid.geometry;
    expect(roiGrid.spacing).to.deep.equal([8, 8, 8]);
    expect(roiGrid.dims).to.deep.equal([24, 16, 12]);
    const p = analysis.pancreasLocalisation!;
    expect(distance(p.roiCentreMm, [0, 0, 0])).to.be.below(16);
    expect(p.volumeMl).to.be.above(5);
    expect(p.grid.geometry.spacing).to.deep.equal([16, 16, 16]);
    // The SEG's component: the candidate at candidateLevel around its peak.
    expect(analysis.tumourLocalisation.level).to.equal(0.5);
    expect(analysis.tumourLocalisation.grid.data[trace!.decision!.candidate!.voxels[0]]).to.be.at.least(0.5);
    // Uncalibrated: the confidence is the candidate's peak.
    expect(analysis.tumour.confidenceCalibrated).to.equal(false);
    expect(analysis.tumour.confidence).to.be.closeTo(trace!.decision!.candidate!.peak, 1e-6);
    for (const key of ['localise', 'pancreas', 'tumour', 'crop', 'classify', 'total']) expect(analysis.timingsMs[key], key).to.be.a('number');
    const printed = toPrintable(analysis);
    expect(printed.pancreasLocalisation).to.have.keys(['volumeMl', 'roiCentreMm']);
    expect(JSON.stringify(printed).length).to.be.below(50_000);
  });

  it('the SEG frames and the key-slice outline come from the candidate on the ROI grid', async () => {
    const input = study();
    const { analysis } = await analyseStudy(models, input);
    const frames = tumourSegmentFrames(analysis.tumourLocalisation, analysis.venous.volumeGeometry);
    expect(frames.length).to.be.above(3);
    // The segment's slices straddle the tumour (z 0, radius 15 mm; slices every 3 mm from -70.5 mm).
    const z = frames.map((f) => GEOMETRY.origin[2] + f.sliceIndex * GEOMETRY.spacing[2]);
    expect(Math.min(...z)).to.be.within(-30, 0);
    expect(Math.max(...z)).to.be.within(0, 30);
    expect(analysis.venous.outlinePixels.length).to.be.above(4);
    expect(analysis.venous.keySopInstanceUID).to.be.oneOf(input.venous.sopInstanceUIDs);
  });

  it('stage 2 averages its three maps over the shifts as the single-stage localiser does, keeping each shift venous map', async () => {
    const spec = models.localizer.localizer;
    const inputs = extractLocalizerInputs(study(), spec, [0, 0, 0]);
    const out = await runCascadeLocalizer(models.localizer, inputs);
    const dims = inputs.venous.geometry.dims;
    const voxels = dims[0] * dims[1] * dims[2];
    const shifts = spec.averageShifts!;
    expect(shifts.length).to.equal(2);
    const volume = new Float32Array(2 * voxels);
    volume.set(inputs.arterial.data, 0);
    volume.set(inputs.venous.data, voxels);
    const raw = await models.localizer.session.run({ volume: new ort.Tensor('float32', shiftedBatch(volume, dims, 2, shifts), [2, 2, dims[2], dims[1], dims[0]]) });
    const expected = meanShiftedBack(raw.probability.data as Float32Array, dims, 3, shifts);
    expect(Array.from(out.grids.arterial.data)).to.deep.equal(Array.from(expected.subarray(0, voxels)));
    expect(Array.from(out.grids.venous.data)).to.deep.equal(Array.from(expected.subarray(voxels, 2 * voxels)));
    expect(Array.from(out.pancreas.data)).to.deep.equal(Array.from(expected.subarray(2 * voxels)));
    expect(out.venousByShift).to.have.length(2);
    for (let n = 0; n < voxels; n += 97) expect(out.grids.venous.data[n]).to.be.closeTo((out.venousByShift[0][n] + out.venousByShift[1][n]) / 2, 1e-6);
  });

  it('the calibrated twin: confidence = sigmoid(-2 + peakLogit + 2 pancreasOverlap)', async () => {
    let trace: CascadeTrace | undefined;
    const { analysis } = await analyseStudy(calibrated, study(), { onCascade: (t) => (trace = t) });
    const f = trace!.decision!.features!;
    expect(analysis.tumour.confidenceCalibrated).to.equal(true);
    expect(analysis.tumour.confidence).to.be.closeTo(sigmoid(-2 + f.peakLogit + 2 * f.pancreasOverlap), 1e-9);
    expect(f.shiftSpreadMm).to.be.a('number').and.to.be.at.least(0);
  });

  it('the pancreas stage joins the result identity (the UIDs hash every sha256 of the set)', async () => {
    const { analysis } = await analyseStudy(models, study());
    const ids = analysis.models.map((m) => m.sha256);
    expect(ids).to.include(models.pancreas!.identity.sha256);
    const withPancreas = resultIdentity({ studyInstanceUID: '2.25.100', inputSopInstanceUIDs: ['1.2'], modelSha256s: ids });
    const without = resultIdentity({ studyInstanceUID: '2.25.100', inputSopInstanceUIDs: ['1.2'], modelSha256s: ids.slice(1) });
    expect(withPancreas.key).to.not.equal(without.key);
  });

  it('refuses pancreas-not-found when stage 1 finds no gland', async () => {
    let trace: CascadeTrace | undefined;
    const input = { venous: volume({}, '2.25.2'), arterial: volume({}, '2.25.1') };
    const err = await refused(() => analyseStudy(models, input, { onCascade: (t) => (trace = t) }));
    expect(err.code).to.equal('pancreas-not-found');
    expect(err.message).to.contain('found no pancreas');
    expect(trace?.pancreas).to.not.equal(undefined);
    expect(trace?.roi).to.equal(undefined);
  });

  it('refuses tumour-not-found when the gland holds no tumour', async () => {
    const input = { venous: volume({ pancreas: GLAND }, '2.25.2'), arterial: volume({ pancreas: GLAND }, '2.25.1') };
    const err = await refused(() => analyseStudy(models, input));
    expect(err.code).to.equal('tumour-not-found');
    expect(err.details?.candidates).to.equal(0);
  });

  it('refuses tumour-not-found below the calibrated minConfidence, saying both numbers', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-cascade-'));
    try {
      for (const name of ['tsr-clip-fusion', 'tsr-pancreas-tiny', 'tsr-localizer-roi-tiny-calibrated']) {
        for (const ext of ['json', 'onnx']) copyFileSync(path.join(FIXTURES, `${name}.${ext}`), path.join(dir, `${name}.${ext}`));
      }
      const file = path.join(dir, 'tsr-localizer-roi-tiny-calibrated.json');
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { preprocessing: { localizer: { minConfidence: number } } };
      manifest.preprocessing.localizer.minConfidence = 0.9999;
      writeFileSync(file, JSON.stringify(manifest));
      const strict = await loadModelSet(config({ dir, localizer: 'tsr-localizer-roi-tiny-calibrated' }));
      try {
        const err = await refused(() => analyseStudy(strict, study()));
        expect(err.code).to.equal('tumour-not-found');
        expect(err.message).to.match(/calibrated localisation confidence is 0\.\d{3}, below the threshold 0\.9999/);
        expect(err.details?.features).to.have.keys(['peakLogit', 'meanProbability', 'pancreasOverlap', 'phaseDistanceMm', 'logVolumeMl', 'shiftSpreadMm']);
      } finally {
        await releaseModels(strict);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses phases-disagree when the arterial tumour lies far from the venous one', async () => {
    let trace: CascadeTrace | undefined;
    const err = await refused(() => analyseStudy(models, study([44, 0, 0]), { onCascade: (t) => (trace = t) }));
    expect(err.code, err.message).to.equal('phases-disagree');
    expect(trace!.decision!.features!.phaseDistanceMm).to.be.above(20);
    expect(err.details?.features).to.have.property('phaseDistanceMm');
  });
});

describe('inference/modelSet: loading the cascade pair', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-cascade-'));
    for (const name of ['tsr-clip-fusion', 'tsr-localizer', 'tsr-localizer-roi-tiny', 'tsr-pancreas-tiny']) {
      for (const ext of ['json', 'onnx']) copyFileSync(path.join(FIXTURES, `${name}.${ext}`), path.join(dir, `${name}.${ext}`));
    }
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function configError(c: ModelsConfig): Promise<ConfigError> {
    try {
      const set = await loadModelSet(c);
      await releaseModels(set);
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      return err as ConfigError;
    }
    expect.fail('the set was loaded');
  }

  it('loadLocalisation: the localiser with its pancreas model when it needs one (for the dataset builder)', async () => {
    const single = await loadLocalisation({ dir, localizer: 'tsr-localizer', pancreas: 'no-such-model', ...RUNTIME });
    expect(single.pancreas).to.equal(undefined);
    await releaseModels(single);
    const pair = await loadLocalisation({ dir, localizer: 'tsr-localizer-roi-tiny', pancreas: 'tsr-pancreas-tiny', ...RUNTIME });
    expect(pair.pancreas?.identity.name).to.equal('tsr-pancreas-tiny');
    await releaseModels(pair);
    try {
      await loadLocalisation({ dir, localizer: 'tsr-localizer-roi-tiny', ...RUNTIME });
      expect.fail('loaded without a pancreas model');
    } catch (err) {
      expect((err as Error).message).to.contain('none is configured');
    }
  });

  it('does not load models.pancreas for a single-stage localiser', async () => {
    const set = await loadModelSet({ ...config({ dir, localizer: 'tsr-localizer', pancreas: 'no-such-model' }) });
    try {
      expect(set.pancreas).to.equal(undefined);
    } finally {
      await releaseModels(set);
    }
  });

  it('refuses to start when the pancreas model is not configured or not there', async () => {
    const { pancreas: _p, ...noPancreas } = config({ dir });
    expect((await configError(noPancreas)).message).to.contain('needs the pancreas model tsr-pancreas-tiny 0.0.0-test').and.contain('none is configured');
    expect((await configError(config({ dir, pancreas: 'tsr-pancreas' }))).message).to.contain('manifest not found').and.contain('needs its pancreas model');
  });

  it('refuses to start when the pancreas model is not the one the localiser names', async () => {
    const file = path.join(dir, 'tsr-pancreas-tiny.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { version: string };
    manifest.version = '0.0.1-other';
    writeFileSync(file, JSON.stringify(manifest));
    const err = await configError(config({ dir }));
    expect(err.message).to.contain('differ in version').and.contain('install the pair together');
  });
});
