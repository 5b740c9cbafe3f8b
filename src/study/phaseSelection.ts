/**
 * Phase selection: from the series summaries of one study (and, when metadata cannot decide, image
 * evidence), pick exactly one pancreatic/arterial and one portal-venous axial CT series, or say
 * precisely why not. Pure and explained: every series considered becomes a candidate with the
 * rules it passed and failed and a score, in the manner of OHIF's hanging-protocol matching
 * (`{score, details: {passed, failed}}`).
 *
 * Stages (docs/phase-selection.md has the user-facing version):
 *  1. Gates, in order; the first failed one is the candidate's `failureCode`: CT modality; CT Image
 *     Storage SOP class; not a dose report; not a localizer; body part; axial; not a
 *     reformat/projection; one frame of reference; enough slices; thin enough; a regular grid
 *     (volumePlan.ts on the metadata: gaps, duplicates, tilt, spacing).
 *  2. Phase from metadata: SeriesDescription patterns; the delay from ContrastBolusStartTime to the
 *     first AcquisitionTime (or SeriesTime); failing both, the order of two contrast acquisitions.
 *     Agreeing sources give the phase; disagreeing ones make it `contradictory`.
 *  3. Study-level doubt: when one phase is missing and the other is claimed by several distinct
 *     acquisitions (e.g. two series both called "venous"), those claims are `suspect`.
 *  4. Image evidence (aorta vs portal vein HU), when given, decides unknown, contradictory and
 *     suspect series. The caller fetches it for the series listed in `needsImageEvidence`.
 *  5. The best arterial and venous series (by score) on one frame of reference.
 *
 * This file runs the stages and gives the verdict; beside it: phaseTypes.ts (the types),
 * seriesReview.ts (the working state of one series), phaseGates.ts (1), phasePatterns.ts and
 * phaseFromMetadata.ts (2, 3), phaseFromImages.ts (4), phaseScoring.ts (scores, ranking, 5) and
 * phaseExplanation.ts (the texts: why a series was chosen, why a study cannot be analysed).
 */
import type { ReasonCode } from '../errors';
import { chosenSeries, whyPhaseMissing } from './phaseExplanation';
import { seriesNeedingImages, weighImageEvidence } from './phaseFromImages';
import { markStudyLevelDoubt, metadataPhase, relativeTiming } from './phaseFromMetadata';
import { GATES, runPhaseGates, runSeriesGates } from './phaseGates';
import { compilePatterns } from './phasePatterns';
import { bestPair, rankedEligible, scoreCandidate, shareAcquisitionEvidence } from './phaseScoring';
import type { Candidate, ImageEvidence, PhaseSelection } from './phaseTypes';
import type { SelectionRules } from './selectionRules';
import type { SeriesReview } from './seriesReview';
import type { SeriesSummary } from './seriesSummary';

export type { Candidate, ChosenSeries, ImageEvidence, Phase, PhaseEvidence, PhaseSelection, PhaseState, RuleResult } from './phaseTypes';
export { phaseFromDescription } from './phasePatterns';

/** A fresh review of one series: its candidate, not yet through any gate. */
function reviewOf(summary: SeriesSummary): SeriesReview {
  const thickness = summary.sliceThicknesses.length > 0 ? Math.min(...summary.sliceThicknesses) : undefined;
  const candidate: Candidate = {
    seriesInstanceUID: summary.seriesInstanceUID,
    seriesDescription: summary.seriesDescription,
    instanceCount: summary.instanceCount,
    phase: 'unknown',
    metadataPhase: 'unknown',
    evidence: [],
    eligible: false,
    suspect: false,
    score: 0,
    details: { passed: [], failed: [] },
  };
  if (summary.seriesNumber !== undefined) candidate.seriesNumber = summary.seriesNumber;
  if (summary.modality !== undefined) candidate.modality = summary.modality;
  if (thickness !== undefined) candidate.sliceThicknessMm = thickness;
  if (summary.frameOfReferenceUIDs.length === 1) candidate.frameOfReferenceUID = summary.frameOfReferenceUIDs[0];
  const original = summary.imageTypes.length > 0 && summary.imageTypes.every((imageType) => imageType[0] === 'ORIGINAL' && imageType[1] === 'PRIMARY');
  return { summary, candidate, gateReached: GATES.length, gatesPassed: false, thickness, original, pancreaticWording: false };
}

/** Where the stages left a study: its reviews, the eligible series of each phase (best first), the unresolved ones. */
interface StagesDone {
  summaries: SeriesSummary[];
  reviews: SeriesReview[];
  arterial: SeriesReview[];
  venous: SeriesReview[];
  unresolved: SeriesReview[];
  needsImageEvidence: string[];
}

/** The verdict: the chosen pair, or why the study cannot be analysed. */
function verdict(stages: StagesDone, rules: SelectionRules): PhaseSelection {
  const { summaries, reviews, arterial, venous, needsImageEvidence } = stages;
  const candidates = reviews.map((review) => review.candidate);
  const notAnalyzable = (reasonCode: ReasonCode, reason: string): PhaseSelection => ({
    analyzable: false,
    reasonCode,
    reason,
    arterial: arterial.length > 0 ? chosenSeries(arterial[0]) : null,
    venous: venous.length > 0 ? chosenSeries(venous[0]) : null,
    candidates,
    needsImageEvidence,
  });

  if (summaries.length === 0) return notAnalyzable('study-not-found', 'QIDO-RS found no series: the study is not in the PACS (or not visible to the node)');
  if (!reviews.some((review) => review.summary.modality === 'CT')) {
    const modalities = [...new Set(reviews.map((review) => review.summary.modality ?? '?'))].join(', ');
    return notAnalyzable('no-ct-series', `the study has no CT series (modalities: ${modalities})`);
  }

  if (arterial.length > 0 && venous.length > 0) {
    const pair = bestPair(arterial, venous, rules);
    if (pair === undefined) {
      return {
        ...notAnalyzable('mixed-frame-of-reference', 'the arterial and portal-venous series have different FrameOfReferenceUIDs; their patient coordinates cannot be compared'),
        arterial: chosenSeries(arterial[0]),
        venous: chosenSeries(venous[0]),
      };
    }
    return { analyzable: true, arterial: chosenSeries(pair[0]), venous: chosenSeries(pair[1]), candidates, needsImageEvidence };
  }

  const { reasonCode, reason } = whyPhaseMissing(reviews, arterial, venous, stages.unresolved, needsImageEvidence);
  return notAnalyzable(reasonCode, reason);
}

/**
 * Selects the arterial and portal-venous series of a study. `imageEvidence` holds measurements
 * for some series (see `needsImageEvidence` of a first call without it).
 */
export function selectPhases(summaries: SeriesSummary[], rules: SelectionRules, imageEvidence: ImageEvidence[] = []): PhaseSelection {
  const patterns = compilePatterns(rules);
  const reviews = summaries.map(reviewOf);
  for (const review of reviews) {
    runSeriesGates(review, rules, patterns);
    review.gatesPassed = review.candidate.failureCode === undefined;
    if (review.summary.modality === 'CT') metadataPhase(review, rules, patterns);
  }
  relativeTiming(reviews, rules);
  const open = reviews.filter((review) => review.gatesPassed);
  markStudyLevelDoubt(open, rules);

  const evidenceBySeries = new Map(imageEvidence.map((measured) => [measured.seriesInstanceUID, measured]));
  weighImageEvidence(open, evidenceBySeries, rules);
  for (const review of open) {
    runPhaseGates(review);
    if (review.candidate.eligible) scoreCandidate(review, rules);
  }
  shareAcquisitionEvidence(reviews, rules);

  const arterial = rankedEligible(reviews, 'arterial');
  const venous = rankedEligible(reviews, 'venous');
  const unresolvedCodes: (ReasonCode | undefined)[] = ['phase-undetermined', 'phase-contradictory', 'phase-ambiguous'];
  const unresolved = open.filter((review) => !review.candidate.eligible && unresolvedCodes.includes(review.candidate.failureCode));
  const needsImageEvidence = seriesNeedingImages(arterial, venous, unresolved, evidenceBySeries);
  return verdict({ summaries, reviews, arterial, venous, unresolved, needsImageEvidence }, rules);
}
