/**
 * The dataset folder written by `tsr-node dataset build` and read by the training kit
 * (models/training/). A contract between the two:
 *
 *   DATASET/manifest.json
 *   DATASET/crops/<n>_<phase>.npy           float32 [C, H, W]: windowed + normalised, exactly the classifier input
 *   DATASET/localizer/<n>_<phase>.npy       float32 [Z, Y, X]: the localiser input (grid = LocalizerSpec.gridSize reversed)
 *   DATASET/localizer/<n>_<phase>_mask.npy  uint8 [Z, Y, X]: tumour mask on the same grid (when known)
 *   DATASET/localizer/<n>_pancreas_mask.npy uint8 [Z, Y, X]: venous pancreas mask on that grid (@2, synthetic)
 *   DATASET/roi/<n>_<phase>.npy             float32 [Z, Y, X]: the stage-2 input, both phases on one 2 mm grid (@2)
 *   DATASET/roi/<n>_<phase>_mask.npy        uint8 [Z, Y, X]: tumour mask on the ROI grid, per phase (@2)
 *   DATASET/roi/<n>_pancreas_mask.npy       uint8 [Z, Y, X]: venous pancreas mask on the ROI grid (@2)
 *
 * @2 adds the pancreas targets and the ROI (roiSpec.ts); an item without them (a study whose
 * pancreas is not known, e.g. a folder study) is an @1 item inside an @2 dataset.
 */
import type { CropSpec, LocalizerSpec, Phase } from '../inference/manifest';
import type { TsrLabel } from './labels';
import type { RoiSpec } from './roiSpec';

export const DATASET_SCHEMA = 'tsr-node/dataset@2';

export interface DatasetItem {
  /** StudyInstanceUID. */
  id: string;
  label: TsrLabel;
  /** 0 = low, 1 = high (the classifier's output order). */
  labelIndex: 0 | 1;
  split?: 'train' | 'val' | 'test';
  /** The radiology-style findings text (synthetic cohort), the text side of CLIP pretraining. */
  findingsText?: string;
  crops: Record<Phase, string>;
  localizer?: { arterial: string; venous: string; arterialTarget: string; venousTarget: string; pancreasTarget?: string };
  /** @2: the stage-2 region of interest (inputs and targets on one grid) and where it was centred. */
  roi?: RoiItem;
  /** Synthetic only: the generator's oracle P(high) from the noise-free parameters. */
  oracle?: { fused: number; arterial: number; venous: number };
  /** Extra facts about the item (not read by the kit): seed, centres used, where they came from. */
  provenance?: {
    seed?: number;
    centreSource: 'ground-truth' | 'labels-csv' | 'localiser';
    centresMm: Record<Phase, [number, number, number]>;
    seriesInstanceUIDs: Record<Phase, string>;
  };
}

export interface RoiItem {
  arterial: string;
  venous: string;
  arterialTarget: string;
  venousTarget: string;
  pancreasTarget: string;
  /** The ROI grid's centre (patient mm): the true pancreas box's centre plus the jitter. */
  centreMm: [number, number, number];
  jitterMm: [number, number, number];
}

export interface SkippedStudy {
  id: string;
  /** AnalysisRefusedError code or another short reason. */
  code: string;
  reason: string;
}

export interface DatasetManifest {
  schema: typeof DATASET_SCHEMA;
  createdAt: string;
  /** Where the studies came from, e.g. "synthetic seeds 0..1999 (generator 1.0.0)". */
  source: string;
  crop: CropSpec;
  localizer: LocalizerSpec;
  /** @2: the stage-2 region of interest's grid. */
  roi?: RoiSpec;
  labelDefinition: string;
  items: DatasetItem[];
  /** Studies that could not be used, with the reason (not read by the kit). */
  skipped?: SkippedStudy[];
  /** Software that wrote it. */
  builtBy?: string;
}

/** File names of item number n (zero-padded so that a listing sorts in order). */
export function itemFiles(n: number): { crops: Record<Phase, string>; localizer: Required<NonNullable<DatasetItem['localizer']>>; roi: Omit<RoiItem, 'centreMm' | 'jitterMm'> } {
  const base = String(n).padStart(6, '0');
  return {
    crops: { arterial: `crops/${base}_arterial.npy`, venous: `crops/${base}_venous.npy` },
    localizer: {
      arterial: `localizer/${base}_arterial.npy`,
      venous: `localizer/${base}_venous.npy`,
      arterialTarget: `localizer/${base}_arterial_mask.npy`,
      venousTarget: `localizer/${base}_venous_mask.npy`,
      pancreasTarget: `localizer/${base}_pancreas_mask.npy`,
    },
    roi: {
      arterial: `roi/${base}_arterial.npy`,
      venous: `roi/${base}_venous.npy`,
      arterialTarget: `roi/${base}_arterial_mask.npy`,
      venousTarget: `roi/${base}_venous_mask.npy`,
      pancreasTarget: `roi/${base}_pancreas_mask.npy`,
    },
  };
}
