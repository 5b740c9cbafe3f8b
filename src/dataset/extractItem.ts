/**
 * One dataset item from a study's two HU volumes: the classifier crops around the tumour centre
 * of each phase and, when the tumour mask is known (synthetic studies), the localiser inputs and
 * their target masks on the same grid. Only the shared preprocessing (src/inference/preprocessing)
 * makes model inputs, so the dataset holds exactly what the node feeds its models.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CropSpec, LocalizerSpec, Phase } from '../inference/manifest';
import { extractCrop, extractLocalizerInputs } from '../inference/preprocessing';
import type { Geometry, Vec3 } from '../study/geometry';
import type { HuVolume } from '../study/volume';
import { itemFiles, type DatasetItem } from './datasetManifest';
import { encodeNpy } from './npy';

export const PHASES: readonly Phase[] = ['arterial', 'venous'];

export interface ExtractionInput {
  volumes: Record<Phase, Pick<HuVolume, 'geometry' | 'data'>>;
  centresMm: Record<Phase, Vec3>;
  /** The tumour mask of a phase rasterised on a grid in patient space; absent when unknown. */
  mask?: (phase: Phase, grid: Geometry) => Uint8Array;
  crop: CropSpec;
  localizer: LocalizerSpec;
}

export interface ExtractedItem {
  crops: Record<Phase, Float32Array>;
  localizer?: Record<Phase, { input: Float32Array; mask: Uint8Array }>;
}

export function extractItem(input: ExtractionInput): ExtractedItem {
  const crops = {} as Record<Phase, Float32Array>;
  for (const phase of PHASES) crops[phase] = extractCrop(input.volumes[phase], input.centresMm[phase], input.crop);
  if (!input.mask) return { crops };
  const localizer = {} as Record<Phase, { input: Float32Array; mask: Uint8Array }>;
  const grids = extractLocalizerInputs(input.volumes, input.localizer);
  for (const phase of PHASES) {
    const grid = grids[phase];
    const mask = input.mask(phase, grid.geometry);
    if (mask.length !== grid.data.length) throw new Error(`the ${phase} mask has ${mask.length} voxels, the localiser grid ${grid.data.length}`);
    localizer[phase] = { input: grid.data, mask };
  }
  return { crops, localizer };
}

/** Writes item number n's arrays under outDir; returns the relative file names for the manifest. */
export function writeItemFiles(outDir: string, n: number, item: ExtractedItem, crop: CropSpec, localizer: LocalizerSpec): Pick<DatasetItem, 'crops' | 'localizer'> {
  const files = itemFiles(n);
  mkdirSync(path.join(outDir, 'crops'), { recursive: true });
  const cropShape = [crop.sliceOffsetsMm.length, crop.sizePx, crop.sizePx];
  for (const phase of PHASES) writeFileSync(path.join(outDir, files.crops[phase]), encodeNpy(item.crops[phase], cropShape));
  if (!item.localizer) return { crops: files.crops };
  mkdirSync(path.join(outDir, 'localizer'), { recursive: true });
  const [gx, gy, gz] = localizer.gridSize;
  const gridShape = [gz, gy, gx];
  for (const phase of PHASES) {
    writeFileSync(path.join(outDir, files.localizer[phase]), encodeNpy(item.localizer[phase].input, gridShape));
    const target = phase === 'arterial' ? files.localizer.arterialTarget : files.localizer.venousTarget;
    writeFileSync(path.join(outDir, target), encodeNpy(item.localizer[phase].mask, gridShape));
  }
  return { crops: files.crops, localizer: files.localizer };
}
