import { expect } from 'chai';
import type { Vec3 } from '../../../src/study/geometry';
import { classifyPhaseFromVessels, measureVessels, type HuSlice } from '../../../src/study/vesselMeasurement';
import { defaultSelectionRules } from '../../../src/study/selectionRules';

interface Tissue {
  aorta: number;
  portalVein: number;
  sma: number;
  liver: number;
  pancreas: number;
  kidney: number;
}

// HU per phase (docs/phase-selection.md, PHANTOM.md).
const PHASES: Record<string, Tissue> = {
  arterial: { aorta: 300, portalVein: 125, sma: 290, liver: 70, pancreas: 120, kidney: 180 },
  venous: { aorta: 150, portalVein: 180, sma: 150, liver: 110, pancreas: 100, kidney: 160 },
  delayed: { aorta: 115, portalVein: 118, sma: 115, liver: 88, pancreas: 82, kidney: 140 },
  plain: { aorta: 40, portalVein: 40, sma: 40, liver: 55, pancreas: 40, kidney: 30 },
};

/** Deterministic noise (a small LCG with a Box-Muller step), about `sd` HU. */
function noise(seed: number, sd: number): () => number {
  let s = seed >>> 0;
  const next = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  return () => Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next()) * sd;
}

/**
 * A drawn axial abdomen at the pancreas: body ellipse of fat and muscle, vertebral body behind the
 * centre, aorta in front of it and to the left, SMA in front of the aorta, portal vein to the right
 * and in front, liver on the right, kidneys at the sides. Patient left is +x, posterior +y.
 */
function drawSlice(t: Tissue, seed: number, mirrored = false): HuSlice {
  const size = 160;
  const mm = 2;
  const data = new Float32Array(size * size);
  const rnd = noise(seed, 15);
  const rowDirection: Vec3 = mirrored ? [-1, 0, 0] : [1, 0, 0];
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      const x = (mirrored ? -1 : 1) * (i - size / 2) * mm;
      const y = (j - size / 2) * mm;
      const inside = (cx: number, cy: number, rx: number, ry = rx): boolean => ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1;
      let hu = -1000;
      if (inside(0, 0, 150, 110)) hu = -100;
      if (inside(0, 0, 135, 95)) hu = 45;
      if (inside(-70, -10, 60, 55)) hu = t.liver;
      if (inside(75, 40, 22, 30) || inside(-75, 40, 22, 30)) hu = t.kidney;
      if (inside(0, 55, 20, 17)) hu = 450; // vertebral body
      if (inside(0, 85, 6, 14)) hu = 600; // spinous process
      if (inside(-5, -5, 35, 9)) hu = t.pancreas;
      if (inside(12, 25, 11)) hu = t.aorta;
      if (inside(8, 5, 4)) hu = t.sma;
      if (inside(-30, -18, 7)) hu = t.portalVein;
      data[j * size + i] = hu + (hu > -1000 ? rnd() : 0);
    }
  }
  return { data, rows: size, columns: size, pixelSpacing: [mm, mm], rowDirection, columnDirection: [0, 1, 0] };
}

describe('study/vesselMeasurement', () => {
  const thresholds = defaultSelectionRules().imageEvidence;

  for (const [phase, expected] of [
    ['arterial', 'arterial'],
    ['venous', 'venous'],
    ['delayed', 'delayed'],
    ['plain', 'non-contrast'],
  ] as const) {
    it(`finds the aorta and the portal vein, and calls a drawn ${phase} abdomen ${expected}`, () => {
      const m = measureVessels([1, 2, 3, 4, 5].map((seed) => drawSlice(PHASES[phase], seed)));
      expect(m.slicesWithAorta).to.equal(5);
      if (phase === 'plain') {
        // Unenhanced blood looks like muscle: the brightest spot found is soft tissue, below the contrast threshold.
        expect(m.aortaHu).to.be.below(thresholds.contrastMinAortaHu);
      } else {
        expect(m.aortaHu).to.be.closeTo(PHASES[phase].aorta, 15);
        expect(m.slicesWithPortalVein).to.equal(5);
        expect(m.portalVeinHu).to.be.closeTo(PHASES[phase].portalVein, 15);
      }
      expect(classifyPhaseFromVessels(m, thresholds).phase).to.equal(expected);
    });
  }

  it('works in patient coordinates: a mirrored image (row direction -x) gives the same answer', () => {
    const m = measureVessels([1, 2, 3].map((seed) => drawSlice(PHASES.arterial, seed, true)));
    expect(m.aortaHu).to.be.closeTo(300, 15);
    expect(m.portalVeinHu).to.be.closeTo(125, 15);
  });

  it('is robust to one slice where the search goes astray (median over slices)', () => {
    const slices = [1, 2, 3, 4, 5].map((seed) => drawSlice(PHASES.venous, seed));
    slices[2] = { ...slices[2], data: new Float32Array(slices[2].data.length).fill(-1000) };
    const m = measureVessels(slices);
    expect(m.slicesWithAorta).to.equal(4);
    expect(classifyPhaseFromVessels(m, thresholds).phase).to.equal('venous');
  });

  it('is inconclusive where there is no abdomen (no vertebral body, e.g. air)', () => {
    const blank: HuSlice = { data: new Float32Array(64 * 64).fill(-1000), rows: 64, columns: 64, pixelSpacing: [1, 1], rowDirection: [1, 0, 0], columnDirection: [0, 1, 0] };
    const v = classifyPhaseFromVessels(measureVessels([blank, blank, blank]), thresholds);
    expect(v.phase).to.equal('inconclusive');
    expect(v.detail).to.contain('no body outline');
  });

  it('is inconclusive when the ratio lies between the thresholds', () => {
    const v = classifyPhaseFromVessels({ aortaHu: 260, portalVeinHu: 200, slicesMeasured: 3, slicesWithAorta: 3, slicesWithPortalVein: 3, perSlice: [] }, thresholds);
    expect(v.phase).to.equal('inconclusive');
    expect(v.ratio).to.equal(1.3);
  });
});
