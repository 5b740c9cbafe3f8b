import { expect } from 'chai';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';
import { shiftGrids } from '../../src/inference/gridShifts';
import { loadClassifier } from '../../src/inference/models';
import { runClassifier } from '../../src/inference/sessions';
import { compareCase, dequantise, float32File, product, readParityFixture, sha256File } from '../harness/onnxParity';

// The committed fixture (written by `models/training/train.py export`): PyTorch's outputs on a
// few inputs. onnxruntime-node must reproduce them within 1e-4 with the same ONNX files.
const FIXTURE_DIR = path.join(PROJECT_ROOT, 'test', 'fixtures', 'model-parity');
const fixture = readParityFixture(FIXTURE_DIR);

describe('ONNX parity: onnxruntime-node reproduces PyTorch (test/fixtures/model-parity)', () => {
  it('covers a fused classifier, a single-phase classifier and the localiser, at 1e-4', () => {
    expect(fixture.tolerance).to.be.at.most(1e-4);
    const inputs = fixture.cases.map((c) => c.inputs.map((i) => i.name).join('+'));
    expect(inputs).to.include.members(['arterial+venous', 'venous', 'volume']);
  });

  for (const c of fixture.cases) {
    it(`${c.case}: ${c.model} gives PyTorch's outputs`, async () => {
      const modelPath = path.resolve(FIXTURE_DIR, c.model);
      expect(sha256File(modelPath), `${c.model} changed after the fixture was written: re-run the kit's export`).to.equal(c.sha256);
      const r = await compareCase(FIXTURE_DIR, c);
      expect(r.inputNames).to.deep.equal(c.inputs.map((i) => i.name));
      expect(r.outputNames).to.deep.equal(c.outputs.map((o) => o.name));
      for (const o of r.outputs) {
        expect(o.compared, o.name).to.be.greaterThan(0);
        expect(o.maxAbsDiff, `${o.name}: max |ORT - PyTorch|`).to.be.at.most(fixture.tolerance);
        if (o.peakDiff !== undefined) expect(o.peakDiff, `${o.name}: value at PyTorch's peak`).to.be.at.most(fixture.tolerance);
        // The sum runs over the whole grid: allow the tolerance per voxel.
        if (o.sumDiff !== undefined) expect(o.sumDiff, `${o.name}: sum over the grid`).to.be.at.most(fixture.tolerance * r.values[o.name].length);
      }
      const probabilities = r.values.probabilities;
      if (probabilities) {
        for (let b = 0; b < probabilities.length / 2; b++) expect(probabilities[2 * b] + probabilities[2 * b + 1]).to.be.closeTo(1, 1e-5);
      }
      for (const [name, v] of Object.entries(r.values)) {
        if (!name.startsWith('saliency_') && name !== 'probability') continue;
        let lo = Infinity;
        let hi = -Infinity;
        for (const x of v) {
          lo = Math.min(lo, x);
          hi = Math.max(hi, x);
        }
        expect(lo, name).to.be.at.least(0);
        expect(hi, name).to.be.at.most(1);
      }
    });
  }

  it("fusion-shifted: the node's crop averaging moves the crops as the kit does and averages PyTorch's outputs", async () => {
    // The case holds one study's crops moved by each of the kit's CROP_AVERAGE_SHIFTS (view 0 plain)
    // and PyTorch's outputs for them. The node moves view 0 by the shipped manifest's shifts itself.
    const c = fixture.cases.find((x) => x.case === 'fusion-shifted');
    expect(c, 'the fixture has no fusion-shifted case: re-run the kit export').to.not.equal(undefined);
    const model = await loadClassifier(path.resolve(FIXTURE_DIR, path.dirname(c!.model)), path.basename(c!.model, '.onnx'), { intraOpThreads: 1, executionProvider: 'cpu' });
    try {
      expect(model.manifest.sha256).to.equal(c!.sha256);
      const shifts = model.crop.averageShifts ?? [];
      const [views, channels, n] = c!.inputs[0].shape;
      expect(shifts.length, 'shifts in the manifest vs views in the fixture').to.equal(views).and.to.be.greaterThan(1);
      const perCrop = channels * n * n;
      const plain: Partial<Record<'arterial' | 'venous', Float32Array>> = {};
      for (const input of c!.inputs) {
        const all = dequantise(path.join(FIXTURE_DIR, input.file), product(input.shape));
        const view0 = all.slice(0, perCrop);
        plain[input.name as 'arterial' | 'venous'] = view0;
        shifts.forEach(([sx, sy], v) => {
          const moved = new Float32Array(perCrop);
          shiftGrids(view0, [n, n, 1], channels, [sx, sy, 0], moved);
          expect(Array.from(moved).every((x, i) => x === all[v * perCrop + i]), `${input.name} view ${v} (shift ${sx}, ${sy}) equals the kit's`).to.equal(true);
        });
      }
      const torchProbabilities = float32File(path.join(FIXTURE_DIR, c!.outputs.find((o) => o.name === 'probabilities')!.file));
      let meanLogOdds = 0;
      for (let v = 0; v < views; v++) meanLogOdds += Math.log(torchProbabilities[2 * v + model.highIndex] / torchProbabilities[2 * v + 1 - model.highIndex]) / views;
      const averaged = await runClassifier(model, plain);
      expect(averaged.probabilityHigh).to.be.closeTo(1 / (1 + Math.exp(-meanLogOdds)), fixture.tolerance);
    } finally {
      await model.session.release();
    }
  });
});
