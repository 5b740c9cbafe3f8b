/**
 * Default preprocessing specs: the one place in code where they are written down. The dataset
 * builder writes them into the dataset manifest, the training kit copies them into each model
 * manifest, and the node always uses the spec of the manifest it loaded (these defaults only
 * apply when a dataset is built without a model at hand).
 */
import type { CropSpec, LocalizerSpec } from './manifest';

export const DEFAULT_CROP_SPEC: Readonly<CropSpec> = Object.freeze({
  fieldOfViewMm: 80,
  sizePx: 64,
  sliceOffsetsMm: [-5, 0, 5],
  huWindow: { low: -100, high: 300 },
  normalisation: { mean: 0.5, std: 0.25 },
  outsideHu: -1000,
});

export const DEFAULT_LOCALIZER_SPEC: Readonly<LocalizerSpec> = Object.freeze({
  voxelMm: 4,
  gridSize: [96, 96, 48] as [number, number, number],
  huWindow: { low: -200, high: 300 },
  normalisation: { mean: 0.5, std: 0.25 },
  outsideHu: -1000,
  minConfidence: 0.5,
});

/** A deep, mutable copy (JSON-safe), e.g. to write into a manifest. */
export function cloneCropSpec(spec: Readonly<CropSpec> = DEFAULT_CROP_SPEC): CropSpec {
  return JSON.parse(JSON.stringify(spec)) as CropSpec;
}

export function cloneLocalizerSpec(spec: Readonly<LocalizerSpec> = DEFAULT_LOCALIZER_SPEC): LocalizerSpec {
  return JSON.parse(JSON.stringify(spec)) as LocalizerSpec;
}
