/**
 * The kit's exported cascade through the node's own loading and running code: a parity fixture
 * with cases "pancreas" and a "localizer" whose manifest has preprocessing.localizer.roi, written
 * by `train.py export --localizer-only --parity-copy-models`. The committed one,
 * test/fixtures/cascade-parity, is a smoke export on the toy dataset (models, manifests and
 * PyTorch's sampled outputs; remade by the commands in its README). The node accepts both
 * manifests and the pair, and its stage runners (runPancreas, runCascadeLocalizer without
 * shifts) reproduce PyTorch's sampled outputs.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../../src/paths';
import { loadLocalizer, loadPancreas, type LoadedLocalizer, type LoadedPancreas } from '../../../src/inference/models';
import { checkCascadePair } from '../../../src/inference/modelSet';
import { runCascadeLocalizer, runPancreas } from '../../../src/inference/sessions';
import type { Geometry } from '../../../src/study/geometry';
import { dequantise, float32File, product, readParityFixture } from '../../harness/onnxParity';

// TSR_CASCADE_PARITY_DIR: another fixture folder (e.g. the shipped models' export), else the committed smoke export.
const FIXTURE_DIR = process.env.TSR_CASCADE_PARITY_DIR ?? path.join(PROJECT_ROOT, 'test', 'fixtures', 'cascade-parity');
const fixture = readParityFixture(FIXTURE_DIR);
const RUNTIME = { intraOpThreads: 1, executionProvider: 'cpu' as const };

type Case = (typeof fixture.cases)[number];

function manifestOf(c: Case): { dir: string; name: string; roi: boolean } {
  const onnx = path.resolve(FIXTURE_DIR, c.model);
  const name = path.basename(onnx, '.onnx');
  const json = path.join(path.dirname(onnx), `${name}.json`);
  const manifest = existsSync(json) ? (JSON.parse(readFileSync(json, 'utf8')) as { preprocessing?: { localizer?: { roi?: unknown } } }) : {};
  return { dir: path.dirname(onnx), name, roi: manifest.preprocessing?.localizer?.roi !== undefined };
}

/** A grid of the case's input shape [1, C, Z, Y, X] (the geometry does not matter to the model). */
function grid(shape: number[]): Geometry {
  return { dims: [shape[4], shape[3], shape[2]], spacing: [1, 1, 1], origin: [0, 0, 0], rowDirection: [1, 0, 0], columnDirection: [0, 1, 0], normal: [0, 0, 1] };
}

/** The largest |node - PyTorch| over the sampled voxels of the case's output that fall in its first batch item (the node runs one). */
function maxDiff(c: Case, node: Float32Array): number {
  const out = c.outputs.find((o) => o.name === 'probability')!;
  const values = float32File(path.join(FIXTURE_DIR, out.file));
  const bytes = out.indexFile ? readFileSync(path.join(FIXTURE_DIR, out.indexFile)) : undefined;
  const index = bytes ? Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readUInt32LE(4 * i)) : Array.from(values.keys());
  let worst = 0;
  let compared = 0;
  index.forEach((n, i) => {
    if (n >= node.length) return;
    compared++;
    worst = Math.max(worst, Math.abs(node[n] - values[i]));
  });
  expect(compared, `${c.case}: sampled voxels in the first item`).to.be.greaterThan(0);
  return worst;
}

describe('ONNX parity: the exported cascade through the node’s loaders and stage runners', function () {
  this.timeout(120_000);
  const pancreasCase = fixture.cases.find((c) => c.case === 'pancreas');
  const roiCase = fixture.cases.find((c) => c.case === 'localizer' && manifestOf(c).roi);
  let pancreas: LoadedPancreas | undefined;
  let localizer: LoadedLocalizer | undefined;
  before(async () => {
    if (!pancreasCase || !roiCase) throw new Error(`${FIXTURE_DIR}: the parity fixture holds no cascade (cases "pancreas" and an roi "localizer")`);
    pancreas = await loadPancreas(manifestOf(pancreasCase).dir, manifestOf(pancreasCase).name, RUNTIME);
    localizer = await loadLocalizer(manifestOf(roiCase).dir, manifestOf(roiCase).name, RUNTIME);
  });
  after(async () => {
    await pancreas?.session.release();
    await localizer?.session.release();
  });

  it('the node accepts the exported pair (contracts and the pair check)', () => {
    checkCascadePair(localizer!, pancreas);
    expect(localizer!.localizer.roi?.pancreasModel.sha256).to.equal(pancreas!.identity.sha256);
  });

  it('runPancreas reproduces PyTorch on the case input', async () => {
    const input = pancreasCase!.inputs[0];
    const data = dequantise(path.join(FIXTURE_DIR, input.file), product(input.shape)).subarray(0, product(input.shape.slice(1)));
    const { grid: out } = await runPancreas(pancreas!, { geometry: grid(input.shape), data });
    expect(maxDiff(pancreasCase!, out.data)).to.be.at.most(fixture.tolerance);
  });

  it('runCascadeLocalizer (no shifts) reproduces PyTorch on the case input', async () => {
    const input = roiCase!.inputs[0];
    const voxels = product(input.shape.slice(2));
    const all = dequantise(path.join(FIXTURE_DIR, input.file), product(input.shape));
    const g = grid(input.shape);
    const plain: LoadedLocalizer = { ...localizer!, localizer: { ...localizer!.localizer, averageShifts: [[0, 0, 0]] } };
    const out = await runCascadeLocalizer(plain, { arterial: { geometry: g, data: all.subarray(0, voxels) }, venous: { geometry: g, data: all.subarray(voxels, 2 * voxels) } });
    const node = new Float32Array(3 * voxels);
    node.set(out.grids.arterial.data, 0);
    node.set(out.grids.venous.data, voxels);
    node.set(out.pancreas.data, 2 * voxels);
    expect(maxDiff(roiCase!, node)).to.be.at.most(fixture.tolerance);
  });
});
