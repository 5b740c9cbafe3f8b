/**
 * The working state of phase selection for one series: its summary, the candidate being written
 * (rules passed and failed, evidence, phase, score) and the facts the stages share. Also the test
 * of whether two series are one acquisition, which several stages ask.
 */
import type { Candidate, ImageEvidence, Phase } from './phaseTypes';
import type { SelectionRules } from './selectionRules';
import type { SeriesSummary } from './seriesSummary';

export interface SeriesReview {
  summary: SeriesSummary;
  candidate: Candidate;
  /** Gates passed (index of the first failure, or gates.length). */
  gateReached: number;
  gatesPassed: boolean;
  descriptionVote?: Phase | 'contradictory';
  timingVote?: Phase;
  thickness?: number;
  original: boolean;
  pancreaticWording: boolean;
  delay?: number;
  /** The image evidence that set the phase, when images (not metadata) decided it. */
  imageDecided?: ImageEvidence;
  /** Score parts: phase evidence (shared by an acquisition's recons) and reconstruction preference. */
  evidenceScore?: number;
  reconScore?: number;
}

/** Records a passed rule on the candidate. */
export function recordPass(review: SeriesReview, rule: string, detail: string): void {
  review.candidate.details.passed.push({ rule, detail });
}

/** Whether two series are one acquisition (e.g. thick and thin reconstructions of one scan). */
export function sameAcquisition(a: SeriesReview, b: SeriesReview, rules: SelectionRules): boolean {
  const timeA = a.summary.acquisitionSeconds;
  const timeB = b.summary.acquisitionSeconds;
  if (timeA !== undefined && timeB !== undefined) return Math.abs(timeA - timeB) <= rules.timing.sameAcquisitionSeconds;
  // Without times: two series reconstructed alike (same thickness and slice count) are two scans;
  // different reconstructions are presumed to be of one scan.
  return !(a.thickness === b.thickness && a.summary.instanceCount === b.summary.instanceCount);
}

/** How many acquisitions the series are, grouping those that are one acquisition. */
export function distinctAcquisitions(reviews: SeriesReview[], rules: SelectionRules): number {
  const groups: SeriesReview[] = [];
  for (const review of reviews) if (!groups.some((group) => sameAcquisition(group, review, rules))) groups.push(review);
  return groups.length;
}
