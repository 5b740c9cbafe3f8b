import { expect } from 'chai';
import type { Geometry, Vec3 } from '../../../src/study/geometry';
import { indexToPatient } from '../../../src/study/geometry';
import type { CropSpec, LocalizerSpec } from '../../../src/inference/manifest';
import {
  addRunSums,
  antiAliasFactors,
  boxDownsample,
  cropPixelToPatient,
  cropPlane,
  extractCrop,
  extractLocalizerInput,
  extractLocalizerInputs,
  localizerGridGeometry,
  patientToCropPixel,
  sampleTrilinear,
  volumeCentre,
  windowAndNormalise,
} from '../../../src/inference/preprocessing';
import { DEFAULT_CROP_SPEC, DEFAULT_LOCALIZER_SPEC, cloneCropSpec } from '../../../src/inference/specs';

/** A volume whose HU at each voxel is f(patient position of the voxel centre). */
function fieldVolume(geometry: Geometry, f: (p: Vec3) => number): { geometry: Geometry; data: Float32Array } {
  const [nx, ny, nz] = geometry.dims;
  const data = new Float32Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) data[(k * ny + j) * nx + i] = f(indexToPatient(geometry, i, j, k));
  return { geometry, data };
}

const axial: Geometry = {
  dims: [64, 64, 30],
  spacing: [1.5, 1.5, 2],
  origin: [-47.25, -40, -30],
  rowDirection: [1, 0, 0],
  columnDirection: [0, 1, 0],
  normal: [0, 0, 1],
};

/** The same patient-space box stored the other way round: columns grow to the right, rows anterior, slices downwards. */
const flipped: Geometry = {
  dims: [64, 64, 30],
  spacing: [1.5, 1.5, 2],
  origin: indexToPatient(axial, 63, 63, 29),
  rowDirection: [-1, 0, 0],
  columnDirection: [0, -1, 0],
  normal: [0, 0, -1],
};

// Wide window and unit normalisation so the expected values are the HU themselves, scaled.
const linearSpec: CropSpec = { fieldOfViewMm: 32, sizePx: 16, sliceOffsetsMm: [-4, 0, 4], huWindow: { low: -1000, high: 1000 }, normalisation: { mean: 0, std: 1 }, outsideHu: -1000 };
const toUnit = (hu: number): number => (hu + 1000) / 2000;

describe('inference/preprocessing', () => {
  describe('sampleTrilinear', () => {
    const g: Geometry = { ...axial, dims: [4, 3, 2] };
    const v = fieldVolume(g, (p) => p[0] + 10 * p[1] + 100 * p[2]);
    it('reproduces a linear field between voxel centres (trilinear is exact on linear data)', () => {
      const expected = (x: number, y: number, z: number): number => {
        const p = indexToPatient(g, x, y, z);
        return p[0] + 10 * p[1] + 100 * p[2];
      };
      for (const [x, y, z] of [[0, 0, 0], [3, 2, 1], [1.25, 0.5, 0.75], [2.9, 1.1, 0.01]] as Vec3[]) {
        expect(sampleTrilinear(v.data, g.dims, x, y, z, -1)).to.be.closeTo(expected(x, y, z), 1e-3);
      }
    });
    it('returns the outside value beyond the outermost voxel centres', () => {
      expect(sampleTrilinear(v.data, g.dims, -0.01, 1, 0, -1234)).to.equal(-1234);
      expect(sampleTrilinear(v.data, g.dims, 1, 2.01, 0, -1234)).to.equal(-1234);
      expect(sampleTrilinear(v.data, g.dims, 1, 1, 1.5, -1234)).to.equal(-1234);
      expect(sampleTrilinear(v.data, g.dims, Number.NaN, 1, 1, -1234)).to.equal(-1234);
    });
    it('handles a single-slice axis', () => {
      const one: Geometry = { ...axial, dims: [2, 2, 1] };
      const data = new Float32Array([0, 10, 20, 30]);
      expect(sampleTrilinear(data, one.dims, 0.5, 0.5, 0, -1)).to.equal(15);
      expect(sampleTrilinear(data, one.dims, 0.5, 0.5, 0.2, -1)).to.equal(-1);
    });
  });

  describe('windowAndNormalise', () => {
    const rows: Array<[number, number, string]> = [
      [-100, (0 - 0.5) / 0.25, 'window low maps to 0'],
      [300, (1 - 0.5) / 0.25, 'window high maps to 1'],
      [100, 0, 'mid-window maps to the mean'],
      [-1000, -2, 'below the window is clipped'],
      [3000, 2, 'above the window is clipped'],
    ];
    for (const [hu, expected, why] of rows) {
      it(`${hu} HU -> ${expected} (${why})`, () => {
        expect(windowAndNormalise(hu, DEFAULT_CROP_SPEC.huWindow, DEFAULT_CROP_SPEC.normalisation)).to.be.closeTo(expected, 1e-12);
      });
    }
  });

  describe('extractCrop', () => {
    const field = (p: Vec3): number => 3 * p[0] - 2 * p[1] + 5 * p[2];
    const centre: Vec3 = [1.3, 2.1, -2.2];

    it('samples an axial plane of patient space at the slice offsets, columns to +x and rows to +y', () => {
      const crop = extractCrop(fieldVolume(axial, field), centre, linearSpec);
      expect(crop).to.be.instanceOf(Float32Array);
      expect(crop.length).to.equal(3 * 16 * 16);
      const plane = cropPlane(centre, linearSpec);
      for (const [c, u, v] of [[0, 0, 0], [1, 7, 8], [2, 15, 15], [1, 15, 0]]) {
        const p = cropPixelToPatient(plane, u, v, linearSpec.sliceOffsetsMm[c]);
        expect(crop[c * 256 + v * 16 + u]).to.be.closeTo(toUnit(field(p)), 1e-5);
      }
      // Pixel size 2 mm: one column to the right is +6 HU, one row down -4 HU, one channel +20 HU.
      expect((crop[1 * 256 + 8 * 16 + 9] - crop[1 * 256 + 8 * 16 + 8]) * 2000).to.be.closeTo(6, 1e-3);
      expect((crop[1 * 256 + 9 * 16 + 8] - crop[1 * 256 + 8 * 16 + 8]) * 2000).to.be.closeTo(-4, 1e-3);
      expect((crop[2 * 256 + 8 * 16 + 8] - crop[1 * 256 + 8 * 16 + 8]) * 2000).to.be.closeTo(20, 1e-3);
    });

    it('does not depend on how the volume is stored (flipped directions give the same crop)', () => {
      const a = extractCrop(fieldVolume(axial, field), centre, linearSpec);
      const b = extractCrop(fieldVolume(flipped, field), centre, linearSpec);
      for (let n = 0; n < a.length; n++) expect(b[n]).to.be.closeTo(a[n], 1e-5);
    });

    it('fills points beyond the volume with outsideHu, windowed and normalised', () => {
      const edge: Vec3 = indexToPatient(axial, 0, 32, 15);
      const crop = extractCrop(fieldVolume(axial, () => 40), edge, DEFAULT_CROP_SPEC);
      const outside = windowAndNormalise(-1000, DEFAULT_CROP_SPEC.huWindow, DEFAULT_CROP_SPEC.normalisation);
      const inside = windowAndNormalise(40, DEFAULT_CROP_SPEC.huWindow, DEFAULT_CROP_SPEC.normalisation);
      const row = 1 * 64 * 64 + 32 * 64;
      expect(crop[row + 0]).to.equal(Math.fround(outside));
      expect(crop[row + 63]).to.equal(Math.fround(inside));
      const farAway = extractCrop(fieldVolume(axial, () => 40), [500, 500, 500], DEFAULT_CROP_SPEC);
      expect(farAway.every((x) => x === Math.fround(outside))).to.be.true;
    });

    it('is deterministic: the same input gives the same bits', () => {
      const v = fieldVolume(axial, (p) => Math.sin(p[0] / 7) * 300 + p[2]);
      const a = extractCrop(v, centre, DEFAULT_CROP_SPEC);
      const b = extractCrop({ geometry: structuredClone(v.geometry), data: v.data.slice() }, [...centre], cloneCropSpec());
      expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).to.be.true;
    });

    it('maps crop pixels to patient points and back', () => {
      const plane = cropPlane(centre, DEFAULT_CROP_SPEC);
      const p = cropPixelToPatient(plane, 10.5, 50.25);
      const [u, v] = patientToCropPixel(plane, p);
      expect(u).to.be.closeTo(10.5, 1e-9);
      expect(v).to.be.closeTo(50.25, 1e-9);
      expect(patientToCropPixel(plane, centre)).to.deep.equal([31.5, 31.5]);
    });

    it('refuses a malformed spec', () => {
      expect(() => extractCrop(fieldVolume(axial, field), centre, { ...linearSpec, sliceOffsetsMm: [] })).to.throw(RangeError, /sliceOffsetsMm/);
      expect(() => extractCrop(fieldVolume(axial, field), centre, { ...linearSpec, sizePx: 0 })).to.throw(RangeError, /sizePx/);
    });
  });

  describe('localiser grid', () => {
    it('is patient-aligned, isotropic and centred on the volume centre', () => {
      const g = localizerGridGeometry(axial, DEFAULT_LOCALIZER_SPEC);
      expect(g.dims).to.deep.equal([96, 96, 48]);
      expect(g.spacing).to.deep.equal([4, 4, 4]);
      expect(g.rowDirection).to.deep.equal([1, 0, 0]);
      const centreOfGrid = indexToPatient(g, 47.5, 47.5, 23.5);
      const c = volumeCentre(axial);
      for (let a = 0; a < 3; a++) expect(centreOfGrid[a]).to.be.closeTo(c[a], 1e-9);
      expect(volumeCentre(flipped)).to.deep.equal(c);
    });

    it('box-averages by whole factors, with block centres as the new voxel centres', () => {
      const g: Geometry = { ...axial, dims: [5, 4, 2], spacing: [1, 1, 1], origin: [0, 0, 0] };
      const v = fieldVolume(g, (p) => p[0] + 10 * p[1] + 100 * p[2]);
      const r = boxDownsample(v, [2, 2, 1]);
      expect(r.geometry.dims).to.deep.equal([2, 2, 2]);
      expect(r.geometry.spacing).to.deep.equal([2, 2, 1]);
      expect(r.geometry.origin).to.deep.equal([0.5, 0.5, 0]);
      // Mean of a linear field over a block is its value at the block centre.
      expect(Array.from(r.data)).to.deep.equal([5.5, 7.5, 25.5, 27.5, 105.5, 107.5, 125.5, 127.5]);
      expect(antiAliasFactors([0.7, 0.7, 2.5], 4)).to.deep.equal([5, 5, 1]);
      expect(antiAliasFactors([5, 5, 5], 4)).to.deep.equal([1, 1, 1]);
    });

    it('box-averages to exactly the numbers of a plain per-block loop, for every run width', () => {
      // The reference: each block summed in double, slice by slice, row by row, left to right,
      // one row's run added at a time, then divided and rounded to float32 once.
      const reference = (data: Float32Array, dims: Vec3, f: Vec3): Float32Array => {
        const [nx, ny] = dims;
        const m = [0, 1, 2].map((a) => Math.floor(dims[a] / f[a]));
        const out = new Float32Array(m[0] * m[1] * m[2]);
        for (let kb = 0; kb < m[2]; kb++) {
          for (let jb = 0; jb < m[1]; jb++) {
            for (let ib = 0; ib < m[0]; ib++) {
              let sum = 0;
              for (let dk = 0; dk < f[2]; dk++) {
                for (let dj = 0; dj < f[1]; dj++) {
                  let run = 0;
                  for (let di = 0; di < f[0]; di++) run += data[((kb * f[2] + dk) * ny + jb * f[1] + dj) * nx + ib * f[0] + di];
                  sum += run;
                }
              }
              out[(kb * m[1] + jb) * m[0] + ib] = sum / (f[0] * f[1] * f[2]);
            }
          }
        }
        return out;
      };
      // Non-integer values of very different sizes, so that a different summation order would show.
      let seed = 12345;
      const next = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
      const g: Geometry = { ...axial, dims: [37, 23, 11], spacing: [0.7, 0.7, 1.25] };
      const data = new Float32Array(37 * 23 * 11).map(() => (next() - 0.3) * 10 ** Math.floor(next() * 16 - 8));
      for (let fi = 1; fi <= 9; fi++) {
        for (const [fj, fk] of [[1, 1], [3, 2], [5, 4]] as const) {
          const f: Vec3 = [fi, fj, fk];
          expect(Array.from(boxDownsample({ geometry: g, data }, f).data), `factors ${f.join('x')}`).to.deep.equal(Array.from(reference(data, g.dims, f)));
        }
        // The run sums themselves, before rounding to float32: the same doubles, bit for bit.
        const sums = new Float64Array(4).fill(0.1);
        addRunSums(data, 3, fi, 4, sums, 0);
        const expected = [0, 1, 2, 3].map((b) => {
          let run = 0;
          for (let di = 0; di < fi; di++) run += data[3 + b * fi + di];
          return 0.1 + run;
        });
        expect(Array.from(sums), `run width ${fi}`).to.deep.equal(expected);
      }
    });

    it('samples the volume on the grid, windowed and normalised, outsideHu beyond it', () => {
      const spec: LocalizerSpec = { ...DEFAULT_LOCALIZER_SPEC, gridSize: [32, 32, 12], huWindow: { low: -1000, high: 1000 }, normalisation: { mean: 0, std: 1 } };
      const field = (p: Vec3): number => 2 * p[0] + p[1] - 3 * p[2];
      const input = extractLocalizerInput(fieldVolume(axial, field), spec);
      expect(input.data.length).to.equal(32 * 32 * 12);
      const g = input.geometry;
      // Inside: the (box-averaged, interpolated) linear field is exact.
      for (const [i, j, k] of [[16, 16, 6], [9, 22, 3], [18, 13, 9]]) {
        expect(input.data[(k * 32 + j) * 32 + i]).to.be.closeTo(toUnit(field(indexToPatient(g, i, j, k))), 1e-5);
      }
      // The grid (128 mm wide) is larger than the volume (96 x 96 x 60 mm): its corners are outside.
      expect(input.data[0]).to.equal(0);
      // Storage order of the source does not matter.
      const again = extractLocalizerInput(fieldVolume(flipped, field), spec);
      for (let n = 0; n < input.data.length; n += 97) expect(again.data[n]).to.be.closeTo(input.data[n], 1e-5);
    });

    it('puts both phases on the venous volume’s grid, so that one voxel is one place in both channels', () => {
      const spec: LocalizerSpec = { ...DEFAULT_LOCALIZER_SPEC, gridSize: [32, 32, 12], huWindow: { low: -1000, high: 1000 }, normalisation: { mean: 0, std: 1 } };
      const field = (p: Vec3): number => 2 * p[0] + p[1] - 3 * p[2];
      // The arterial series covers a box 12 mm higher and 6 mm to the left: its own centre differs.
      const arterialGeometry: Geometry = { ...axial, origin: [axial.origin[0] + 6, axial.origin[1], axial.origin[2] + 12] };
      const inputs = extractLocalizerInputs({ arterial: fieldVolume(arterialGeometry, field), venous: fieldVolume(axial, field) }, spec);
      expect(inputs.arterial.geometry).to.deep.equal(inputs.venous.geometry);
      expect(inputs.venous.geometry).to.deep.equal(extractLocalizerInput(fieldVolume(axial, field), spec).geometry);
      // Where both volumes cover the point, the same field gives the same value in both channels.
      const g = inputs.venous.geometry;
      for (const [i, j, k] of [[16, 16, 6], [18, 13, 8]]) {
        const n = (k * 32 + j) * 32 + i;
        expect(inputs.arterial.data[n]).to.be.closeTo(toUnit(field(indexToPatient(g, i, j, k))), 1e-5);
        expect(inputs.arterial.data[n]).to.be.closeTo(inputs.venous.data[n], 1e-5);
      }
    });
  });
});
