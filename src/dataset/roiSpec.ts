/**
 * The stage-2 region of interest of a dataset (`tsr-node/dataset@2`): a 2 mm grid of fixed size,
 * axes along patient x, y, z, centred on the pancreas, both phases sampled on it by patient
 * coordinates. The training kit trains the tumour model on it; the node centres the same grid on
 * the pancreas its stage 1 finds.
 *
 * ROI centre: one rule for the dataset and the node, the node's `roiCentreFromMask`
 * (src/inference/roiFinding.ts), which the dataset builder calls on the true pancreas mask: the
 * largest 26-connected component of the pancreas mask on the coarse grid, its axis-aligned
 * bounding box in grid index space, the box's centre converted to patient mm. The dataset moves
 * it by a jitter (uniform in [-jitterMm, jitterMm] per axis, drawn from the study's seed) so that
 * the tumour model learns to work where stage 1's box is a little off.
 */
import type { LocalizerSpec } from '../inference/manifest';
import type { Vec3 } from '../study/geometry';

export interface RoiSpec {
  voxelMm: number;
  /** [x, y, z] voxels. */
  gridSize: [number, number, number];
  huWindow: { low: number; high: number };
  normalisation: { mean: number; std: number };
  outsideHu: number;
  /** Largest jitter of the ROI centre per axis (mm). */
  jitterMm: number;
}

export const DEFAULT_ROI_SPEC: Readonly<RoiSpec> = Object.freeze({
  voxelMm: 2,
  // 144 x 128 x 128 mm: the synthetic pancreas spans up to about 112 x 112 x 128 mm (head to
  // tail, uncinate to tail tip) on the training profiles.
  gridSize: [72, 64, 64] as [number, number, number],
  huWindow: { low: -200, high: 300 },
  normalisation: { mean: 0.5, std: 0.25 },
  outsideHu: -1000,
  jitterMm: 8,
});

export function cloneRoiSpec(spec: Readonly<RoiSpec> = DEFAULT_ROI_SPEC): RoiSpec {
  return JSON.parse(JSON.stringify(spec)) as RoiSpec;
}

/** The ROI spec as the grid spec the shared preprocessing takes. */
export function roiGridSpec(spec: RoiSpec): LocalizerSpec {
  return { voxelMm: spec.voxelMm, gridSize: spec.gridSize, huWindow: spec.huWindow, normalisation: spec.normalisation, outsideHu: spec.outsideHu, minConfidence: 0 };
}

/** The dataset's jitter of a study's ROI centre: uniform in [-jitterMm, jitterMm] per axis, from the seed. */
export function roiJitter(seed: number, jitterMm: number): Vec3 {
  // mulberry32 on the seed (a stream of its own: the generator's streams are not touched).
  let state = (seed ^ 0x9e3779b9) >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return [0, 1, 2].map(() => (2 * next() - 1) * jitterMm) as Vec3;
}
