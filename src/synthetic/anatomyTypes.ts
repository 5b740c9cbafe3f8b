/**
 * The types of one patient's drawn anatomy (anatomy.ts draws it; the organ-system files fill it
 * in), apart from the drawing so that those files and the drawing do not import each other.
 */
import type { Vec3 } from '../study/geometry';
import type { IntervalShape } from './shapes';
import type { Tissue } from './tissues';
import type { TumourShape } from './tumourShape';

export interface Structure {
  name: string;
  tissue: Tissue;
  shapes: IntervalShape[];
  /** Moves with breathing between phases (abdominal organs); the body wall and spine do not. */
  moves: boolean;
  /** The tumour is painted voxel by voxel from its TumourShape instead of intervals. */
  isTumour?: boolean;
}

export type PancreasRegion = 'uncinate process' | 'head' | 'neck' | 'body' | 'tail';

export type VesselName =
  | 'superior mesenteric vein'
  | 'portal vein'
  | 'splenic vein'
  | 'superior mesenteric artery'
  | 'coeliac trunk'
  | 'common hepatic artery'
  | 'splenic artery'
  | 'aorta'
  | 'inferior vena cava';

export interface VesselCentreline {
  name: VesselName;
  /** Points about 1 mm apart (local frame) and the radius at each. */
  points: Vec3[];
  radii: number[];
  moves: boolean;
}

export interface TumourPlacement {
  centreLocal: Vec3;
  shape: TumourShape;
  diameterMm: number;
  region: PancreasRegion;
}

export interface Anatomy {
  structures: Structure[];
  tumour: TumourPlacement;
  vessels: VesselCentreline[];
  /** Body half-width and half-depth (mm) at the level of the pancreas. */
  bodyHalfWidthMm: number;
  bodyHalfDepthMm: number;
  /** z range (local mm) spanned by the pancreas. */
  pancreasZ: [number, number];
  /** Posterior edge of the body outline (local y), where the table starts. */
  bodyPosteriorY: number;
  /** Whether the main pancreatic duct is dilated upstream of the tumour. */
  ductDilated: boolean;
  gallbladder: boolean;
  /** Randomised profiles: the other secondary signs of the tumour. */
  secondarySigns?: { parenchymalAtrophy: boolean; bileDuctDilated: boolean };
}

export interface AnatomyOptions {
  /** Arterial-phase tumour-to-pancreas contrast; iso-attenuating tumours are drawn smaller (PHANTOM.md). */
  tpcArterialHu: number;
}
