import { expect } from 'chai';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Geometry, Vec3 } from '../../../src/study/geometry';
import { addShiftedBack, shiftGrids } from '../../../src/inference/gridShifts';
import { loadClassifier, loadLocalizer, releaseModels } from '../../../src/inference/models';
import { runClassifier, runLocalizer } from '../../../src/inference/sessions';
import type { LocalizerInput } from '../../../src/inference/preprocessing';

/** Value of voxel (x, y, z) of channel c, written the slow, obvious way. */
function at(data: Float32Array, dims: Vec3, c: number, x: number, y: number, z: number): number {
  const [nx, ny, nz] = dims;
  return data[c * nx * ny * nz + (z * ny + y) * nx + x];
}

function numbered(dims: Vec3, channels: number): Float32Array {
  return Float32Array.from({ length: dims[0] * dims[1] * dims[2] * channels }, (_, i) => i);
}

describe('inference/gridShifts: the localiser input moved by whole voxels, and back', () => {
  const dims: Vec3 = [4, 3, 2];

  it('moves every channel by the shift, repeating the edge voxel where the source falls outside', () => {
    const input = numbered(dims, 2);
    const out = new Float32Array(input.length);
    shiftGrids(input, dims, 2, [1, 0, 1], out);
    for (let c = 0; c < 2; c++) {
      for (let z = 0; z < 2; z++) {
        for (let y = 0; y < 3; y++) {
          for (let x = 0; x < 4; x++) {
            expect(at(out, dims, c, x, y, z), `c${c} x${x} y${y} z${z}`).to.equal(at(input, dims, c, Math.max(x - 1, 0), y, Math.max(z - 1, 0)));
          }
        }
      }
    }
    // A zero shift copies.
    shiftGrids(input, dims, 2, [0, 0, 0], out);
    expect(Array.from(out)).to.deep.equal(Array.from(input));
  });

  it('shifts an output back onto the unshifted grid with its weight, so interior voxels come back exactly', () => {
    const input = numbered(dims, 1);
    const moved = new Float32Array(input.length);
    const shift: Vec3 = [1, 1, 1];
    shiftGrids(input, dims, 1, shift, moved);
    const sum = new Float32Array(input.length).fill(1);
    addShiftedBack(moved, dims, 1, shift, 0.5, sum);
    // Away from the far edges, moving back undoes the move: 1 + 0.5 * input.
    for (let z = 0; z < 1; z++) for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) expect(at(sum, dims, 0, x, y, z)).to.equal(1 + 0.5 * at(input, dims, 0, x, y, z));
    // At the far edge the nearest voxel inside is used: (3, 2, 1) takes moved[3][2][1] = input[2][1][0].
    expect(at(sum, dims, 0, 3, 2, 1)).to.equal(1 + 0.5 * at(input, dims, 0, 2, 1, 0));
  });

  it('refuses arrays that do not match dims x channels', () => {
    expect(() => shiftGrids(new Float32Array(5), dims, 1, [1, 1, 1], new Float32Array(24))).to.throw(/does not match/);
    expect(() => addShiftedBack(new Float32Array(24), dims, 2, [1, 1, 1], 1, new Float32Array(48))).to.throw(/does not match/);
  });
});

describe('inference/sessions: the localiser with averageShifts in its manifest', () => {
  const FIXTURES = path.resolve(__dirname, '../../fixtures/tiny-models');
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-shifts-'));
    copyFileSync(path.join(FIXTURES, 'tsr-localizer.onnx'), path.join(dir, 'tsr-localizer.onnx'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function load(shifts?: Vec3[]) {
    const manifest = JSON.parse(readFileSync(path.join(FIXTURES, 'tsr-localizer.json'), 'utf8')) as { preprocessing: { localizer: Record<string, unknown> } };
    if (shifts) manifest.preprocessing.localizer.averageShifts = shifts;
    else delete manifest.preprocessing.localizer.averageShifts;
    writeFileSync(path.join(dir, 'tsr-localizer.json'), JSON.stringify(manifest));
    return loadLocalizer(dir, 'tsr-localizer', { intraOpThreads: 1, executionProvider: 'cpu' });
  }

  it('gives the mean of the plain run and the run on the moved grid, moved back', async () => {
    const plain = await load();
    const averaged = await load([[0, 0, 0], [1, 1, 1]]);
    try {
      const [gx, gy, gz] = plain.localizer.gridSize;
      const dims: Vec3 = [gx, gy, gz];
      const geometry = { dims } as unknown as Geometry;
      const grid = (seed: number): LocalizerInput => ({ geometry, data: Float32Array.from({ length: gx * gy * gz }, (_, i) => Math.sin(i * 0.37 + seed)) });
      const inputs = { arterial: grid(1), venous: grid(2) };
      const movedInputs = {
        arterial: { geometry, data: new Float32Array(gx * gy * gz) },
        venous: { geometry, data: new Float32Array(gx * gy * gz) },
      };
      shiftGrids(inputs.arterial.data, dims, 1, [1, 1, 1], movedInputs.arterial.data);
      shiftGrids(inputs.venous.data, dims, 1, [1, 1, 1], movedInputs.venous.data);
      const a = await runLocalizer(plain, inputs);
      const b = await runLocalizer(plain, movedInputs);
      const mean = await runLocalizer(averaged, inputs);
      let largest = 0;
      for (const phase of ['arterial', 'venous'] as const) {
        for (let z = 0; z < gz; z++) {
          for (let y = 0; y < gy; y++) {
            for (let x = 0; x < gx; x++) {
              const back = at(b.grids[phase].data, dims, 0, Math.min(x + 1, gx - 1), Math.min(y + 1, gy - 1), Math.min(z + 1, gz - 1));
              const expected = (at(a.grids[phase].data, dims, 0, x, y, z) + back) / 2;
              largest = Math.max(largest, Math.abs(at(mean.grids[phase].data, dims, 0, x, y, z) - expected));
            }
          }
        }
        // The averaged map differs from the plain one: the test would notice a shift that did nothing.
        expect(mean.grids[phase].data.some((v, i) => Math.abs(v - a.grids[phase].data[i]) > 1e-4), phase).to.equal(true);
      }
      expect(largest).to.be.below(1e-6);
    } finally {
      await releaseModels({ plain, averaged });
    }
  });
});

describe('inference/sessions: a classifier with crop averageShifts in its manifest', () => {
  const FIXTURES = path.resolve(__dirname, '../../fixtures/tiny-models');
  const NAME = 'tsr-clip-fusion';
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-crop-shifts-'));
    copyFileSync(path.join(FIXTURES, `${NAME}.onnx`), path.join(dir, `${NAME}.onnx`));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function load(shifts?: Array<[number, number]>) {
    const manifest = JSON.parse(readFileSync(path.join(FIXTURES, `${NAME}.json`), 'utf8')) as { preprocessing: { crop: Record<string, unknown> } };
    if (shifts) manifest.preprocessing.crop.averageShifts = shifts;
    else delete manifest.preprocessing.crop.averageShifts;
    writeFileSync(path.join(dir, `${NAME}.json`), JSON.stringify(manifest));
    return loadClassifier(dir, NAME, { intraOpThreads: 1, executionProvider: 'cpu' });
  }

  it('gives the mean log-odds of the runs on the moved crops, and the mean of their saliency maps moved back', async () => {
    const shifts: Array<[number, number]> = [[0, 0], [4, 0], [0, -4]];
    const plain = await load();
    const averaged = await load(shifts);
    try {
      const n = plain.crop.sizePx;
      const channels = plain.crop.sliceOffsetsMm.length;
      const dims: Vec3 = [n, n, 1];
      const crop = (seed: number) => Float32Array.from({ length: channels * n * n }, (_, i) => Math.sin(i * 0.11 + seed) + Math.cos(i * 0.003 * seed));
      const crops = { arterial: crop(1), venous: crop(2) };
      const logOdds = (p: number) => Math.log(p / (1 - p));
      let sumLogOdds = 0;
      const expectedSaliency = { arterial: new Float64Array(n * n), venous: new Float64Array(n * n) };
      for (const [sx, sy] of shifts) {
        const moved = { arterial: new Float32Array(channels * n * n), venous: new Float32Array(channels * n * n) };
        shiftGrids(crops.arterial, dims, channels, [sx, sy, 0], moved.arterial);
        shiftGrids(crops.venous, dims, channels, [sx, sy, 0], moved.venous);
        const run = await runClassifier(plain, moved);
        sumLogOdds += logOdds(run.probabilityHigh);
        for (const phase of ['arterial', 'venous'] as const) {
          // Moved back the slow way: pixel (x, y) of the plain crop sits at (x + sx, y + sy) of the moved one.
          for (let y = 0; y < n; y++) {
            for (let x = 0; x < n; x++) {
              const from = Math.min(Math.max(y + sy, 0), n - 1) * n + Math.min(Math.max(x + sx, 0), n - 1);
              expectedSaliency[phase][y * n + x] += run.saliency[phase]![from] / shifts.length;
            }
          }
        }
      }
      const single = await runClassifier(plain, crops);
      const mean = await runClassifier(averaged, crops);
      expect(logOdds(mean.probabilityHigh)).to.be.closeTo(sumLogOdds / shifts.length, 1e-5);
      // The averaged result differs from the plain one: the test would notice a shift that did nothing.
      expect(Math.abs(mean.probabilityHigh - single.probabilityHigh)).to.be.above(1e-4);
      for (const phase of ['arterial', 'venous'] as const) {
        const got = mean.saliency[phase]!;
        expect(got.length).to.equal(n * n);
        let largest = 0;
        for (let i = 0; i < n * n; i++) largest = Math.max(largest, Math.abs(got[i] - expectedSaliency[phase][i]));
        expect(largest, phase).to.be.below(1e-6);
      }
    } finally {
      await releaseModels({ plain, averaged });
    }
  });
});
