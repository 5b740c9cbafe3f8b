/**
 * One dataset item from a study's two HU volumes: the classifier crops around the tumour centre
 * of each phase and, when the tumour mask is known (synthetic studies), the localiser inputs and
 * their target masks on the same grid. When the pancreas mask is known too (@2), the venous
 * pancreas target on that grid and the stage-2 region of interest (roiSpec.ts): both phases on
 * one 2 mm grid centred on the pancreas, with the tumour and pancreas targets. Only the shared
 * preprocessing (src/inference/preprocessing) makes model inputs, so the dataset holds exactly
 * what the node feeds its models.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CropSpec, LocalizerSpec, Phase } from '../inference/manifest';
import { extractCrop, extractLocalizerInput, extractLocalizerInputs } from '../inference/preprocessing';
import { roiCentreFromMask } from '../inference/roiFinding';
import type { Geometry, Vec3 } from '../study/geometry';
import type { HuVolume } from '../study/volume';
import { itemFiles, type DatasetItem, type RoiItem } from './datasetManifest';
import { encodeNpy } from './npy';
import { roiGridSpec, type RoiSpec } from './roiSpec';

export const PHASES: readonly Phase[] = ['arterial', 'venous'];

type MaskOnGrid = (phase: Phase, grid: Geometry) => Uint8Array;

export interface ExtractionInput {
  volumes: Record<Phase, Pick<HuVolume, 'geometry' | 'data'>>;
  centresMm: Record<Phase, Vec3>;
  /** The tumour mask of a phase rasterised on a grid in patient space; absent when unknown. */
  mask?: MaskOnGrid;
  /** The pancreas mask (tumour included) of a phase on a grid; with `roi`, makes the item @2. */
  pancreasMask?: MaskOnGrid;
  /** The stage-2 region of interest and this study's jitter of its centre. */
  roi?: { spec: RoiSpec; jitterMm: Vec3 };
  crop: CropSpec;
  localizer: LocalizerSpec;
}

export interface ExtractedRoi {
  inputs: Record<Phase, Float32Array>;
  tumour: Record<Phase, Uint8Array>;
  pancreas: Uint8Array;
  centreMm: Vec3;
  jitterMm: Vec3;
}

export interface ExtractedItem {
  crops: Record<Phase, Float32Array>;
  localizer?: Record<Phase, { input: Float32Array; mask: Uint8Array }>;
  /** The venous pancreas mask on the localiser grid. */
  pancreas?: Uint8Array;
  roi?: ExtractedRoi;
}

function checkedMask(mask: MaskOnGrid, phase: Phase, grid: Geometry, what: string): Uint8Array {
  const values = mask(phase, grid);
  const voxels = grid.dims[0] * grid.dims[1] * grid.dims[2];
  if (values.length !== voxels) throw new Error(`the ${phase} ${what} mask has ${values.length} voxels, its grid ${voxels}`);
  return values;
}

function extractRoi(input: ExtractionInput, coarse: Geometry, pancreasOnCoarse: Uint8Array): ExtractedRoi | undefined {
  const { spec, jitterMm } = input.roi!;
  const boxCentre = roiCentreFromMask(pancreasOnCoarse, coarse);
  if (!boxCentre) return undefined;
  const centreMm: Vec3 = [boxCentre[0] + jitterMm[0], boxCentre[1] + jitterMm[1], boxCentre[2] + jitterMm[2]];
  const gridSpec = roiGridSpec(spec);
  const inputs = {} as Record<Phase, Float32Array>;
  const tumour = {} as Record<Phase, Uint8Array>;
  let grid: Geometry | undefined;
  for (const phase of PHASES) {
    const extracted = extractLocalizerInput(input.volumes[phase], gridSpec, centreMm);
    inputs[phase] = extracted.data;
    grid = extracted.geometry;
    tumour[phase] = checkedMask(input.mask!, phase, grid, 'tumour');
  }
  return { inputs, tumour, pancreas: checkedMask(input.pancreasMask!, 'venous', grid!, 'pancreas'), centreMm, jitterMm };
}

export function extractItem(input: ExtractionInput): ExtractedItem {
  const crops = {} as Record<Phase, Float32Array>;
  for (const phase of PHASES) crops[phase] = extractCrop(input.volumes[phase], input.centresMm[phase], input.crop);
  if (!input.mask) return { crops };
  const localizer = {} as Record<Phase, { input: Float32Array; mask: Uint8Array }>;
  const grids = extractLocalizerInputs(input.volumes, input.localizer);
  for (const phase of PHASES) localizer[phase] = { input: grids[phase].data, mask: checkedMask(input.mask, phase, grids[phase].geometry, 'tumour') };
  if (!input.pancreasMask) return { crops, localizer };
  const coarse = grids.venous.geometry;
  const pancreas = checkedMask(input.pancreasMask, 'venous', coarse, 'pancreas');
  const item: ExtractedItem = { crops, localizer, pancreas };
  const roi = input.roi ? extractRoi(input, coarse, pancreas) : undefined;
  if (roi) item.roi = roi;
  return item;
}

function writeRoiFiles(outDir: string, files: ReturnType<typeof itemFiles>['roi'], roi: ExtractedRoi, spec: RoiSpec): RoiItem {
  mkdirSync(path.join(outDir, 'roi'), { recursive: true });
  const [gx, gy, gz] = spec.gridSize;
  const shape = [gz, gy, gx];
  writeFileSync(path.join(outDir, files.arterial), encodeNpy(roi.inputs.arterial, shape));
  writeFileSync(path.join(outDir, files.venous), encodeNpy(roi.inputs.venous, shape));
  writeFileSync(path.join(outDir, files.arterialTarget), encodeNpy(roi.tumour.arterial, shape));
  writeFileSync(path.join(outDir, files.venousTarget), encodeNpy(roi.tumour.venous, shape));
  writeFileSync(path.join(outDir, files.pancreasTarget), encodeNpy(roi.pancreas, shape));
  const round = (v: Vec3): [number, number, number] => [v[0], v[1], v[2]].map((x) => Math.round(x * 1000) / 1000) as [number, number, number];
  return { ...files, centreMm: round(roi.centreMm), jitterMm: round(roi.jitterMm) };
}

/** Writes item number n's arrays under outDir; returns the relative file names for the manifest. */
export function writeItemFiles(outDir: string, n: number, item: ExtractedItem, crop: CropSpec, localizer: LocalizerSpec, roiSpec?: RoiSpec): Pick<DatasetItem, 'crops' | 'localizer' | 'roi'> {
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
  const { pancreasTarget, ...tumourFiles } = files.localizer;
  if (!item.pancreas) return { crops: files.crops, localizer: tumourFiles };
  writeFileSync(path.join(outDir, pancreasTarget), encodeNpy(item.pancreas, gridShape));
  const written: Pick<DatasetItem, 'crops' | 'localizer' | 'roi'> = { crops: files.crops, localizer: files.localizer };
  if (item.roi && roiSpec) written.roi = writeRoiFiles(outDir, files.roi, item.roi, roiSpec);
  return written;
}
