/**
 * The phase of a series from its images (aorta vs portal vein HU, measured by the shell), for
 * series whose metadata left the phase unknown, contradictory or suspect; image-decided phases
 * checked against each other; and which series the shell should measure next.
 */
import type { ImageEvidence } from './phaseTypes';
import type { SelectionRules } from './selectionRules';
import { distinctAcquisitions, type SeriesReview } from './seriesReview';

function applyImageEvidence(review: SeriesReview, measured: ImageEvidence): void {
  const { candidate } = review;
  candidate.evidence.push({ source: 'image', phase: measured.phase, detail: measured.detail });
  if (measured.phase === 'inconclusive') return;
  const metadataDecided = candidate.metadataPhase !== 'unknown' && candidate.metadataPhase !== 'contradictory';
  if (!metadataDecided || candidate.suspect) {
    candidate.phase = measured.phase;
    candidate.suspect = false;
    review.imageDecided = measured;
  } else if (candidate.metadataPhase !== measured.phase) {
    candidate.phase = 'contradictory';
  }
}

/** The vessel that shows a phase best: the aorta for the arterial phase, the portal vein for the venous. */
function phaseVessel(phase: 'arterial' | 'venous', measured: ImageEvidence): number | undefined {
  return phase === 'arterial' ? measured.aortaHu : measured.portalVeinHu;
}

/**
 * Image-decided phases checked against each other. Reconstructions of one acquisition show the
 * same vessel HU; a misread scan (a non-contrast or delayed one measured as arterial) does not.
 * Per phase, the reference is the series whose metadata names the phase and whose images confirm
 * it, else the image-decided series with the brightest vessel (aorta for arterial, portal vein for
 * venous). Image-decided series whose vessel is more than `margin` below the reference lose the
 * phase. Those left that are distinct acquisitions by AcquisitionTime, with no metadata reference,
 * are too close to call: all become suspect.
 */
function resolveImageConflicts(open: SeriesReview[], rules: SelectionRules, evidence: Map<string, ImageEvidence>, margin = 1.15): void {
  for (const phase of ['arterial', 'venous'] as const) {
    const decided = open.filter((review) => review.imageDecided !== undefined && review.candidate.phase === phase);
    if (decided.length === 0) continue;
    const vesselOf = (review: SeriesReview): number => {
      const measured = review.imageDecided ?? evidence.get(review.summary.seriesInstanceUID);
      return (measured && phaseVessel(phase, measured)) ?? Number.NEGATIVE_INFINITY;
    };
    const confirmed = open.filter(
      (review) =>
        review.imageDecided === undefined && review.candidate.phase === phase && evidence.get(review.summary.seriesInstanceUID)?.phase === phase,
    );
    const referenceSeries = [...(confirmed.length > 0 ? confirmed : decided)].sort((a, b) => vesselOf(b) - vesselOf(a))[0];
    const reference = vesselOf(referenceSeries);
    const vessel = phase === 'arterial' ? 'aorta' : 'portal vein';
    const kept: SeriesReview[] = [];
    for (const review of decided) {
      if (vesselOf(review) * margin < reference) {
        review.candidate.phase = 'contradictory';
        review.candidate.evidence.push({
          source: 'image',
          phase: 'inconclusive',
          detail: `another series shows the ${phase} phase clearly better (${vessel} ${reference} HU against ${vesselOf(review)} HU here)`,
        });
      } else kept.push(review);
    }
    const timed = kept.filter((review) => review.summary.acquisitionSeconds !== undefined);
    if (confirmed.length === 0 && timed.length === kept.length && distinctAcquisitions(kept, rules) > 1) {
      for (const review of kept) review.candidate.suspect = true;
    }
  }
}

/** Applies the image evidence measured for the open series, then checks image-decided phases against each other. */
export function weighImageEvidence(open: SeriesReview[], evidenceBySeries: Map<string, ImageEvidence>, rules: SelectionRules): void {
  for (const review of open) {
    const measured = evidenceBySeries.get(review.summary.seriesInstanceUID);
    if (measured !== undefined) applyImageEvidence(review, measured);
  }
  resolveImageConflicts(open, rules, evidenceBySeries);
}

/**
 * The series whose images the shell should measure: the unresolved ones not yet measured, or,
 * when both phases were found, only thinner unresolved series and their chosen references.
 * `arterial` and `venous` are the eligible series, best first.
 */
export function seriesNeedingImages(
  arterial: SeriesReview[],
  venous: SeriesReview[],
  unresolved: SeriesReview[],
  evidenceBySeries: Map<string, ImageEvidence>,
): string[] {
  const unmeasured = (review: SeriesReview): boolean => !evidenceBySeries.has(review.summary.seriesInstanceUID);
  if (arterial.length > 0 && venous.length > 0) {
    // Both found. A thinner series of unknown phase may be a better reconstruction of the same
    // acquisition: measure it, and the chosen one as its reference (resolveImageConflicts).
    const wanted = new Set<SeriesReview>();
    for (const best of [arterial[0], venous[0]]) {
      const thinner = unresolved.filter((review) => unmeasured(review) && (review.thickness ?? 99) < (best.thickness ?? 99));
      if (thinner.length === 0) continue;
      for (const review of thinner) wanted.add(review);
      if (unmeasured(best)) wanted.add(best);
    }
    return [...wanted].map((review) => review.summary.seriesInstanceUID);
  }
  return unresolved.filter(unmeasured).map((review) => review.summary.seriesInstanceUID);
}
