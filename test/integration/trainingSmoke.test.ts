import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelManifest } from '../../src/inference/manifest';
import { PROJECT_ROOT } from '../../src/paths';
import { compareCase, readParityFixture, sha256File } from '../harness/onnxParity';

// Debian's Python: the one with torch and onnx (the first python3 on PATH has neither).
const PYTHON = '/usr/bin/python3';
const KIT = path.join(PROJECT_ROOT, 'models', 'training');

function python(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(PYTHON, args, { cwd: PROJECT_ROOT, encoding: 'utf8', env: { ...process.env, TSR_TRAIN_THREADS: process.env.TSR_TRAIN_THREADS ?? '2' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CLASSIFIERS: Record<string, string[]> = {
  'tsr-clip-fusion': ['arterial', 'venous'],
  'tsr-clip-arterial': ['arterial'],
  'tsr-clip-venous': ['venous'],
};

describe('training kit: smoke run of every stage on a toy dataset (models/training/train.py --smoke)', function () {
  this.timeout(180_000);
  let dir: string;
  let out: string;
  let parity: string;
  let dataset: { crop: Record<string, unknown>; localizer: Record<string, unknown> & { gridSize: [number, number, number] };
    roi: Record<string, unknown> & { gridSize: [number, number, number] } };

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-train-smoke-'));
    out = path.join(dir, 'models');
    parity = path.join(dir, 'parity');
    // A tsr-node/dataset@2 toy: the coarse grid (stage 1, pancreas) and the ROI grid (stage 2, tumour).
    const toy = python([path.join(KIT, 'toy_dataset.py'), '--out', path.join(dir, 'toy'), '--count', '24', '--seed', '7', '--grid', '32,32,16',
      '--roi-grid', '32,24,16']);
    expect(toy.status, toy.stderr).to.equal(0);
    dataset = JSON.parse(readFileSync(path.join(dir, 'toy', 'manifest.json'), 'utf8'));
    const run = python([path.join(KIT, 'train.py'), 'all', '--smoke', '--dataset', path.join(dir, 'toy'), '--out', out,
      '--run-dir', path.join(dir, 'run'), '--parity-dir', parity]);
    expect(run.status, run.stderr).to.equal(0);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const names = [...Object.keys(CLASSIFIERS), 'tsr-pancreas', 'tsr-localizer'];
  const grid = (spec: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(['voxelMm', 'gridSize', 'huWindow', 'normalisation', 'outsideHu'].map((k) => [k, spec[k]]));

  it('writes five ONNX files with manifests that match them (the cascade: pancreas, then the tumour on the ROI)', () => {
    for (const name of names) {
      const manifest = JSON.parse(readFileSync(path.join(out, `${name}.json`), 'utf8')) as ModelManifest;
      expect(manifest.schema).to.equal('tsr-node/model-manifest@1');
      expect(manifest.name).to.equal(name);
      expect(manifest.file).to.equal(`${name}.onnx`);
      expect(manifest.sha256).to.equal(sha256File(path.join(out, manifest.file)));
      expect(manifest.opset).to.equal(17);
      expect(manifest.intendedUse).to.match(/research use only, not for clinical use/);
      expect(manifest.trainedOn).to.match(/TOY dataset/);
      expect(Date.parse(manifest.createdAt)).to.be.a('number').and.not.NaN;
      // The manifests' new fields (the contract's) are read as plain JSON here.
      const pre = manifest.preprocessing as unknown as Record<string, Record<string, unknown>>;
      if (name === 'tsr-pancreas') {
        const [x, y, z] = dataset.localizer.gridSize;
        expect(manifest.kind).to.equal('pancreas');
        expect(manifest.version).to.equal('0.5.0');
        expect(manifest.preprocessing.phases).to.deep.equal(['venous']);
        expect(manifest.inputs).to.deep.equal([{ name: 'volume', shape: ['batch', 1, z, y, x], dtype: 'float32' }]);
        expect(manifest.outputs).to.deep.equal([{ name: 'probability', shape: ['batch', 1, z, y, x], dtype: 'float32' }]);
        expect(pre.pancreas).to.deep.equal({ ...grid(dataset.localizer), threshold: 0.5, minVolumeMl: 5 });
      } else if (name === 'tsr-localizer') {
        const [x, y, z] = dataset.roi.gridSize;
        expect(manifest.kind).to.equal('localizer');
        expect(manifest.version).to.equal('0.5.0');
        // Both phases in; tumour per phase and the pancreas out; on the ROI grid.
        expect(manifest.preprocessing.phases).to.deep.equal(['arterial', 'venous']);
        expect(manifest.inputs).to.deep.equal([{ name: 'volume', shape: ['batch', 2, z, y, x], dtype: 'float32' }]);
        expect(manifest.outputs).to.deep.equal([{ name: 'probability', shape: ['batch', 3, z, y, x], dtype: 'float32' }]);
        const pancreas = JSON.parse(readFileSync(path.join(out, 'tsr-pancreas.json'), 'utf8')) as ModelManifest;
        // The ROI grid spec, the shift averaging, the stage-1 model it needs; no fitted confidence yet.
        expect(pre.localizer).to.deep.equal({
          ...grid(dataset.roi), minConfidence: 0.5, averageShifts: [[0, 0, 0], [1, 1, 1]],
          roi: { centredOn: 'pancreas', pancreasModel: { name: 'tsr-pancreas', version: '0.5.0', sha256: pancreas.sha256 },
            candidateLevel: 0.5, minPancreasOverlap: 0.3, pancreasDilationMm: 6, maxPhaseDistanceMm: 20 },
        });
      } else {
        const phases = CLASSIFIERS[name];
        expect(manifest.kind).to.equal('classifier');
        expect(manifest.preprocessing.phases).to.deep.equal(phases);
        // The dataset's crop spec, plus the crop averaging the node is to apply.
        expect(manifest.preprocessing.crop).to.deep.equal({ ...dataset.crop, averageShifts: [[0, 0], [4, 0], [-4, 0], [0, 4], [0, -4]] });
        expect(manifest.inputs.map((i) => i.name)).to.deep.equal(phases);
        for (const i of manifest.inputs) expect(i.shape).to.deep.equal(['batch', 3, 64, 64]);
        expect(manifest.outputs.map((o) => o.name)).to.deep.equal(['probabilities', ...phases.map((p) => `saliency_${p}`)]);
        expect(manifest.classLabels).to.deep.equal(['low', 'high']);
        expect(manifest.threshold).to.be.within(0, 1);
        expect(manifest.labelDefinition).to.match(/stroma/);
      }
    }
  });

  it('passes onnx.checker (full check)', () => {
    const files = names.map((n) => path.join(out, `${n}.onnx`));
    const r = python(['-c', 'import onnx, sys\nfor p in sys.argv[1:]: onnx.checker.check_model(onnx.load(p), full_check=True)\nprint("ok", len(sys.argv) - 1)', ...files]);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout.trim()).to.equal('ok 5');
  });

  it('loads in onnxruntime-node with the declared names and shapes, and runs a batch of 2', async () => {
    for (const name of names) {
      const manifest = JSON.parse(readFileSync(path.join(out, `${name}.json`), 'utf8')) as ModelManifest;
      const session = await ort.InferenceSession.create(path.join(out, manifest.file), { intraOpNumThreads: 1 });
      try {
        expect(session.inputNames).to.deep.equal(manifest.inputs.map((i) => i.name));
        expect(session.outputNames).to.deep.equal(manifest.outputs.map((o) => o.name));
        for (const [k, meta] of session.inputMetadata.entries()) {
          expect(meta.isTensor && meta.shape).to.deep.equal(manifest.inputs[k].shape);
        }
        const feeds: Record<string, ort.Tensor> = {};
        for (const input of manifest.inputs) {
          const dims = input.shape.map((d) => (typeof d === 'string' ? 2 : d));
          const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.01));
          feeds[input.name] = new ort.Tensor('float32', data, dims);
        }
        const result = await session.run(feeds);
        for (const o of manifest.outputs) {
          expect(result[o.name].dims).to.deep.equal(o.shape.map((d) => (typeof d === 'string' ? 2 : d)));
        }
        if (manifest.kind === 'classifier') {
          const p = result.probabilities.data as Float32Array;
          expect(p[0] + p[1]).to.be.closeTo(1, 1e-5);
          expect(p[2] + p[3]).to.be.closeTo(1, 1e-5);
        }
      } finally {
        await session.release();
      }
    }
  });

  it('writes a parity fixture that onnxruntime-node reproduces within 1e-4', async () => {
    expect(existsSync(path.join(parity, 'parity.json'))).to.be.true;
    const fixture = readParityFixture(parity);
    expect(fixture.cases.map((c) => c.case)).to.deep.equal(['fusion', 'fusion-shifted', 'venous', 'pancreas', 'localizer']);
    for (const c of fixture.cases) {
      const r = await compareCase(parity, c);
      for (const o of r.outputs) expect(o.maxAbsDiff, `${c.case}/${o.name}`).to.be.at.most(fixture.tolerance);
    }
  });

  it('keeps the whole-volume localiser (0.4.0, no pancreas model) on a tsr-node/dataset@1 dataset', () => {
    const toy1 = path.join(dir, 'toy1');
    const out1 = path.join(dir, 'models-at1');
    const toy = python([path.join(KIT, 'toy_dataset.py'), '--out', toy1, '--count', '12', '--seed', '3', '--grid', '32,32,16', '--schema', '1']);
    expect(toy.status, toy.stderr).to.equal(0);
    const run = python([path.join(KIT, 'train.py'), 'all', '--smoke', '--dataset', toy1, '--out', out1, '--run-dir', path.join(dir, 'run-at1')]);
    expect(run.status, run.stderr).to.equal(0);
    const at1 = JSON.parse(readFileSync(path.join(toy1, 'manifest.json'), 'utf8')) as { localizer: { gridSize: [number, number, number] } };
    const manifest = JSON.parse(readFileSync(path.join(out1, 'tsr-localizer.json'), 'utf8')) as ModelManifest;
    const [x, y, z] = at1.localizer.gridSize;
    expect(manifest.version).to.equal('0.4.0');
    expect(manifest.outputs).to.deep.equal([{ name: 'probability', shape: ['batch', 2, z, y, x], dtype: 'float32' }]);
    expect(manifest.preprocessing.localizer).to.deep.equal({ ...at1.localizer, averageShifts: [[0, 0, 0], [1, 1, 1]] });
    expect(existsSync(path.join(out1, 'tsr-pancreas.onnx'))).to.be.false;
  });

  it('trains and exports the localiser stages alone (--localizer-only): the classifiers in --out and their parity cases stay as they are', async () => {
    const toy = path.join(dir, 'toy');
    const runLo = path.join(dir, 'run-lo');
    const outLo = path.join(dir, 'models-lo');
    const parityLo = path.join(dir, 'parity-lo');
    const common = ['--smoke', '--dataset', toy, '--run-dir', runLo];
    for (const stage of ['train-pancreas', 'train-localizer']) {
      const r = python([path.join(KIT, 'train.py'), stage, ...common]);
      expect(r.status, r.stderr).to.equal(0);
    }
    expect(existsSync(path.join(runLo, 'clip.pt'))).to.be.false;
    expect(existsSync(path.join(runLo, 'classifier_fusion.pt'))).to.be.false;
    // --out already holds classifiers (the smoke run's), and the parity folder their cases (models at ../models/).
    mkdirSync(outLo);
    const classifierFiles = Object.keys(CLASSIFIERS).flatMap((n) => [`${n}.onnx`, `${n}.json`]);
    for (const f of classifierFiles) copyFileSync(path.join(out, f), path.join(outLo, f));
    const bytes = (): Buffer[] => classifierFiles.map((f) => readFileSync(path.join(outLo, f)));
    const before = bytes();
    cpSync(parity, parityLo, { recursive: true });
    const earlier = readParityFixture(parityLo);
    const kept = earlier.cases.filter((c) => !['tsr-localizer.onnx', 'tsr-pancreas.onnx'].includes(path.basename(c.model)));
    expect(kept.map((c) => c.case)).to.deep.equal(['fusion', 'fusion-shifted', 'venous']);
    const keptFiles = kept.flatMap((c) => [...c.inputs.map((i) => i.file), ...c.outputs.map((o) => o.file)]);
    const keptBytes = keptFiles.map((f) => readFileSync(path.join(parityLo, f)));
    const exportLo = (): void => {
      const r = python([path.join(KIT, 'train.py'), 'export', '--localizer-only', ...common, '--out', outLo, '--parity-dir', parityLo]);
      expect(r.status, r.stderr).to.equal(0);
      bytes().forEach((b, k) => expect(b.equals(before[k]), classifierFiles[k]).to.be.true);
    };
    exportLo();
    const pancreas = JSON.parse(readFileSync(path.join(outLo, 'tsr-pancreas.json'), 'utf8')) as ModelManifest;
    const localizer = JSON.parse(readFileSync(path.join(outLo, 'tsr-localizer.json'), 'utf8')) as ModelManifest;
    for (const m of [pancreas, localizer]) {
      expect(m.version).to.equal('0.5.0');
      expect(m.sha256).to.equal(sha256File(path.join(outLo, m.file)));
      expect(m.trainedOn).to.match(/^TOY dataset .*Dataset toy, 24 studies/);
    }
    expect([pancreas.kind, localizer.kind]).to.deep.equal(['pancreas', 'localizer']);
    type LocalizerSpec = { minConfidence: number; roi: { pancreasModel: { sha256: string } }; confidence?: { weights: number[]; fittedOn: string } };
    const specOf = (m: ModelManifest): LocalizerSpec => (m.preprocessing as unknown as { localizer: LocalizerSpec }).localizer;
    expect(specOf(localizer).roi.pancreasModel.sha256).to.equal(pancreas.sha256);
    expect(specOf(localizer).confidence).to.equal(undefined);
    // The parity fixture: the classifier cases as they were (entries and files), the cascade's new.
    const fixture = readParityFixture(parityLo);
    expect(fixture.cases.map((c) => c.case)).to.deep.equal(['fusion', 'fusion-shifted', 'venous', 'pancreas', 'localizer']);
    expect(fixture.cases.slice(0, 3)).to.deep.equal(kept);
    keptFiles.forEach((f, k) => expect(readFileSync(path.join(parityLo, f)).equals(keptBytes[k]), f).to.be.true);
    expect(fixture.cases[4].sha256).to.equal(localizer.sha256);
    for (const c of fixture.cases) {
      const r = await compareCase(parityLo, c);
      for (const o of r.outputs) expect(o.maxAbsDiff, `${c.case}/${o.name}`).to.be.at.most(fixture.tolerance);
    }

    // calibrate --localizer-only: the localisation confidence from a small evaluation of these very models.
    const sha = (name: string): string => (JSON.parse(readFileSync(path.join(outLo, `${name}.json`), 'utf8')) as ModelManifest).sha256;
    const models: Record<string, { name: string; version: string; sha256: string }> = {
      localizer: { name: 'tsr-localizer', version: '0.5.0', sha256: localizer.sha256 },
      pancreas: { name: 'tsr-pancreas', version: '0.5.0', sha256: pancreas.sha256 },
      fused: { name: 'tsr-clip-fusion', version: '0.0.0', sha256: sha('tsr-clip-fusion') },
    };
    const cases = Array.from({ length: 30 }, (_, i) => {
      const peakLogit = -4 + 12 * ((i * 0.381966 + 0.05) % 1);
      const v = (i * 0.570929 + 0.3) % 1;
      return { seed: i, label: i % 2 ? 'high' : 'low', analysed: true, localisation: {
        features: { peakLogit, meanProbability: 0.7, pancreasOverlap: (i % 5) / 4, phaseDistanceMm: (i % 7) * 2, logVolumeMl: Math.log(2 + (i % 9)), shiftSpreadMm: (i % 3) * 0.5 },
        insideTumour: v < 1 / (1 + Math.exp(-2 * (peakLogit - 1))) } };
    });
    const evaluation = path.join(dir, 'evaluation-lo');
    mkdirSync(evaluation);
    writeFileSync(path.join(evaluation, 'cases.json'), JSON.stringify(cases));
    const calibrate = (): ReturnType<typeof python> =>
      python([path.join(KIT, 'train.py'), 'calibrate', '--localizer-only', ...common, '--out', outLo, '--evaluation', evaluation]);
    // An evaluation of another localiser is refused.
    writeFileSync(path.join(evaluation, 'evaluation.json'), JSON.stringify({ seeds: { from: 0, to: 29 }, models: { ...models, localizer: { ...models.localizer, sha256: '0'.repeat(64) } } }));
    const refused = calibrate();
    expect(refused.status).to.not.equal(0);
    expect(refused.stderr).to.match(/evaluate the models you calibrate/);
    expect(existsSync(path.join(runLo, 'calibration.json'))).to.be.false;
    writeFileSync(path.join(evaluation, 'evaluation.json'), JSON.stringify({ seeds: { from: 0, to: 29 }, models }));
    const cal = calibrate();
    expect(cal.status, cal.stderr).to.equal(0);
    type Localisation = { minConfidence: number; confidence: { weights: number[] }; checkpointSha256: string };
    const fitted = JSON.parse(readFileSync(path.join(runLo, 'calibration.json'), 'utf8')) as { localisation: Localisation };
    expect(Object.keys(fitted)).to.deep.equal(['localisation']);
    expect(fitted.localisation.checkpointSha256).to.equal(sha256File(path.join(runLo, 'localizer.pt')));
    exportLo();
    const after = specOf(JSON.parse(readFileSync(path.join(outLo, 'tsr-localizer.json'), 'utf8')) as ModelManifest);
    expect(after.confidence?.weights).to.deep.equal(fitted.localisation.confidence.weights);
    expect(after.confidence?.fittedOn).to.match(/seeds 0\.\.29, 30 studies/);
    expect(after.minConfidence).to.equal(fitted.localisation.minConfidence);
    expect(readParityFixture(parityLo).cases.slice(0, 3)).to.deep.equal(kept);
  });

  it('trains on from a stage checkpoint (--pancreas-init, --localizer-init) and refuses one of the wrong kind', () => {
    const toy = path.join(dir, 'toy');
    const runOn = path.join(dir, 'run-on');
    const common = ['--smoke', '--dataset', toy, '--run-dir', runOn];
    const on = [
      python([path.join(KIT, 'train.py'), 'train-pancreas', ...common, '--pancreas-init', path.join(dir, 'run', 'pancreas.pt')]),
      python([path.join(KIT, 'train.py'), 'train-localizer', ...common, '--localizer-init', path.join(dir, 'run', 'localizer.pt')]),
    ];
    for (const r of on) expect(r.status, r.stderr).to.equal(0);
    expect(on[0].stdout + on[0].stderr).to.contain('train-pancreas: starting from');
    expect(on[1].stdout + on[1].stderr).to.contain('train-localizer: starting from');
    expect(existsSync(path.join(runOn, 'pancreas.pt'))).to.be.true;
    // A pancreas checkpoint is not a tumour model.
    const wrong = python([path.join(KIT, 'train.py'), 'train-localizer', ...common, '--localizer-init', path.join(dir, 'run', 'pancreas.pt')]);
    expect(wrong.status).to.not.equal(0);
    expect(wrong.stderr + wrong.stdout).to.contain('not an ROI localiser');
  });

  it('refuses to recalibrate on too few analysed studies, with the reason', () => {
    const name = 'tsr-clip-fusion';
    const m = JSON.parse(readFileSync(path.join(out, `${name}.json`), 'utf8')) as ModelManifest;
    const models = Object.fromEntries(['fused', 'arterial', 'venous'].map((role) => [role, { name, version: m.version, sha256: m.sha256 }]));
    const cases = Array.from({ length: 12 }, (_, i) => ({ seed: i, label: i % 2 ? 'high' : 'low', analysed: true, probabilities: { fused: i % 2 ? 0.9 : 0.1, arterial: 0.5, venous: 0.5 } }));
    const evaluation = path.join(dir, 'evaluation-small');
    mkdirSync(evaluation);
    writeFileSync(path.join(evaluation, 'evaluation.json'), JSON.stringify({ seeds: { from: 0, to: 11 }, models }));
    writeFileSync(path.join(evaluation, 'cases.json'), JSON.stringify(cases));
    const run = path.join(dir, 'run');
    const cal = python([path.join(KIT, 'train.py'), 'calibrate', '--smoke', '--dataset', path.join(dir, 'toy'), '--run-dir', run, '--out', out, '--evaluation', evaluation]);
    expect(cal.status).to.not.equal(0);
    expect(cal.stderr).to.match(/12 analysed studies; the recalibration needs at least 100/);
    expect(existsSync(path.join(run, 'calibration.json'))).to.be.false;
  });

  it('recalibrates the classifiers on `tsr-node evaluate` output and bakes it into a new export', async () => {
    // An evaluation of the smoke models (plain data in the files `tsr-node evaluate` writes): the
    // labels follow sigmoid(logit(p) / 2), i.e. the models are twice too confident.
    const roles = { fused: 'tsr-clip-fusion', arterial: 'tsr-clip-arterial', venous: 'tsr-clip-venous' } as const;
    const models: Record<string, { name: string; version: string; sha256: string }> = Object.fromEntries(Object.entries(roles).map(([role, name]) => {
      const m = JSON.parse(readFileSync(path.join(out, `${name}.json`), 'utf8')) as ModelManifest;
      return [role, { name, version: m.version, sha256: m.sha256 }];
    }));
    const cases = Array.from({ length: 400 }, (_, i) => {
      const p = 0.02 + (0.96 * ((i * 0.618034) % 1));
      const truth = 1 / (1 + Math.exp(-Math.log(p / (1 - p)) / 2));
      const u = (i * 0.754877 + 0.1) % 1;
      // The cascade's localisation features (contract): inside the tumour more often the higher the peak.
      const peakLogit = -4 + 12 * ((i * 0.381966 + 0.05) % 1);
      const v = (i * 0.570929 + 0.3) % 1;
      const localisation = {
        features: { peakLogit, meanProbability: 0.7, pancreasOverlap: (i % 5) / 4, phaseDistanceMm: (i % 7) * 2, logVolumeMl: Math.log(2 + (i % 9) + 0.01), shiftSpreadMm: (i % 3) * 0.5 },
        insideTumour: v < 1 / (1 + Math.exp(-2 * (peakLogit - 1))),
      };
      return { seed: i, label: u < truth ? 'high' : 'low', analysed: true, probabilities: { fused: p, arterial: p, venous: p }, localisation };
    });
    const localizer = JSON.parse(readFileSync(path.join(out, 'tsr-localizer.json'), 'utf8')) as ModelManifest;
    models.localizer = { name: 'tsr-localizer', version: localizer.version, sha256: localizer.sha256 };
    const evaluation = path.join(dir, 'evaluation');
    mkdirSync(evaluation);
    writeFileSync(path.join(evaluation, 'evaluation.json'), JSON.stringify({ seeds: { from: 0, to: 399 }, models }));
    writeFileSync(path.join(evaluation, 'cases.json'), JSON.stringify(cases));
    const common = ['--smoke', '--dataset', path.join(dir, 'toy'), '--run-dir', path.join(dir, 'run')];
    const cal = python([path.join(KIT, 'train.py'), 'calibrate', ...common, '--out', out, '--evaluation', evaluation]);
    expect(cal.status, cal.stderr).to.equal(0);
    type Fitted = { threshold: number; recalibrationTemperature: number; recalibrationBias: number; eceBefore: number; eceAfter: number };
    const fitted = JSON.parse(readFileSync(path.join(dir, 'run', 'calibration.json'), 'utf8')) as Record<string, Fitted>;
    expect(fitted.fusion.recalibrationTemperature).to.be.within(1.6, 2.5);
    expect(fitted.fusion.eceAfter).to.be.lessThan(fitted.fusion.eceBefore);
    const out2 = path.join(dir, 'models-recalibrated');
    const exp = python([path.join(KIT, 'train.py'), 'export', ...common, '--out', out2, '--parity-dir', path.join(dir, 'parity2')]);
    expect(exp.status, exp.stderr).to.equal(0);
    const before = JSON.parse(readFileSync(path.join(out, 'tsr-clip-fusion.json'), 'utf8')) as ModelManifest;
    const after = JSON.parse(readFileSync(path.join(out2, 'tsr-clip-fusion.json'), 'utf8')) as ModelManifest;
    expect(String(after.metrics?.calibration)).to.match(/tsr-node evaluate, seeds 0\.\.399, 400 analysed/);
    // The localisation confidence: fitted on the same evaluation, written into the localiser's manifest.
    type Localisation = { minConfidence: number; confidence: { features: string[]; weights: number[] }; figures: { wrongPlaceRateKept: number; reached: boolean } };
    const loc = (fitted as unknown as { localisation: Localisation }).localisation;
    expect(loc.confidence.weights[0]).to.be.greaterThan(0);
    expect(loc.figures.reached).to.equal(true);
    expect(loc.figures.wrongPlaceRateKept).to.be.at.most(0.01);
    const localizerAfter = JSON.parse(readFileSync(path.join(out2, 'tsr-localizer.json'), 'utf8')) as ModelManifest;
    const spec = (localizerAfter.preprocessing as unknown as { localizer: { minConfidence: number; confidence: { features: string[]; weights: number[]; intercept: number; fittedOn: string } } }).localizer;
    expect(spec.confidence.features).to.deep.equal(['peakLogit', 'meanProbability', 'pancreasOverlap', 'phaseDistanceMm', 'logVolumeMl', 'shiftSpreadMm']);
    expect(spec.confidence.weights).to.deep.equal(loc.confidence.weights);
    expect(spec.confidence.fittedOn).to.match(/seeds 0\.\.399/);
    expect(spec.minConfidence).to.equal(loc.minConfidence);
    expect(after.threshold).to.be.closeTo(fitted.fusion.threshold, 1e-6);
    // The new model's P(high) is the recalibration of the old one's, input for input.
    const { recalibrationTemperature: tr, recalibrationBias: br } = fitted.fusion;
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of before.inputs) {
      const dims = input.shape.map((d) => (typeof d === 'string' ? 3 : d));
      const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.013 + input.name.length));
      feeds[input.name] = new ort.Tensor('float32', data, dims);
    }
    const run = async (dirName: string): Promise<Float32Array> => {
      const session = await ort.InferenceSession.create(path.join(dirName, 'tsr-clip-fusion.onnx'), { intraOpNumThreads: 1 });
      try {
        return (await session.run(feeds)).probabilities.data as Float32Array;
      } finally {
        await session.release();
      }
    };
    const [p1, p2] = [await run(out), await run(out2)];
    for (let k = 0; k < 3; k++) {
      const z = Math.log(p1[2 * k + 1] / p1[2 * k]);
      expect(p2[2 * k + 1]).to.be.closeTo(1 / (1 + Math.exp(-(z / tr + br))), 1e-4);
    }
  });
});
