/**
 * Scoring and ranking of eligible series: a score from the strength of the phase evidence (shared
 * by the reconstructions of one acquisition) and the preference for a reconstruction (ORIGINAL,
 * thin), the order of the series of one phase, and the best arterial and venous pair on one
 * frame of reference. Explicit weights, each recorded on the candidate as a passed rule.
 */
import { formatNumber } from './phaseExplanation';
import type { SelectionRules } from './selectionRules';
import { recordPass, sameAcquisition, type SeriesReview } from './seriesReview';

/** Evidence strength (of the acquisition): the sources that agree with the phase, the preferred wording, the core timing window. */
function evidenceScore(review: SeriesReview, rules: SelectionRules): number {
  const { candidate } = review;
  let score = 0;
  for (const evidence of candidate.evidence) {
    if (evidence.phase !== candidate.phase) continue;
    score += evidence.source === 'timing' || evidence.source === 'image' ? 3 : evidence.source === 'description' ? 2 : 1;
  }
  if (candidate.phase === 'arterial' && review.pancreaticWording) {
    score += 1;
    recordPass(review, 'preferred-wording', 'named as the pancreatic / late arterial phase');
  }
  if (review.delay !== undefined) {
    const core = candidate.phase === 'arterial' ? rules.timing.pancreaticCoreSeconds : candidate.phase === 'venous' ? rules.timing.venousCoreSeconds : undefined;
    if (core && review.delay >= core[0] && review.delay <= core[1]) {
      score += 1;
      recordPass(review, 'core-timing', `delay ${review.delay} s inside the core window ${core[0]}-${core[1]} s`);
    }
  }
  return score;
}

/** Reconstruction preference: ORIGINAL\PRIMARY images, thin slices. */
function reconstructionScore(review: SeriesReview, rules: SelectionRules): number {
  let score = 0;
  if (review.original) {
    score += 2;
    recordPass(review, 'original-primary', 'ImageType ORIGINAL\\PRIMARY');
  }
  if (review.thickness !== undefined) {
    if (review.thickness <= rules.preference.thinMm) {
      score += 2;
      recordPass(review, 'thin-reconstruction', `${formatNumber(review.thickness)} mm <= ${rules.preference.thinMm} mm`);
    } else if (review.thickness <= 2 * rules.preference.thinMm) {
      score += 1;
      recordPass(review, 'thin-reconstruction', `${formatNumber(review.thickness)} mm <= ${2 * rules.preference.thinMm} mm`);
    }
  }
  return score;
}

/** The score of an eligible series: evidence strength, then reconstruction preference. */
export function scoreCandidate(review: SeriesReview, rules: SelectionRules): void {
  const evidence = evidenceScore(review, rules);
  const recon = reconstructionScore(review, rules);
  review.evidenceScore = evidence;
  review.reconScore = recon;
  review.candidate.score = evidence + recon;
}

/**
 * Reconstructions of one acquisition share its phase evidence: a thin series named only by its
 * kernel is as much the arterial phase as the 5 mm series named "ART" beside it. So each eligible
 * series scores the best evidence of its acquisition plus its own reconstruction preference, and
 * among recons of one acquisition the thinner ORIGINAL one wins.
 */
export function shareAcquisitionEvidence(reviews: SeriesReview[], rules: SelectionRules): void {
  const eligible = reviews.filter((review) => review.candidate.eligible);
  for (const review of eligible) {
    const peers = eligible.filter((peer) => peer !== review && peer.candidate.phase === review.candidate.phase && sameAcquisition(peer, review, rules));
    const best = peers.reduce<SeriesReview | undefined>(
      (strongest, peer) => ((peer.evidenceScore ?? 0) > (strongest?.evidenceScore ?? review.evidenceScore ?? 0) ? peer : strongest),
      undefined,
    );
    if (best === undefined) continue;
    review.candidate.score = (best.evidenceScore ?? 0) + (review.reconScore ?? 0);
    review.candidate.details.passed.push({
      rule: 'same-acquisition',
      detail: `another reconstruction of this acquisition, series ${best.summary.seriesNumber ?? '?'} "${best.summary.seriesDescription}", carries stronger phase evidence`,
    });
  }
}

/** Best first: score, then thinner, then more slices, then series number, then UID. */
function rank(a: SeriesReview, b: SeriesReview): number {
  return (
    b.candidate.score - a.candidate.score ||
    (a.thickness ?? 99) - (b.thickness ?? 99) ||
    b.summary.instanceCount - a.summary.instanceCount ||
    (a.summary.seriesNumber ?? 1e9) - (b.summary.seriesNumber ?? 1e9) ||
    a.summary.seriesInstanceUID.localeCompare(b.summary.seriesInstanceUID)
  );
}

/** The eligible series of one phase, best first. */
export function rankedEligible(reviews: SeriesReview[], phase: 'arterial' | 'venous'): SeriesReview[] {
  return reviews.filter((review) => review.candidate.eligible && review.candidate.phase === phase).sort(rank);
}

/**
 * The arterial and venous series with the highest summed score (the first such pair in rank
 * order), on one frame of reference when the rules require it; undefined when no pair qualifies.
 */
export function bestPair(arterial: SeriesReview[], venous: SeriesReview[], rules: SelectionRules): [SeriesReview, SeriesReview] | undefined {
  let best: [SeriesReview, SeriesReview] | undefined;
  for (const arterialSeries of arterial) {
    for (const venousSeries of venous) {
      const arterialFrame = arterialSeries.candidate.frameOfReferenceUID;
      const venousFrame = venousSeries.candidate.frameOfReferenceUID;
      const sameFrame = arterialFrame === undefined || venousFrame === undefined || arterialFrame === venousFrame;
      if (rules.requireSameFrameOfReference && !sameFrame) continue;
      if (best === undefined || arterialSeries.candidate.score + venousSeries.candidate.score > best[0].candidate.score + best[1].candidate.score) {
        best = [arterialSeries, venousSeries];
      }
    }
  }
  return best;
}
