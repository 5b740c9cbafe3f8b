import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main';
import { buildDataset, DatasetBuildError } from '../../src/dataset/buildDataset';
import type { DatasetManifest } from '../../src/dataset/datasetManifest';
import { parseLabelsCsv } from '../../src/dataset/labels';
import { decodeNpy } from '../../src/dataset/npy';
import { DEFAULT_ROI_SPEC } from '../../src/dataset/roiSpec';
import { roiCentreFromMask } from '../../src/inference/roiFinding';
import { rasterisePancreasMask } from '../../src/synthetic';
import { extractCrop, localizerGridGeometry } from '../../src/inference/preprocessing';
import { cloneCropSpec, cloneLocalizerSpec, DEFAULT_CROP_SPEC, DEFAULT_LOCALIZER_SPEC } from '../../src/inference/specs';
import { itemWithoutTruth, type WorkerSettings } from '../../src/dataset/studyTasks';
import { indexToPatient, type Geometry, type Vec3 } from '../../src/study/geometry';
import type { HuVolume } from '../../src/study/volume';
import { assembleVolumeFromFiles } from '../../src/study/volumeAssembly';
import { generateStudy, LABELS_CSV_HEADER, labelsCsvRow, writeStudyToFolder, type SyntheticStudy } from '../../src/synthetic';

const SIZE = { columns: 96, slices: 30 };
const SEEDS = [11, 12, 13];

function readManifest(dir: string): DatasetManifest {
  return JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as DatasetManifest;
}

function npy(dir: string, file: string): Buffer {
  return readFileSync(path.join(dir, file));
}

describe('dataset build (synthetic seeds, synthetic folder, plain folder)', function () {
  this.timeout(180_000);
  let work: string;
  let studies: SyntheticStudy[];
  let bySeeds: DatasetManifest;
  const seedsDir = (): string => path.join(work, 'from-seeds');

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'tsr-dataset-'));
    // The same studies as a synth cohort folder (extra series included) with its labels.csv.
    studies = SEEDS.map((seed) => generateStudy({ seed, ...SIZE }));
    const cohort = path.join(work, 'cohort');
    studies.forEach((s, n) => writeStudyToFolder(s, path.join(cohort, `study-${n}`)));
    writeFileSync(path.join(cohort, 'labels.csv'), [LABELS_CSV_HEADER, ...studies.map((s) => labelsCsvRow(s.groundTruth))].join('\n') + '\n');
    bySeeds = (await buildDataset({ source: { kind: 'synthetic-seeds', from: SEEDS[0], to: SEEDS[2], ...SIZE }, outDir: seedsDir(), workers: 2, progress: false })).manifest;
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('writes one item per seed with label, findings text, oracle and the specs', () => {
    expect(bySeeds.schema).to.equal('tsr-node/dataset@2');
    expect(bySeeds.roi).to.deep.equal(DEFAULT_ROI_SPEC);
    expect(bySeeds.crop).to.deep.equal(DEFAULT_CROP_SPEC);
    expect(bySeeds.localizer).to.deep.equal(DEFAULT_LOCALIZER_SPEC);
    expect(bySeeds.labelDefinition).to.match(/stroma/);
    expect(bySeeds.items.map((i) => i.id)).to.deep.equal(studies.map((s) => s.studyInstanceUID));
    bySeeds.items.forEach((item, n) => {
      const truth = studies[n].groundTruth;
      expect(item.label).to.equal(truth.tumour.label);
      expect(item.labelIndex).to.equal(truth.tumour.label === 'high' ? 1 : 0);
      expect(item.findingsText).to.equal(truth.findingsText);
      expect(item.oracle?.fused).to.equal(truth.tumour.oracle.fused);
      expect(item.provenance?.seed).to.equal(SEEDS[n]);
    });
    expect(bySeeds.skipped).to.deep.equal([]);
  });

  it('holds exactly the shared preprocessing of the assembled Part-10 volumes at the ground-truth centre', async () => {
    const study = studies[1];
    const truth = study.groundTruth;
    const files = study.files.filter((f) => f.seriesInstanceUID === truth.phases.arterial.seriesInstanceUID).map((f) => Buffer.from(f.bytes));
    const arterial = await assembleVolumeFromFiles(files);
    const expected = extractCrop(arterial, truth.phases.arterial.tumourCentre, DEFAULT_CROP_SPEC);
    const written = decodeNpy(npy(seedsDir(), bySeeds.items[1].crops.arterial));
    expect(written.shape).to.deep.equal([3, 64, 64]);
    expect(Buffer.from(written.data.buffer).equals(Buffer.from(expected.buffer))).to.be.true;
  });

  it('writes localiser grids [Z, Y, X] with the tumour mask around the ground-truth centre', async () => {
    const item = bySeeds.items[0];
    const truth = studies[0].groundTruth;
    const grid = decodeNpy(npy(seedsDir(), item.localizer!.venous));
    const mask = decodeNpy(npy(seedsDir(), item.localizer!.venousTarget));
    expect(grid.descr).to.equal('<f4');
    expect(grid.shape).to.deep.equal([48, 96, 96]);
    expect(mask.descr).to.equal('|u1');
    expect(mask.shape).to.deep.equal([48, 96, 96]);
    // The mask's centroid, in patient mm, lies near the venous tumour centre.
    const venous = await assembleVolumeFromFiles(studies[0].files.filter((f) => f.seriesInstanceUID === truth.phases.venous.seriesInstanceUID).map((f) => Buffer.from(f.bytes)));
    const g = localizerGridGeometry(venous.geometry, DEFAULT_LOCALIZER_SPEC);
    let n = 0;
    const sum = [0, 0, 0];
    mask.data.forEach((m, v) => {
      if (!m) return;
      n++;
      sum[0] += v % 96;
      sum[1] += Math.floor(v / 96) % 96;
      sum[2] += Math.floor(v / (96 * 96));
    });
    expect(n).to.be.above(20);
    const centroid = indexToPatient(g, sum[0] / n, sum[1] / n, sum[2] / n);
    const centre = truth.phases.venous.tumourCentre;
    expect(Math.hypot(centroid[0] - centre[0], centroid[1] - centre[1], centroid[2] - centre[2])).to.be.below(6);
  });

  it('writes the venous pancreas target on the coarse grid and the ROI around it (@2)', async () => {
    const item = bySeeds.items[0];
    const truth = studies[0].groundTruth;
    const venous = await assembleVolumeFromFiles(studies[0].files.filter((f) => f.seriesInstanceUID === truth.phases.venous.seriesInstanceUID).map((f) => Buffer.from(f.bytes)));
    const coarse = localizerGridGeometry(venous.geometry, DEFAULT_LOCALIZER_SPEC);
    const pancreas = decodeNpy(npy(seedsDir(), item.localizer!.pancreasTarget!));
    expect(pancreas.shape).to.deep.equal([48, 96, 96]);
    const expected = rasterisePancreasMask({ seed: SEEDS[0], extras: 'none', ...SIZE }, 'venous', coarse);
    expect(Buffer.from(pancreas.data.buffer).equals(Buffer.from(expected.buffer))).to.be.true;
    // The tumour lies in the pancreas: every tumour voxel of the coarse target is pancreas too.
    const tumour = decodeNpy(npy(seedsDir(), item.localizer!.venousTarget));
    let outside = 0;
    tumour.data.forEach((t, v) => (outside += t && !pancreas.data[v] ? 1 : 0));
    expect(outside).to.equal(0);
    // The ROI is centred on the pancreas box by the node's rule (roiCentreFromMask), moved by at most the jitter, and holds the tumour.
    const roi = item.roi!;
    const boxCentre = roiCentreFromMask(expected, coarse)!;
    roi.jitterMm.forEach((j, a) => {
      expect(Math.abs(j)).to.be.at.most(DEFAULT_ROI_SPEC.jitterMm);
      expect(roi.centreMm[a]).to.be.closeTo(boxCentre[a] + j, 0.01);
    });
    const [gx, gy, gz] = DEFAULT_ROI_SPEC.gridSize;
    for (const file of [roi.arterial, roi.venous]) expect(decodeNpy(npy(seedsDir(), file)).shape).to.deep.equal([gz, gy, gx]);
    const roiTumour = decodeNpy(npy(seedsDir(), roi.venousTarget)).data;
    const roiPancreas = decodeNpy(npy(seedsDir(), roi.pancreasTarget)).data;
    const count = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0);
    expect(count(roiTumour)).to.be.above(50);
    expect(count(roiPancreas)).to.be.above(count(roiTumour));
  });

  it('is read by the training kit (models/training/dataset.py) as written', () => {
    const script = [
      'import sys',
      "sys.path.insert(0, 'models/training')",
      'from dataset import Dataset',
      'd = Dataset(sys.argv[1])',
      'c = d.load_crops(d.items)',
      "print(len(d.items), c['venous'].shape, d.localizer_shape)",
    ].join('\n');
    const r = spawnSync('/usr/bin/python3', ['-c', script, seedsDir()], { encoding: 'utf8' });
    expect(r.stderr).to.equal('');
    expect(r.stdout.trim()).to.equal('3 (3, 3, 64, 64) (48, 96, 96)');
  });

  it('gives bit-identical crops from the synth folder (with its extra series) as from the seeds', async () => {
    const out = path.join(work, 'from-folder');
    const { manifest } = await buildDataset({ source: { kind: 'folder', dir: path.join(work, 'cohort'), useGroundTruth: true }, outDir: out, workers: 2, progress: false });
    expect(manifest.items).to.have.length(3);
    for (const item of manifest.items) {
      const twin = bySeeds.items.find((i) => i.id === item.id)!;
      for (const phase of ['arterial', 'venous'] as const) {
        expect(npy(out, item.crops[phase]).equals(npy(seedsDir(), twin.crops[phase])), `${phase} crop of ${item.id}`).to.be.true;
      }
      expect(npy(out, item.localizer!.arterialTarget).equals(npy(seedsDir(), twin.localizer!.arterialTarget))).to.be.true;
    }
  });

  it('reads a folder without ground truth: the node picks the phases, the CSV gives label and centre', async () => {
    const out = path.join(work, 'plain');
    const plain = path.join(work, 'plain-cohort');
    mkdirSync(plain);
    const study = studies[2];
    writeStudyToFolder(study, path.join(plain, 'a'));
    rmSync(path.join(plain, 'a', 'ground-truth.json'));
    const csv = path.join(work, 'plain.csv');
    writeFileSync(csv, `${labelsCsvRow(study.groundTruth)}\n2.25.999,low\n`);
    const labels = parseLabelsCsv(readFileSync(csv, 'utf8'));
    const { manifest } = await buildDataset({ source: { kind: 'folder', dir: plain, labels, useGroundTruth: false }, outDir: out, workers: 1, progress: false });
    expect(manifest.items).to.have.length(1);
    const item = manifest.items[0];
    expect(item.label).to.equal(study.groundTruth.tumour.label);
    expect(item.localizer).to.equal(undefined);
    expect(item.provenance?.centreSource).to.equal('labels-csv');
    expect(item.provenance?.seriesInstanceUIDs).to.deep.equal({
      arterial: study.groundTruth.phases.arterial.seriesInstanceUID,
      venous: study.groundTruth.phases.venous.seriesInstanceUID,
    });
    expect(manifest.skipped).to.deep.equal([{ id: '2.25.999', code: 'study-not-found', reason: `no study folder under ${plain} holds it` }]);
  });

  it('localises the tumour with the node’s localiser when the CSV gives no centre', async () => {
    const plain = path.join(work, 'plain-cohort');
    const study = studies[2];
    const labels = parseLabelsCsv(`${study.studyInstanceUID},${study.groundTruth.tumour.label}\n`);
    const models = { dir: path.resolve(__dirname, '../fixtures/tiny-models'), classifier: 'tsr-clip-fusion', localizer: 'tsr-localizer', intraOpThreads: 1, executionProvider: 'cpu' as const };
    const { manifest } = await buildDataset({ source: { kind: 'folder', dir: plain, labels, useGroundTruth: false }, outDir: path.join(work, 'plain-localised'), models, progress: false });
    expect(manifest.items).to.have.length(1);
    expect(manifest.items[0].provenance?.centreSource).to.equal('localiser');
  });

  it('localises with a two-stage localiser too: loads its pancreas stage (tiny fixture pair) and takes the cascade\'s centres', async () => {
    // The body of test/unit/inference/cascadeAnalysis.test.ts: a 100 HU gland with a bright tumour,
    // which tsr-pancreas-tiny and tsr-localizer-roi-tiny find (venous at (20, 0, 0), arterial at (23, 2, 0)).
    const g: Geometry = { dims: [128, 128, 48], spacing: [2.5, 2.5, 3], origin: [-158.75, -158.75, -70.5], rowDirection: [1, 0, 0], columnDirection: [0, 1, 0], normal: [0, 0, 1] };
    const volume = (series: string, tumour: Vec3, hu: number): HuVolume => {
      const data = new Float32Array(128 * 128 * 48).fill(40);
      for (let n = 0; n < data.length; n++) {
        const p = indexToPatient(g, n % 128, Math.floor(n / 128) % 128, Math.floor(n / (128 * 128)));
        if (Math.abs(p[0]) <= 60 && Math.abs(p[1]) <= 30 && Math.abs(p[2]) <= 30) data[n] = 100;
        if (Math.hypot(p[0] - tumour[0], p[1] - tumour[1], p[2] - tumour[2]) <= 15) data[n] = hu;
      }
      const sopInstanceUIDs = Array.from({ length: 48 }, (_, k) => `${series}.${k + 1}`);
      return { geometry: g, data, sopInstanceUIDs, seriesInstanceUID: series, studyInstanceUID: '2.25.100', frameOfReferenceUID: '2.25.200' };
    };
    const volumes = { venous: volume('2.25.2', [20, 0, 0], 250), arterial: volume('2.25.1', [23, 2, 0], 280) };
    const outDir = path.join(work, 'two-stage');
    mkdirSync(outDir);
    const models = { dir: path.resolve(__dirname, '../fixtures/tiny-models'), classifier: 'tsr-clip-fusion', localizer: 'tsr-localizer-roi-tiny', pancreas: 'tsr-pancreas-tiny', intraOpThreads: 1, executionProvider: 'cpu' as const };
    const settings: WorkerSettings = { outDir, crop: cloneCropSpec(), localizer: cloneLocalizerSpec(), useGroundTruth: false, models };
    const item = await itemWithoutTruth(0, volumes, 'high', undefined, settings);
    expect(item.provenance?.centreSource).to.equal('localiser');
    const centres = item.provenance!.centresMm;
    expect(Math.hypot(centres.venous[0] - 20, centres.venous[1], centres.venous[2])).to.be.below(4);
    expect(Math.hypot(centres.arterial[0] - 23, centres.arterial[1] - 2, centres.arterial[2])).to.be.below(4);
    // Without its pancreas model the two-stage localiser is refused, naming the stage it needs.
    const alone = { ...models, pancreas: undefined };
    const other = path.join(work, 'two-stage-alone');
    mkdirSync(other);
    try {
      await itemWithoutTruth(0, volumes, 'high', undefined, { ...settings, outDir: other, models: alone });
      expect.fail('localised without the pancreas stage');
    } catch (err) {
      expect((err as Error).message).to.contain('tsr-pancreas-tiny');
    }
  });

  it('refuses held-out evaluation seeds and a non-empty output folder', async () => {
    try {
      await buildDataset({ source: { kind: 'synthetic-seeds', from: 999_999, to: 1_000_001 }, outDir: path.join(work, 'never'), progress: false });
      expect.fail('built a dataset from evaluation seeds');
    } catch (err) {
      expect((err as Error).message).to.match(/training seeds must be below 1000000/);
    }
    try {
      await buildDataset({ source: { kind: 'synthetic-seeds', from: 1, to: 1 }, outDir: seedsDir(), progress: false });
      expect.fail('wrote into a non-empty folder');
    } catch (err) {
      expect(err).to.be.instanceOf(DatasetBuildError);
    }
  });

  it('runs as `tsr-node dataset build` and prints the manifest path', async () => {
    const out = path.join(work, 'cli');
    const printed: string[] = [];
    const log = console.log;
    const error = console.error;
    console.log = (s: string) => printed.push(s);
    console.error = () => undefined;
    let code: number;
    try {
      code = await main(['dataset', 'build', '--synthetic-seeds', '21..21', '--columns', '64', '--slices', '20', '--out', out, '--workers', '1', '--no-progress']);
    } finally {
      console.log = log;
      console.error = error;
    }
    expect(code).to.equal(0);
    expect(printed).to.deep.equal([path.join(out, 'manifest.json')]);
    expect(readManifest(out).items).to.have.length(1);
  });
});
