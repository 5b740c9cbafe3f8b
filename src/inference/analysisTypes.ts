/**
 * The types one study's analysis shares between its single-stage path (analyse.ts) and its
 * pancreas-first cascade (cascadeLocalisation.ts). analyse.ts re-exports them.
 */
import type { Vec3 } from '../study/geometry';
import type { HuVolume } from '../study/volume';
import type { Phase } from './manifest';
import type { CascadeDecision, PancreasMask } from './roiFinding';
import type { ProbabilityGrid, TumourFinding } from './tumourFinding';

export interface AnalysisInput {
  arterial: HuVolume;
  venous: HuVolume;
  /** SOP Class UID of each phase's source images; CT Image Storage when not given. */
  sopClassUIDs?: Partial<Record<Phase, string>>;
}

/**
 * What the cascade saw, for the evaluation (tsr-node evaluate): handed to `onCascade` once per
 * study, before any refusal is thrown, with whatever stages ran.
 */
export interface CascadeTrace {
  /** Stage 1: P(pancreas) on the coarse grid and the mask taken from it (absent when no voxel reached the threshold). */
  pancreas?: { grid: ProbabilityGrid; found?: PancreasMask };
  /** Stage 2's maps on the ROI grid (averaged over the shifts) and the pancreas mask of the overlap (before dilation). */
  roi?: { venous: ProbabilityGrid; arterial: ProbabilityGrid; pancreas: ProbabilityGrid; pancreasMask: Uint8Array };
  decision?: CascadeDecision;
}

export interface AnalysisOptions {
  /** Radius (mm) around the venous centre within which the arterial localiser peak is searched. */
  arterialSearchRadiusMm?: number;
  /** Cascade only: receives what the stages saw (the evaluation's Dice and features). */
  onCascade?: (trace: CascadeTrace) => void;
}

export interface PhaseLocalisation {
  /** The finding in this phase's own localiser output; undefined when the arterial run was not confident near the venous centre. */
  finding?: TumourFinding;
  grid: ProbabilityGrid;
  centreMm: Vec3;
  /** Arterial only: whether the local search moved the centre (false: the venous centre is used as is). */
  refined: boolean;
}

export const DEFAULT_ARTERIAL_SEARCH_RADIUS_MM = 20;
