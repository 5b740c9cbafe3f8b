/* eslint-disable @typescript-eslint/no-explicit-any -- the tests tamper with manifests as loose JSON */
import { expect } from 'chai';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../../src/errors';
import { loadClassifier, loadLocalizer, releaseModels, type ModelRuntimeOptions } from '../../../src/inference/models';
import { loadModelSet } from '../../../src/inference/modelSet';

const FIXTURES = path.resolve(__dirname, '../../fixtures/tiny-models');
const RUNTIME: ModelRuntimeOptions = { intraOpThreads: 1, executionProvider: 'cpu' };
const NAMES = ['tsr-clip-fusion', 'tsr-clip-arterial', 'tsr-clip-venous', 'tsr-localizer', 'tsr-localizer-batch1'];

describe('inference/models: loading and verification', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-models-'));
    for (const name of NAMES) {
      copyFileSync(path.join(FIXTURES, `${name}.onnx`), path.join(dir, `${name}.onnx`));
      copyFileSync(path.join(FIXTURES, `${name}.json`), path.join(dir, `${name}.json`));
    }
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function editManifest(name: string, edit: (m: Record<string, any>) => void): void {
    const file = path.join(dir, `${name}.json`);
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
    edit(manifest);
    writeFileSync(file, JSON.stringify(manifest));
  }

  async function refusal(load: () => Promise<unknown>): Promise<ConfigError> {
    try {
      await load();
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      return err as ConfigError;
    }
    expect.fail('the model was accepted');
  }

  it('loads the classifier and the localiser with their specs, identity and sha256', async () => {
    const models = await loadModelSet({ dir, classifier: 'tsr-clip-fusion', localizer: 'tsr-localizer', ...RUNTIME });
    try {
      expect(models.classifier.identity.name).to.equal('tsr-clip-fusion');
      expect(models.classifier.identity.sha256).to.match(/^[0-9a-f]{64}$/);
      expect(models.classifier.crop.sizePx).to.equal(64);
      expect(models.classifier.phases).to.deep.equal(['arterial', 'venous']);
      expect(models.classifier.highIndex).to.equal(1);
      expect(models.classifier.threshold).to.equal(0.5);
      expect(models.localizer.localizer.gridSize).to.deep.equal([32, 32, 16]);
      expect(models.localizer.phases).to.deep.equal(['arterial', 'venous']);
      expect(models.localizer.loadMs).to.be.greaterThan(0);
    } finally {
      await releaseModels(models);
    }
  });

  it('refuses a missing manifest or ONNX file, naming the file', async () => {
    const a = await refusal(() => loadLocalizer(dir, 'no-such-model', RUNTIME));
    expect(a.message).to.contain('no-such-model.json').and.contain('manifest not found');
    rmSync(path.join(dir, 'tsr-localizer.onnx'));
    const b = await refusal(() => loadLocalizer(dir, 'tsr-localizer', RUNTIME));
    expect(b.message).to.contain('tsr-localizer.onnx').and.contain('ONNX file not found');
  });

  it('refuses an ONNX file whose sha256 differs from the manifest', async () => {
    copyFileSync(path.join(FIXTURES, 'tsr-clip-venous.onnx'), path.join(dir, 'tsr-clip-arterial.onnx'));
    const err = await refusal(() => loadClassifier(dir, 'tsr-clip-arterial', RUNTIME));
    expect(err.message).to.contain('tsr-clip-arterial.onnx').and.contain('sha256 is');
  });

  const mismatches: Array<[string, string, (m: Record<string, any>) => void, RegExp]> = [
    ['an input name', 'tsr-clip-fusion', (m) => (m.inputs[0].name = 'pancreatic'), /inputs are \[arterial, venous\] in the ONNX file but \[pancreatic, venous\]/],
    ['an output shape', 'tsr-clip-fusion', (m) => (m.outputs[0].shape = ['batch', 3]), /output "probabilities" has shape \[batch, 2\] in the ONNX file, \[batch, 3\] in the manifest/],
    ['a dtype', 'tsr-localizer', (m) => (m.inputs[0].dtype = 'uint8'), /input "volume" has dtype float32 in the ONNX file, uint8/],
    ['a fixed batch where the model has a dynamic one', 'tsr-localizer', (m) => (m.inputs[0].shape[0] = 1), /input "volume" has shape \[batch, 2, 16, 32, 32\]/],
    ['a crop spec that does not fit the input', 'tsr-clip-fusion', (m) => (m.preprocessing.crop.sliceOffsetsMm = [-2, 0, 2, 4]), /input "arterial" must be float32 \[batch, 4, 64, 64\] to fit preprocessing.crop/],
    ['a localiser grid that does not fit the input', 'tsr-localizer', (m) => (m.preprocessing.localizer.gridSize = [32, 32, 20]), /must be float32 \[batch, 2, 20, 32, 32\] to fit preprocessing.phases and preprocessing.localizer.gridSize/],
    ['a shift as large as the localiser grid', 'tsr-localizer', (m) => (m.preprocessing.localizer.averageShifts = [[0, 0, 0], [0, 0, 16]]), /averageShifts: a shift is as large as the grid/],
    ['a shift as large as the crop', 'tsr-clip-fusion', (m) => (m.preprocessing.crop.averageShifts = [[0, 0], [-64, 0]]), /crop.averageShifts: a shift is as large as the crop/],
    ['a crop shift that is not two whole numbers', 'tsr-clip-fusion', (m) => (m.preprocessing.crop.averageShifts = [[0.5, 0]]), /invalid manifest:[\s\S]*averageShifts/],
    ['a localiser that takes one phase', 'tsr-localizer', (m) => (m.preprocessing.phases = ['venous']), /preprocessing.phases must hold arterial and venous once each, got \[venous\]/],
    ['class labels without "high"', 'tsr-clip-fusion', (m) => (m.classLabels = ['a', 'b']), /classLabels must name "low" and "high"/],
    ['a missing threshold', 'tsr-clip-fusion', (m) => delete m.threshold, /needs an operating threshold/],
    ['an invalid manifest (bad sha256 text)', 'tsr-clip-fusion', (m) => (m.sha256 = 'xyz'), /invalid manifest:[\s\S]*sha256/],
    ['the wrong kind', 'tsr-clip-fusion', (m) => (m.kind = 'localizer'), /is a localizer, expected a classifier/],
  ];
  for (const [what, name, edit, message] of mismatches) {
    it(`refuses ${what}`, async () => {
      editManifest(name, edit);
      const load = name === 'tsr-localizer' ? () => loadLocalizer(dir, name, RUNTIME) : () => loadClassifier(dir, name, RUNTIME);
      const err = await refusal(load);
      expect(err.message).to.match(message);
      expect(err.message).to.contain(dir);
    });
  }

  it('takes a localiser with a fixed batch of 1 for a plain run, and refuses it with shift averaging', async () => {
    const plain = await loadLocalizer(dir, 'tsr-localizer-batch1', RUNTIME);
    try {
      expect(plain.localizer.averageShifts).to.equal(undefined);
    } finally {
      await plain.session.release();
    }
    editManifest('tsr-localizer-batch1', (m) => (m.preprocessing.localizer.averageShifts = [[0, 0, 0], [1, 1, 1]]));
    const err = await refusal(() => loadLocalizer(dir, 'tsr-localizer-batch1', RUNTIME));
    expect(err.message).to.contain('averageShifts names 2 shifts, run as one batch, but input "volume" has a fixed batch of 1');
  });

  it('turns a missing CUDA execution provider into a ConfigError that says what to do', async () => {
    // The npm install skips onnxruntime-node's GPU add-on (.npmrc), so CUDA cannot load here.
    const err = await refusal(() => loadLocalizer(dir, 'tsr-localizer', { intraOpThreads: 1, executionProvider: 'cuda' }));
    expect(err.message).to.contain('tsr-localizer.onnx').and.contain('set models.executionProvider to "cpu"');
  });

  it("refuses a single-phase classifier as the node's classifier", async () => {
    const err = await refusal(() => loadModelSet({ dir, classifier: 'tsr-clip-venous', localizer: 'tsr-localizer', ...RUNTIME }));
    expect(err.message).to.match(/must take both phases, this one takes \[venous\]/);
  });
});
