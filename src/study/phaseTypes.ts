/**
 * The vocabulary of phase selection (phaseSelection.ts): the phases, the evidence for a phase, the
 * candidate every series becomes, and the selection returned. Types only.
 */
import type { ReasonCode } from '../errors';
import type { VesselPhase } from './vesselMeasurement';

export type Phase = 'arterial' | 'venous' | 'delayed' | 'non-contrast';
export type PhaseState = Phase | 'unknown' | 'contradictory';

export interface RuleResult {
  /** Stable rule id, e.g. `axial`, `description`. */
  rule: string;
  detail: string;
}

export interface PhaseEvidence {
  source: 'description' | 'timing' | 'relative-timing' | 'image';
  phase: Phase | 'inconclusive';
  detail: string;
}

/** Image evidence for one series, as the shell measured it. */
export interface ImageEvidence extends VesselPhase {
  seriesInstanceUID: string;
  slicesMeasured: number;
}

export interface Candidate {
  seriesInstanceUID: string;
  seriesNumber?: number;
  seriesDescription: string;
  modality?: string;
  instanceCount: number;
  sliceThicknessMm?: number;
  frameOfReferenceUID?: string;
  /** Phase after all evidence. */
  phase: PhaseState;
  /** Phase from metadata alone. */
  metadataPhase: PhaseState;
  evidence: PhaseEvidence[];
  /** Passed every gate and has a phase of interest. */
  eligible: boolean;
  /** First failed gate (a reason code), when not eligible. */
  failureCode?: ReasonCode;
  /** Another acquisition claims the same phase while the other phase is missing. */
  suspect: boolean;
  score: number;
  details: { passed: RuleResult[]; failed: RuleResult[] };
}

export interface ChosenSeries {
  seriesInstanceUID: string;
  seriesDescription: string;
  seriesNumber?: number;
  score: number;
  why: string[];
}

export interface PhaseSelection {
  analyzable: boolean;
  /** Stable reason code when not analyzable (docs/phase-selection.md lists them). */
  reasonCode?: ReasonCode;
  reason?: string;
  arterial: ChosenSeries | null;
  venous: ChosenSeries | null;
  candidates: Candidate[];
  /**
   * Series whose images would settle a phase (or show a thinner reconstruction of a chosen one);
   * the shell measures them and selects again. May be non-empty even when analyzable.
   */
  needsImageEvidence: string[];
}
