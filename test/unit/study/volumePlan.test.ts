import { expect } from 'chai';
import type { Vec3 } from '../../../src/study/geometry';
import { planVolume, planVolumeOrThrow, type SliceDescriptor } from '../../../src/study/volumePlan';
import { AnalysisRefusedError } from '../../../src/errors';

const AXIAL = [1, 0, 0, 0, 1, 0];

/** A regular axial stack: slice k at z = z0 + k * step (InstanceNumber counting the other way). */
function stack(n: number, step = 2.5, overrides: (k: number) => Partial<SliceDescriptor> = () => ({})): SliceDescriptor[] {
  return Array.from({ length: n }, (_, k) => ({
    sopInstanceUID: `1.2.3.${k}`,
    seriesInstanceUID: '1.2.3',
    frameOfReferenceUID: '1.2.9',
    imagePositionPatient: [-100, -120, 50 + k * step] as Vec3,
    imageOrientationPatient: AXIAL,
    pixelSpacing: [0.8, 0.7] as [number, number],
    rows: 64,
    columns: 48,
    sliceThickness: step,
    instanceNumber: n - k,
    ...overrides(k),
  }));
}

function problems(slices: SliceDescriptor[]): string[] {
  const r = planVolume(slices);
  return r.ok ? [] : r.problems.map((p) => p.code);
}

describe('study/volumePlan', () => {
  it('sorts by position along the normal, not by InstanceNumber or arrival order, and keeps the geometry', () => {
    const slices = stack(10).reverse();
    slices.splice(3, 0, ...slices.splice(7, 2));
    const plan = planVolumeOrThrow(slices);
    expect(plan.sopInstanceUIDs).to.deep.equal(stack(10).map((s) => s.sopInstanceUID));
    const g = plan.geometry;
    expect(g.dims).to.deep.equal([48, 64, 10]);
    // PixelSpacing is [row spacing, column spacing]: spacing along i is the second value.
    expect(g.spacing[0]).to.equal(0.7);
    expect(g.spacing[1]).to.equal(0.8);
    expect(g.spacing[2]).to.be.closeTo(2.5, 1e-9);
    expect(g.origin).to.deep.equal([-100, -120, 50]);
    expect(g.normal).to.deep.equal([0, 0, 1]);
    expect(plan.sliceIndex.get('1.2.3.4')).to.equal(4);
    expect(plan.frameOfReferenceUID).to.equal('1.2.9');
  });

  it('orders a feet-first stack (positions decreasing) so the normal still points from first to last slice', () => {
    const plan = planVolumeOrThrow(stack(5, -3));
    expect(plan.geometry.origin[2]).to.equal(50 - 12);
    expect(plan.geometry.spacing[2]).to.be.closeTo(3, 1e-9);
    expect(plan.sopInstanceUIDs[0]).to.equal('1.2.3.4');
  });

  it('follows an oblique orientation: positions along its normal are regular', () => {
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    const normal: Vec3 = [0, -s, c];
    const plan = planVolumeOrThrow(
      stack(6, 2, (k) => ({ imageOrientationPatient: [1, 0, 0, 0, c, s], imagePositionPatient: [0, normal[1] * 2 * k, normal[2] * 2 * k] as Vec3 })),
    );
    expect(plan.geometry.spacing[2]).to.be.closeTo(2, 1e-9);
    expect(plan.geometry.normal[1]).to.be.closeTo(-s, 1e-9);
  });

  // Each row: what is wrong, and the code(s) it must give.
  const rows: { why: string; slices: SliceDescriptor[]; codes: string[] }[] = [
    { why: 'no instances at all', slices: [], codes: ['no-instances'] },
    { why: 'one slice missing in the middle', slices: stack(10).filter((_, k) => k !== 4), codes: ['slice-gap'] },
    { why: 'two adjacent slices missing', slices: stack(10).filter((_, k) => k !== 4 && k !== 5), codes: ['slice-gap'] },
    { why: 'a slice sent twice under two UIDs (same position)', slices: [...stack(6), { ...stack(6)[2], sopInstanceUID: '9.9' }], codes: ['duplicate-slices'] },
    { why: 'positions drift sideways: gantry tilt', slices: stack(8, 2, (k) => ({ imagePositionPatient: [-100, -120 + k * 0.7, 50 + k * 2] as Vec3 })), codes: ['gantry-tilt'] },
    { why: 'spacing 2.5 mm then 5 mm (two stacks joined)', slices: stack(12, 2.5, (k) => ({ imagePositionPatient: [-100, -120, k < 6 ? 50 + k * 2.5 : 62.5 + (k - 5) * 5] as Vec3 })), codes: ['uneven-spacing'] },
    { why: 'one step of 1.3x the spacing', slices: stack(8, 2, (k) => ({ imagePositionPatient: [-100, -120, 50 + k * 2 + (k >= 4 ? 0.6 : 0)] as Vec3 })), codes: ['uneven-spacing'] },
    { why: 'one slice in a coronal orientation', slices: stack(8, 2, (k) => (k === 3 ? { imageOrientationPatient: [1, 0, 0, 0, 0, -1] } : {})), codes: ['mixed-orientations'] },
    { why: 'one slice of another size', slices: stack(8, 2, (k) => (k === 5 ? { rows: 32 } : {})), codes: ['mixed-image-size'] },
    { why: 'one slice of another pixel spacing', slices: stack(8, 2, (k) => (k === 5 ? { pixelSpacing: [0.9, 0.7] as [number, number] } : {})), codes: ['mixed-image-size'] },
    { why: 'two frames of reference', slices: stack(8, 2, (k) => (k > 3 ? { frameOfReferenceUID: '1.2.10' } : {})), codes: ['mixed-frame-of-reference'] },
    { why: 'instances of two series', slices: stack(8, 2, (k) => (k > 3 ? { seriesInstanceUID: '1.2.4' } : {})), codes: ['mixed-series'] },
    { why: 'a slice without ImagePositionPatient', slices: stack(8, 2, (k) => (k === 2 ? { imagePositionPatient: undefined } : {})), codes: ['missing-geometry'] },
    { why: 'a multi-frame instance', slices: [{ ...stack(1)[0], numberOfFrames: 2 }], codes: ['enhanced-multiframe-unsupported'] },
    { why: 'orientation cosines that are not orthogonal', slices: stack(4, 2, () => ({ imageOrientationPatient: [1, 0, 0, 0.5, 0.866, 0] })), codes: ['invalid-orientation'] },
  ];
  for (const row of rows) {
    it(`refuses: ${row.why} -> ${row.codes.join(', ')}`, () => {
      expect(problems(row.slices)).to.deep.equal(row.codes);
    });
  }

  it('tolerates DS rounding of positions (0.01 mm jitter)', () => {
    expect(problems(stack(20, 1, (k) => ({ imagePositionPatient: [-100, -120, 50 + k + (k % 2 === 0 ? 0.01 : -0.01)] as Vec3 })))).to.deep.equal([]);
  });

  it('tells how many slices a gap lost, and the thrown error carries every problem', () => {
    const r = planVolume(stack(12).filter((_, k) => k !== 3 && k !== 8 && k !== 9));
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.problems[0].details?.missingSlices).to.equal(3);
    try {
      planVolumeOrThrow(stack(12).filter((_, k) => k !== 3));
      expect.fail('should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(AnalysisRefusedError);
      expect((err as AnalysisRefusedError).code).to.equal('slice-gap');
    }
  });

  it('plans a single slice with its SliceThickness as spacing', () => {
    const plan = planVolumeOrThrow(stack(1, 3));
    expect(plan.geometry.dims[2]).to.equal(1);
    expect(plan.geometry.spacing[2]).to.equal(3);
  });
});
