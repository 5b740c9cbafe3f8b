/**
 * What a randomised centre profile drew for one study (ground-truth.json `randomisation`): every
 * value the domain randomisation chose, so that a study can be explained and a test can check
 * that the pixels and the DICOM show what was drawn. Studies of the baseline profile have no
 * such section (their ground truth is the one the generator always wrote).
 */
import type { Vec3 } from '../study/geometry';
import type { NamingStyle } from './naming';
import type { PancreasRegion } from './anatomyTypes';
import type { Tissue } from './tissues';

export type TumourShapeKind = 'round' | 'lobulated' | 'infiltrative';
export type KernelSharpness = 'smooth' | 'standard' | 'sharp';

export interface PopulationDraw {
  bodyHalfWidthMm: number;
  bodyDepthRatio: number;
  subcutaneousFatScale: number;
  organScale: { liver: number; spleen: number; kidneys: number };
  /** How far each organ moved from its usual place (local mm). */
  organShiftMm: { liver: Vec3; spleen: Vec3; kidneys: Vec3; stomach: Vec3 };
  stomachFilling: number;
  bowelLoops: number;
  bowelCalibreScale: number;
  pancreas: { thicknessScale: number; tailHeightMm: number; courseOffsetsMm: Vec3[] };
  /** The reconstruction centre's offset from the body's centre line (mm): the patient's place in the field of view. */
  fieldOfViewOffsetMm: [number, number];
}

export interface AcquisitionDraw {
  matrix: number;
  pixelSpacingMm: number;
  fieldOfViewMm: number;
  sliceThicknessMm: number;
  sliceIntervalMm: number;
  slices: number;
  coverageMm: number;
  kvp: number;
  /** Iodine enhancement at this kV relative to 120 kV. */
  iodineFactor: number;
  /** Iodine dose of the kV-adapted protocol relative to 120 kV (the contrast volume written is scaled by it). */
  iodineDoseFactor: number;
  doseFactor: number;
  kernel: string;
  kernelSharpness: KernelSharpness;
  /** Noise SD of the thin phase series (HU). */
  noiseSdHu: number;
  timingTagsPresent: boolean;
  seriesNaming: NamingStyle;
}

export interface ContrastDraw {
  arterialDelaySeconds: number;
  venousDelaySeconds: number;
  /** The patient's enhancement strength (1 = usual). */
  strength: number;
  /**
   * Factor on every iodine enhancement of the pancreas and tumour in each phase (kV x strength x
   * timing): the tumour-to-pancreas contrast in the pixels is the 120 kV contrast times this.
   */
  enhancementScale: { arterial: number; venous: number };
}

export interface TumourDraw {
  region: PancreasRegion;
  shape: TumourShapeKind;
  /** Greatest diameter drawn (mm); the shape's largest semi-axis is half of it. */
  diameterMm: number;
  /** Iso-attenuating whatever the stroma (the mixture component the oracle integrates over). */
  isoAttenuating: boolean;
  /** Width (mm) over which the margin fades into the pancreas: wider for infiltrative tumours. */
  marginWidthMm: number;
  upstreamDuctDilated: boolean;
  parenchymalAtrophy: boolean;
  bileDuctDilated: boolean;
  /** Diameter (mm) of the main pancreatic duct upstream (1.2 mm radius when not dilated) and of the common bile duct. */
  ductDiameterMm: number;
  bileDuctDiameterMm: number;
}

export interface IntensityDraw {
  /** HU added to each tissue, per phase (pancreas and tumour share one offset). */
  tissueHuOffsets: { arterial: Partial<Record<Tissue, number>>; venous: Partial<Record<Tissue, number>> };
  noiseSdHu: number;
  blurFwhmMm: number;
  /** Bias field: amplitude (HU) and the direction of its gradient in the slice (radians). */
  biasField: { amplitudeHu: number; angle: number };
}

export interface StudyRandomisation {
  population: PopulationDraw;
  acquisition: AcquisitionDraw;
  contrast: ContrastDraw;
  tumour: TumourDraw;
  /** Venous minus arterial displacement of the abdominal organs (mm): what the two phases' tumour centres differ by. */
  misregistrationMm: Vec3;
  intensity: IntensityDraw | null;
}
