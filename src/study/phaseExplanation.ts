/**
 * How phase selection explains itself: the numbers and series as its texts write them, what a
 * chosen series says about why it was chosen, and the study's reason when a phase is missing (the
 * most specific one: an unresolved phase, a series of the missing phase that failed a gate, a
 * single phase, else the failure of the series that got furthest through the gates).
 */
import type { ReasonCode } from '../errors';
import type { ChosenSeries, Phase } from './phaseTypes';
import type { SeriesReview } from './seriesReview';

/** A study's reason when it is not analyzable. */
export interface StudyReason {
  reasonCode: ReasonCode;
  reason: string;
}

/** The generic gates that every eligible series passed: left out of a chosen series' `why`. */
const ROUTINE_GATES = new Set(['modality', 'sop-class', 'not-dose-report', 'not-localizer', 'body-part', 'not-reformat', 'single-frame-of-reference']);

/** Study-level reason codes for the furthest gate failure when no series is eligible. */
const STUDY_REASON: Partial<Record<ReasonCode, ReasonCode>> = {
  'not-ct': 'no-ct-series',
  localizer: 'localizer-only',
  'non-contrast': 'no-contrast-series',
  'delayed-phase': 'single-phase',
  'phase-ambiguous': 'ambiguous-phases',
  'phase-contradictory': 'ambiguous-phases',
};

/** A number as the explanations write it: at most two decimals, `?` when unknown. */
export function formatNumber(value: number | undefined, unit = ''): string {
  return value === undefined ? '?' : `${Math.round(value * 100) / 100}${unit}`;
}

export function seriesLabel(review: SeriesReview): string {
  return `series ${review.summary.seriesNumber ?? '?'} "${review.summary.seriesDescription}"`;
}

function phaseName(phase: Phase): string {
  return phase === 'arterial' ? 'pancreatic/arterial' : 'portal-venous';
}

export function chosenSeries(review: SeriesReview): ChosenSeries {
  const { summary, candidate } = review;
  const out: ChosenSeries = {
    seriesInstanceUID: summary.seriesInstanceUID,
    seriesDescription: summary.seriesDescription,
    score: candidate.score,
    // The generic gates (modality, SOP class, ...) passed for every eligible series; keep what tells this one apart.
    why: candidate.details.passed.filter((result) => !ROUTINE_GATES.has(result.rule)).map((result) => `${result.rule}: ${result.detail}`),
  };
  if (summary.seriesNumber !== undefined) out.seriesNumber = summary.seriesNumber;
  return out;
}

/** Nothing eligible: the failure of the candidate that got furthest through the gates. */
function furthestFailure(reviews: SeriesReview[]): StudyReason {
  const ctReviews = reviews.filter((review) => review.summary.modality === 'CT').sort((a, b) => b.gateReached - a.gateReached);
  const furthest = ctReviews[0];
  const code = furthest.candidate.failureCode ?? 'no-usable-series';
  const studyCode = STUDY_REASON[code] ?? code;
  const detail = furthest.candidate.details.failed[0]?.detail ?? '';
  const nonContrast = ctReviews.filter((review) => review.candidate.failureCode === 'non-contrast').map(seriesLabel);
  const messages: Record<string, string> = {
    'localizer-only': 'the study holds only localizer (scout) images',
    'no-contrast-series': `no contrast-enhanced series: ${nonContrast.join(', ')} ${ctReviews.length > 1 ? 'are' : 'is'} non-contrast`,
    'single-phase': `only a delayed phase: ${seriesLabel(furthest)}`,
  };
  return { reasonCode: studyCode, reason: messages[studyCode] ?? `no usable series; the best, ${seriesLabel(furthest)}, fails: ${detail}` };
}

/**
 * Why a study of CT series lacks an eligible arterial or venous series: explains the most
 * specific reason. `unresolved` are the series whose phase stayed unknown, contradictory or in doubt.
 */
export function whyPhaseMissing(
  reviews: SeriesReview[],
  arterial: SeriesReview[],
  venous: SeriesReview[],
  unresolved: SeriesReview[],
  needsImageEvidence: string[],
): StudyReason {
  const missing: Phase[] = arterial.length === 0 && venous.length === 0 ? ['arterial', 'venous'] : arterial.length === 0 ? ['arterial'] : ['venous'];

  if (unresolved.length > 0) {
    const ambiguous = unresolved.filter((review) => review.candidate.failureCode === 'phase-ambiguous' || review.candidate.failureCode === 'phase-contradictory');
    const list = unresolved.map(seriesLabel).join(', ');
    const tail = needsImageEvidence.length > 0 ? '; image evidence (aorta vs portal vein) is needed' : '; image evidence did not settle it';
    if (ambiguous.length > 0) {
      const doubts = ambiguous.map((review) => `${seriesLabel(review)} (${review.candidate.details.failed[review.candidate.details.failed.length - 1]?.detail})`);
      return { reasonCode: 'ambiguous-phases', reason: `cannot tell which series is the ${missing.map(phaseName).join(' and the ')} phase: ${doubts.join('; ')}${tail}` };
    }
    return { reasonCode: 'phase-undetermined', reason: `no description, timing or image evidence gives the phase of ${list}${tail}` };
  }

  // A series that names the missing phase but failed a gate is the most useful reason.
  const failedOfMissing = reviews
    .filter((review) => review.summary.modality === 'CT' && !review.gatesPassed && missing.some((phase) => review.candidate.metadataPhase === phase))
    .sort((a, b) => b.gateReached - a.gateReached);
  if (failedOfMissing.length > 0) {
    const review = failedOfMissing[0];
    const detail = review.candidate.details.failed[0]?.detail ?? '';
    return { reasonCode: review.candidate.failureCode!, reason: `the ${phaseName(review.candidate.metadataPhase as Phase)} ${seriesLabel(review)} cannot be used: ${detail}` };
  }

  if (missing.length === 1) {
    const found = missing[0] === 'arterial' ? venous[0] : arterial[0];
    return {
      reasonCode: 'single-phase',
      reason: `only the ${phaseName(missing[0] === 'arterial' ? 'venous' : 'arterial')} phase was found (${seriesLabel(found)}); no ${phaseName(missing[0])} series`,
    };
  }
  return furthestFailure(reviews);
}
