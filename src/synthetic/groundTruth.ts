/**
 * The ground-truth sidecar (`ground-truth.json`) written beside each synthetic study. It is never
 * put inside the DICOM: a model must not be able to read its answer from the files it analyses.
 */
import type { Vec3 } from '../study/geometry';
import type { EnhancementParameters, TsrLabel } from './biology';
import type { PancreasRegion } from './anatomyTypes';
import type { PixelEncodingName } from './encoding';
import type { SeriesRole } from './naming';
import type { OracleScores } from './oracle';
import type { LandmarkName } from './landmarks';
import type { StudyRandomisation } from './randomisationTruth';
import type { ContrastPhase, Tissue } from './tissues';
import type { TumourShape } from './tumourShape';
import type { VesselContact } from './vesselContact';

export const GROUND_TRUTH_SCHEMA = 'tsr-node/synthetic-ground-truth@1';
export const GROUND_TRUTH_FILE = 'ground-truth.json';

export interface SeriesTruth {
  seriesInstanceUID: string;
  seriesNumber: number;
  role: SeriesRole;
  seriesDescription: string;
  instanceCount: number;
  /** The contrast phase the pixels show (null for the dose report). */
  contrastPhase: ContrastPhase | null;
  /** Seconds after the start of contrast injection, for contrast phases. */
  delaySeconds?: number;
  sliceThicknessMm?: number;
  spacingBetweenSlicesMm?: number;
  /** Whether ContrastBolusStartTime and AcquisitionTime were written. */
  timingTagsPresent?: boolean;
  /** How InstanceNumber relates to position: spatial (head first), reversed, or shuffled. */
  instanceOrder?: 'head-first' | 'feet-first' | 'shuffled';
}

export interface PhaseTruth {
  seriesInstanceUID: string;
  /** The 5 mm reconstruction of the same acquisition, when written. */
  thickSeriesInstanceUID?: string;
  /** Tumour centre in this phase, patient coordinates (LPS, mm), breathing shift included. */
  tumourCentre: Vec3;
  /** Axis-aligned box (patient mm) that contains the whole tumour in this phase. */
  boundingBox: { min: Vec3; max: Vec3 };
  /** Displacement of the abdominal organs in this phase (mm); body wall and spine stay put. */
  breathingShiftMm: Vec3;
  delaySeconds: number;
}

/** A point deep inside one structure, in each phase (patient mm), for measuring HU from images. */
export interface LandmarkTruth {
  structure: LandmarkName;
  tissue: Tissue;
  /** No other tissue within this distance (mm) of the point, in either phase. */
  clearanceMm: number;
  arterial: Vec3;
  venous: Vec3;
}

export interface SyntheticGroundTruth {
  schema: typeof GROUND_TRUTH_SCHEMA;
  seed: number;
  generatorVersion: string;
  studyInstanceUID: string;
  frameOfReferenceUID: string;
  series: SeriesTruth[];
  phases: { arterial: PhaseTruth; venous: PhaseTruth };
  tumour: {
    region: PancreasRegion;
    /** Nominal greatest diameter, mm. */
    diameterMm: number;
    /** Shape for rasteriseTumourMask (axes in patient coordinates; see tumourShape.ts). */
    shape: TumourShape;
    stromaFraction: number;
    label: TsrLabel;
    labelDefinition: string;
    /** Noise-free enhancement parameters: the only route from the label to the pixels. */
    enhancement: EnhancementParameters;
    /** P(high TSR | enhancement parameters): both phases, arterial only, venous only. */
    oracle: { fused: number; arterial: number; venous: number } & OracleScores;
    vesselContact: VesselContact[];
    ductDilated: boolean;
  };
  findingsText: string;
  /** Noise-free HU of every tissue in the arterial and venous phases. */
  tissueHu: { arterial: Record<Tissue, number>; venous: Record<Tissue, number> };
  /** Points deep inside the aorta, portal vein, liver, spleen, ... (those within the scan). */
  landmarks: LandmarkTruth[];
  acquisition: {
    columns: number;
    rows: number;
    pixelSpacingMm: number;
    slices: number;
    sliceThicknessMm: number;
    spacingBetweenSlicesMm: number;
    encoding: PixelEncodingName;
    /** Standard deviation of the image noise added to the thin phase series, HU. */
    noiseSdHu: number;
  };
  patient: { sex: 'F' | 'M'; ageYears: number; weightKg: number; heightM: number };
  /** The centre profile (src/synthetic/profiles/); absent for the baseline profile. */
  profile?: string;
  /** Every value the profile's domain randomisation drew; absent for the baseline profile. */
  randomisation?: StudyRandomisation;
}
