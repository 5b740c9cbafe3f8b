/**
 * Model manifest: `models/<name>.json` beside `models/<name>.onnx`. Written by the training kit
 * (models/training/export.py), read and verified by the node at start-up. A contract: see
 * docs/model-card.md and ../../docs/decisions.md before changing a field.
 */
export type Phase = 'arterial' | 'venous';

export interface TensorSpec {
  name: string;
  /** Dimensions; a string names a dynamic axis (e.g. "batch"). */
  shape: Array<number | string>;
  dtype: 'float32' | 'int64' | 'uint8';
}

/**
 * How a 2.5D crop is cut from an HU volume. The same code (src/inference/preprocessing.ts) runs in
 * the dataset builder and in the node, so training and serving see bit-identical inputs.
 */
export interface CropSpec {
  /** Side of the square field of view, in mm, in the axial plane of patient space. */
  fieldOfViewMm: number;
  /** Pixels per side after resampling. */
  sizePx: number;
  /** Offsets along the patient z axis (mm) of the slices stacked as channels, e.g. [-3, 0, 3]. */
  sliceOffsetsMm: number[];
  /** HU window mapped to [0, 1] (values outside are clipped). */
  huWindow: { low: number; high: number };
  /** After windowing: (x - mean) / std. */
  normalisation: { mean: number; std: number };
  /** HU used for points outside the volume. */
  outsideHu: number;
  /**
   * Crop averaging: the classifier also runs on the crop moved by each of these whole-pixel
   * offsets [x, y] = [column, row] (edges repeated); the node averages the runs'
   * log-probabilities and their saliency maps moved back. Absent: one plain run (the same as
   * [[0, 0]]). Not part of how a crop is cut: the dataset builder ignores it.
   */
  averageShifts?: [number, number][];
}

/**
 * Input of the localiser: both phases resampled to one coarse isotropic grid (the venous
 * volume's), as channels in the order of the manifest's preprocessing.phases.
 */
export interface GridSpec {
  /** Isotropic voxel size of the resampled grid, in mm. */
  voxelMm: number;
  /** Fixed grid size [x, y, z] in voxels, centred on the volume's centre (or, for a cascade's second stage, on the ROI centre). */
  gridSize: [number, number, number];
  huWindow: { low: number; high: number };
  normalisation: { mean: number; std: number };
  outsideHu: number;
}

export interface LocalizerSpec extends GridSpec {
  /**
   * Single-stage localiser: below this peak probability the node says "tumour not found" instead
   * of guessing. Cascade localiser (with `roi`): a threshold on the calibrated localisation
   * confidence instead.
   */
  minConfidence: number;
  /**
   * Shift averaging: the localiser also runs on its input grid shifted by each of these whole
   * voxel offsets [x, y, z] (edges repeated), each output is shifted back, and the node uses the
   * mean. Absent: one plain run (the same as [[0, 0, 0]]).
   */
  averageShifts?: [number, number, number][];
  /**
   * Present: the second stage of the pancreas-first cascade (docs/model-card.md, "Localisation:
   * two stages"). The grid is centred on the ROI centre from the pancreas model's mask, the
   * output has three channels (tumour as the arterial image shows it, tumour as the venous image
   * shows it, pancreas), and the node needs the pancreas model named here. Absent: today's
   * whole-volume single-stage localiser.
   */
  roi?: RoiSpec;
  /** Cascade only: the calibration of the localisation confidence. Absent: confidence = the candidate's peak probability. */
  confidence?: ConfidenceSpec;
}

/** The names of the cascade's localisation features, in no particular order (the manifest's `confidence.features` orders them). */
export const LOCALISATION_FEATURES = ['peakLogit', 'meanProbability', 'pancreasOverlap', 'phaseDistanceMm', 'logVolumeMl', 'shiftSpreadMm'] as const;
export type LocalisationFeature = (typeof LOCALISATION_FEATURES)[number];

export interface RoiSpec {
  /** What the region of interest is centred on: the pancreas found by the first stage. */
  centredOn: 'pancreas';
  /** The first stage this localiser was trained behind; the node refuses to start with any other. */
  pancreasModel: { name: string; version: string; sha256: string };
  /** Venous tumour probability at or above which voxels form candidates (26-connected). */
  candidateLevel: number;
  /** Least fraction of a candidate's voxels inside the dilated pancreas mask for it to count as in the pancreas. */
  minPancreasOverlap: number;
  /** Dilation of the pancreas mask (mm) before the overlap is measured. */
  pancreasDilationMm: number;
  /** Largest distance (mm) between the arterial and venous tumour centres; beyond it the phases disagree. */
  maxPhaseDistanceMm: number;
}

/** Logistic calibration of the localisation confidence: sigmoid(intercept + sum(weights[i] * feature[features[i]])). */
export interface ConfidenceSpec {
  features: LocalisationFeature[];
  weights: number[];
  intercept: number;
  /** Which studies it was fitted on (free text). */
  fittedOn: string;
}

/**
 * The first stage of the cascade (manifest kind "pancreas"): the venous volume on the coarse
 * whole-volume grid in, P(pancreas) out.
 */
export interface PancreasSpec extends GridSpec {
  /** P(pancreas) at or above which a voxel is pancreas. */
  threshold: number;
  /** Below this volume (ml) of the mask's largest component the node refuses (pancreas-not-found). */
  minVolumeMl: number;
}

export interface ModelMetrics {
  /** Free-form evaluation figures, e.g. { "aucFused": 0.93, "n": 400 }. */
  [key: string]: number | string;
}

export interface ModelManifest {
  schema: 'tsr-node/model-manifest@1';
  name: string;
  version: string;
  kind: 'classifier' | 'localizer' | 'pancreas';
  /** File name of the ONNX model, relative to the manifest. */
  file: string;
  /** sha256 (hex) of the ONNX file; the node refuses a model that does not match. */
  sha256: string;
  opset: number;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  preprocessing: {
    /** Classifier: its inputs, one crop per phase. Localiser: the channel order of its input (arterial and venous, once each). Pancreas model: [venous]. */
    phases: Phase[];
    crop?: CropSpec;
    localizer?: LocalizerSpec;
    /** Pancreas model (the cascade's first stage) only. */
    pancreas?: PancreasSpec;
  };
  /** Classifier only: output class order and the operating threshold on P(high TSR). */
  classLabels?: string[];
  threshold?: number;
  /** Label definition, e.g. "TSR low = stroma fraction >= 0.5". */
  labelDefinition?: string;
  trainedOn: string;
  intendedUse: string;
  metrics?: ModelMetrics;
  createdAt: string;
}
