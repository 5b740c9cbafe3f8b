/* eslint-disable @typescript-eslint/no-explicit-any -- the tests tamper with manifests as loose JSON */
import { expect } from 'chai';
import { ConfigError } from '../../../src/errors';
import type { LocalizerSpec, ModelManifest } from '../../../src/inference/manifest';
import { parseModelManifest } from '../../../src/inference/manifestSchema';
import { checkLocalizerContract, checkPancreasContract } from '../../../src/inference/modelContracts';
import { checkCascadePair, modelSetIdentities } from '../../../src/inference/modelSet';

const SHA = (c: string): string => c.repeat(64);

function roiLocalizer(extra: Partial<LocalizerSpec> = {}): { localizer: LocalizerSpec; onnxPath: string } {
  return {
    onnxPath: '/models/tsr-localizer.onnx',
    localizer: {
      voxelMm: 2,
      gridSize: [96, 72, 48],
      huWindow: { low: -200, high: 300 },
      normalisation: { mean: 0.5, std: 0.25 },
      outsideHu: -1000,
      minConfidence: 0.5,
      roi: {
        centredOn: 'pancreas',
        pancreasModel: { name: 'tsr-pancreas', version: '0.5.0', sha256: SHA('a') },
        candidateLevel: 0.5,
        minPancreasOverlap: 0.3,
        pancreasDilationMm: 6,
        maxPhaseDistanceMm: 20,
      },
      ...extra,
    },
  };
}

function refusal(f: () => unknown): ConfigError {
  try {
    f();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  expect.fail('accepted');
}

describe('inference/modelSet: the cascade pair check', () => {
  const pancreas = (identity: { name: string; version: string; sha256: string }): { identity: typeof identity; onnxPath: string } => ({ identity, onnxPath: '/models/tsr-pancreas.onnx' });

  it('accepts the pancreas model the localiser names', () => {
    checkCascadePair(roiLocalizer(), pancreas({ name: 'tsr-pancreas', version: '0.5.0', sha256: SHA('a') }));
  });

  it('needs nothing for a single-stage localiser', () => {
    const { roi: _roi, ...plain } = roiLocalizer().localizer;
    checkCascadePair({ localizer: plain, onnxPath: 'x' }, undefined);
  });

  it('refuses to start without a pancreas model, naming the one needed', () => {
    const err = refusal(() => checkCascadePair(roiLocalizer(), undefined));
    expect(err.message).to.contain('tsr-localizer.onnx').and.contain('needs the pancreas model tsr-pancreas 0.5.0').and.contain('models.pancreas');
  });

  for (const [what, identity] of [
    ['name', { name: 'other', version: '0.5.0', sha256: SHA('a') }],
    ['version', { name: 'tsr-pancreas', version: '0.4.0', sha256: SHA('a') }],
    ['sha256', { name: 'tsr-pancreas', version: '0.5.0', sha256: SHA('b') }],
  ] as const) {
    it(`refuses a pancreas model of another ${what}`, () => {
      const err = refusal(() => checkCascadePair(roiLocalizer(), pancreas(identity)));
      expect(err.message).to.contain(`differ in ${what}`).and.contain('trained behind the pancreas model tsr-pancreas 0.5.0');
    });
  }

  it('lists the pancreas stage first in the identities, and only when present', () => {
    const id = (name: string): any => ({ identity: { name, version: '1', sha256: SHA('c') } });
    expect(modelSetIdentities({ localizer: id('l'), classifier: id('c') }).map((m) => m.role)).to.deep.equal(['localizer', 'classifier']);
    expect(modelSetIdentities({ pancreas: id('p'), localizer: id('l'), classifier: id('c') }).map((m) => m.role)).to.deep.equal(['pancreas', 'localizer', 'classifier']);
  });
});

describe('inference/modelContracts: the cascade manifests', () => {
  const base = {
    schema: 'tsr-node/model-manifest@1',
    version: '0.5.0',
    file: 'x.onnx',
    sha256: SHA('d'),
    opset: 17,
    trainedOn: 't',
    intendedUse: 'u',
    createdAt: '2026-01-01T00:00:00Z',
  };
  const grid = { voxelMm: 4, gridSize: [96, 96, 48], huWindow: { low: -200, high: 300 }, normalisation: { mean: 0.5, std: 0.25 }, outsideHu: -1000 };
  const pancreasManifest = (): any => ({
    ...base,
    name: 'tsr-pancreas',
    kind: 'pancreas',
    inputs: [{ name: 'volume', shape: ['batch', 1, 48, 96, 96], dtype: 'float32' }],
    outputs: [{ name: 'probability', shape: ['batch', 1, 48, 96, 96], dtype: 'float32' }],
    preprocessing: { phases: ['venous'], pancreas: { ...grid, threshold: 0.5, minVolumeMl: 5 } },
  });
  const localizerManifest = (): any => ({
    ...base,
    name: 'tsr-localizer',
    kind: 'localizer',
    inputs: [{ name: 'volume', shape: ['batch', 2, 48, 72, 96], dtype: 'float32' }],
    outputs: [{ name: 'probability', shape: ['batch', 3, 48, 72, 96], dtype: 'float32' }],
    preprocessing: {
      phases: ['arterial', 'venous'],
      localizer: {
        ...roiLocalizer().localizer,
        averageShifts: [[0, 0, 0], [1, 1, 1]],
        confidence: { features: ['peakLogit', 'pancreasOverlap'], weights: [1, 2], intercept: -1, fittedOn: 'calibration seeds' },
      },
    },
  });
  const parse = (m: any): ModelManifest => parseModelManifest(m);

  it('accepts a pancreas manifest and returns its spec', () => {
    expect(checkPancreasContract('p.onnx', parse(pancreasManifest())).pancreas.minVolumeMl).to.equal(5);
  });

  it('refuses a pancreas model that takes both phases or has the wrong output shape', () => {
    const a = pancreasManifest();
    a.preprocessing.phases = ['arterial', 'venous'];
    expect(refusal(() => checkPancreasContract('p.onnx', parse(a))).message).to.contain('must be [venous]');
    const b = pancreasManifest();
    b.outputs[0].shape = ['batch', 2, 48, 96, 96];
    expect(refusal(() => checkPancreasContract('p.onnx', parse(b))).message).to.contain('output "probability" must be [batch, 1, 48, 96, 96]');
  });

  it('accepts a cascade localiser with three output channels and its calibration', () => {
    const fields = checkLocalizerContract('l.onnx', parse(localizerManifest()));
    expect(fields.localizer.roi?.pancreasModel.name).to.equal('tsr-pancreas');
    expect(fields.localizer.confidence?.weights).to.deep.equal([1, 2]);
  });

  it('refuses a cascade localiser with two output channels, and a calibration without roi', () => {
    const a = localizerManifest();
    a.outputs[0].shape = ['batch', 2, 48, 72, 96];
    expect(refusal(() => checkLocalizerContract('l.onnx', parse(a))).message).to.contain('output "probability" must be [batch, 3, 48, 72, 96]');
    const b = localizerManifest();
    delete b.preprocessing.localizer.roi;
    b.outputs[0].shape = ['batch', 2, 48, 72, 96];
    expect(refusal(() => checkLocalizerContract('l.onnx', parse(b))).message).to.contain('needs preprocessing.localizer.roi');
  });

  it('the schema refuses unknown features, weights of another length and an ROI centred on something else', () => {
    const a = localizerManifest();
    a.preprocessing.localizer.confidence.features = ['peakLogit', 'colour'];
    expect(() => parse(a)).to.throw(/features/);
    const b = localizerManifest();
    b.preprocessing.localizer.confidence.weights = [1];
    expect(() => parse(b)).to.throw(/one number per feature/);
    const c = localizerManifest();
    c.preprocessing.localizer.roi.centredOn = 'liver';
    expect(() => parse(c)).to.throw(/centredOn/);
  });
});
