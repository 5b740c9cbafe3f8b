/**
 * Everything one analysis produces, in one typed value: what the report builders
 * (src/results) need and what `tsr-node analyze` prints. Pixel arrays are left out of the JSON
 * printout (see toPrintable).
 */
import type { Geometry, Vec3 } from '../study/geometry';
import type { Phase } from './manifest';
import type { ProbabilityGrid } from './tumourFinding';

export interface ModelIdentity {
  name: string;
  version: string;
  sha256: string;
}

/** The stages of the node's model set (modelSet.ts), in the order the pipeline runs them. `pancreas` only with a cascade localiser. */
export type ModelRole = 'pancreas' | 'localizer' | 'classifier';

/** One stage of the model set that made an analysis. */
export interface StageIdentity extends ModelIdentity {
  role: ModelRole;
}

/** A grey-level image on the pixel grid of a key slice. */
export interface SliceImage {
  columns: number;
  rows: number;
  /** Row-major, `data[row * columns + column]`. */
  data: Float32Array;
}

export interface PhaseFinding {
  phase: Phase;
  seriesInstanceUID: string;
  /** The source image nearest the tumour centre along the slice normal. */
  keySopInstanceUID: string;
  keySliceIndex: number;
  /** Tumour centre in patient coordinates (mm) as found in this phase. */
  tumourCentreMm: Vec3;
  /** Tumour centre on the key slice, in pixel coordinates (column, row), 0-based, pixel centres at integers. */
  tumourCentrePixel: [number, number];
  /** Closed tumour outline on the key slice, (column, row) pixel coordinates. */
  outlinePixels: Array<[number, number]>;
  /** PixelSpacing of the key slice as [row spacing, column spacing] in mm (DICOM order). */
  pixelSpacingMm: [number, number];
  /** HU of the key slice, for the overlay image. */
  keySliceHu: SliceImage;
  /** Saliency in [0, 1] resampled onto the key slice's grid (0 outside the crop). */
  saliency: SliceImage;
  /** Every source image of the series that went into the volume (image library, evidence). */
  sourceSopInstanceUIDs: string[];
  sopClassUID: string;
  /** The volume's grid: slice k is the image sourceSopInstanceUIDs[k] (where a SEG's frames go). */
  volumeGeometry: Geometry;
}

/**
 * The localisation the tumour was found in (venous phase): the localiser's probability grid, its
 * peak and the level that delimits the tumour component (tumourFinding.ts). The SEG's tumour
 * segment is that component. Left out of the JSON printout.
 */
export interface TumourLocalisation {
  grid: ProbabilityGrid;
  peakIndex: Vec3;
  level: number;
}

/**
 * The cascade's first stage (absent with a single-stage localiser): P(pancreas) on the coarse
 * whole-volume grid, the threshold, the mask (the largest component at the threshold, 1/0 on the
 * grid), its volume and the ROI centre the second stage was centred on. For a pancreas segment
 * later. Left out of the JSON printout but for volumeMl and roiCentreMm.
 */
export interface PancreasLocalisation {
  grid: ProbabilityGrid;
  level: number;
  mask: Uint8Array;
  volumeMl: number;
  roiCentreMm: Vec3;
}

export interface TsrAnalysis {
  studyInstanceUID: string;
  /** P(high TSR), in [0, 1]. */
  probabilityHigh: number;
  /** Class at the manifest's operating threshold. */
  label: 'low' | 'high';
  threshold: number;
  /** The model that made the TSR decision (also listed in `models`). */
  classifier: ModelIdentity;
  /** Every stage of the model set, in stage order: the result identity derives from all of them. */
  models: StageIdentity[];
  tumour: {
    centreMm: Vec3;
    diameterMm: number;
    /**
     * Single-stage localiser: its peak probability. Cascade localiser: the calibrated localisation
     * confidence, the probability that the reported centre lies in the tumour (the candidate's peak
     * when the manifest has no calibration: `confidenceCalibrated` says which).
     */
    confidence: number;
    /** Cascade only: true when `confidence` comes from the manifest's fitted calibration. */
    confidenceCalibrated?: boolean;
  };
  arterial: PhaseFinding;
  venous: PhaseFinding;
  tumourLocalisation: TumourLocalisation;
  /** Cascade only: the pancreas the first stage found. */
  pancreasLocalisation?: PancreasLocalisation;
  /** Stage timings in ms (localise, crop, classify; with a cascade also pancreas and tumour, the two parts of localise). */
  timingsMs: Record<string, number>;
}

/** The analysis as plain JSON, without pixel arrays. */
export function toPrintable(analysis: TsrAnalysis): Record<string, unknown> {
  const phase = (p: PhaseFinding): Record<string, unknown> => {
    const { keySliceHu: _k, saliency: _s, sourceSopInstanceUIDs, ...rest } = p;
    return { ...rest, sourceImageCount: sourceSopInstanceUIDs.length };
  };
  const { tumourLocalisation: _l, pancreasLocalisation, ...rest } = analysis;
  const pancreas = pancreasLocalisation ? { pancreasLocalisation: { volumeMl: pancreasLocalisation.volumeMl, roiCentreMm: pancreasLocalisation.roiCentreMm } } : {};
  return { ...rest, ...pancreas, arterial: phase(analysis.arterial), venous: phase(analysis.venous) };
}
