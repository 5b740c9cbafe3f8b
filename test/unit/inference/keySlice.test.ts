import { expect } from 'chai';
import { indexToPatient, type Geometry } from '../../../src/study/geometry';
import { circleOutline, cropMapOnSlice, keySliceIndex, probabilityOnSlice, regionAround, sliceHu, traceBoundary } from '../../../src/inference/keySlice';
import { cropPlane } from '../../../src/inference/preprocessing';
import type { SliceImage } from '../../../src/inference/result';

const slices: Geometry = { dims: [40, 30, 10], spacing: [1, 1, 3], origin: [-20, -15, 100], rowDirection: [1, 0, 0], columnDirection: [0, 1, 0], normal: [0, 0, 1] };

function maskFrom(rows: string[]): { mask: Uint8Array; columns: number; rows: number } {
  const columns = rows[0].length;
  const mask = new Uint8Array(columns * rows.length);
  rows.forEach((line, r) => [...line].forEach((ch, c) => (mask[r * columns + c] = ch === '#' ? 1 : 0)));
  return { mask, columns, rows: rows.length };
}

describe('inference/keySlice', () => {
  it('picks the slice nearest the centre along the normal, clamped to the volume', () => {
    expect(keySliceIndex(slices, [0, 0, 104.4])).to.equal(1);
    expect(keySliceIndex(slices, [0, 0, 104.6])).to.equal(2);
    expect(keySliceIndex(slices, [0, 0, 50])).to.equal(0);
    expect(keySliceIndex(slices, [0, 0, 500])).to.equal(9);
    const reversed: Geometry = { ...slices, origin: [-20, -15, 127], normal: [0, 0, -1], rowDirection: [1, 0, 0], columnDirection: [0, -1, 0] };
    expect(keySliceIndex(reversed, [0, 0, 104.4])).to.equal(8);
  });

  it('copies the key slice HU', () => {
    const data = new Float32Array(40 * 30 * 10).map((_, n) => n);
    const s = sliceHu({ geometry: slices, data }, 3);
    expect([s.columns, s.rows]).to.deep.equal([40, 30]);
    expect(s.data[0]).to.equal(3 * 1200);
    expect(s.data[1199]).to.equal(4 * 1200 - 1);
  });

  it('maps a crop-plane map onto the slice grid through patient space, 0 outside the crop', () => {
    // An 8 x 8 crop of 16 mm centred on the patient point (2, -3, z): a map equal to its column index u.
    const plane = cropPlane([2, -3, 103], { fieldOfViewMm: 16, sizePx: 8, sliceOffsetsMm: [0], huWindow: { low: 0, high: 1 }, normalisation: { mean: 0, std: 1 }, outsideHu: 0 });
    const map = new Float32Array(64).map((_, n) => n % 8);
    const out = cropMapOnSlice(slices, 1, plane, map);
    const pixelAt = (x: number, y: number): number => {
      const i = x + 20;
      const j = y + 15;
      return out.data[j * 40 + i];
    };
    // Patient x = 2 is the crop centre, u = 3.5; each mm is half a crop pixel.
    expect(pixelAt(2, -3)).to.be.closeTo(3.5, 1e-9);
    expect(pixelAt(4, -3)).to.be.closeTo(4.5, 1e-9);
    expect(pixelAt(-5, -3)).to.be.closeTo(0, 1e-9);
    expect(pixelAt(-6, -3)).to.equal(0); // left of the crop
    expect(pixelAt(2, 10)).to.equal(0); // below the crop
  });

  it('resamples the localiser probability onto the slice near the centre only', () => {
    const grid: Geometry = { dims: [10, 10, 10], spacing: [4, 4, 4], origin: [-18, -18, 90], rowDirection: [1, 0, 0], columnDirection: [0, 1, 0], normal: [0, 0, 1] };
    const data = new Float32Array(1000).map((_, n) => (n % 10) / 10); // grows with the grid's x index
    const centre = indexToPatient(slices, 20, 15, 1);
    const out = probabilityOnSlice(slices, 1, { geometry: grid, data }, centre, 5);
    // Pixel (20, 15) is patient x = 0: grid x index 4.5.
    expect(out.data[15 * 40 + 20]).to.be.closeTo(0.45, 1e-6);
    expect(out.data[15 * 40 + 24]).to.be.closeTo(0.55, 1e-6);
    expect(out.data[15 * 40 + 30]).to.equal(0); // beyond the 5 mm radius: not computed
  });

  it('traces a boundary clockwise, closed, every boundary pixel once', () => {
    const { mask, columns, rows } = maskFrom(['.....', '.###.', '.###.', '.###.', '.....']);
    expect(traceBoundary(mask, columns, rows)).to.deep.equal([
      [1, 1], [2, 1], [3, 1], [3, 2], [3, 3], [2, 3], [1, 3], [1, 2],
    ]);
  });

  const shapes: Array<[string, string[], number]> = [
    ['a single pixel', ['...', '.#.', '...'], 1],
    ['a diagonal line (8-connected)', ['#...', '.#..', '..#.', '...#'], 6],
    ['the outer boundary of a ring, not its inner edge', ['#####', '#...#', '#.###', '#####'], 14],
    ['a region touching the image edge', ['##', '##'], 4],
  ];
  for (const [what, picture, expected] of shapes) {
    it(`traces ${what}`, () => {
      const { mask, columns, rows } = maskFrom(picture);
      const outline = traceBoundary(mask, columns, rows);
      expect(outline.length).to.equal(expected);
      for (const [c, r] of outline) expect(mask[r * columns + c]).to.equal(1);
      // Consecutive points (and the last to the first) are 8-neighbours.
      outline.forEach(([c, r], n) => {
        const [c2, r2] = outline[(n + 1) % outline.length];
        expect(Math.max(Math.abs(c2 - c), Math.abs(r2 - r))).to.be.at.most(1);
      });
    });
  }

  it('traces a thin concave shape through every pixel, the thin parts twice', () => {
    const { mask, columns, rows } = maskFrom(['###', '#..', '###']);
    const outline = traceBoundary(mask, columns, rows);
    expect(new Set(outline.map(([c, r]) => `${c},${r}`)).size).to.equal(7);
    expect(outline).to.deep.equal([[0, 0], [1, 0], [2, 0], [1, 0], [0, 1], [1, 2], [2, 2], [1, 2], [0, 2], [0, 1]]);
  });

  it('selects the region around the seed, not another one', () => {
    const image: SliceImage = { columns: 10, rows: 3, data: new Float32Array([0.9, 0.9, 0, 0, 0, 0, 0, 0, 0.8, 0.8, 0.9, 0.9, 0, 0, 0, 0, 0, 0, 0.8, 0.8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) };
    const near = regionAround(image, 0.5, [8.4, 0.6], 2)!;
    expect(Array.from(near).reduce((a, b) => a + b, 0)).to.equal(4);
    expect(near[8]).to.equal(1);
    expect(near[0]).to.equal(0);
    expect(regionAround(image, 0.5, [5, 1], 2)).to.equal(undefined);
  });

  it('makes a circle outline around a centre', () => {
    const circle = circleOutline([10, 20], [5, 2.5], 4);
    expect(circle[0]).to.deep.equal([15, 20]);
    expect(circle[1][1]).to.be.closeTo(22.5, 1e-9);
  });
});
