/**
 * The phase of a series from its metadata: the phase its SeriesDescription names, the delay from
 * ContrastBolusStartTime to its first AcquisitionTime (or SeriesTime), and, failing both, the
 * order of two contrast acquisitions. Agreeing sources give the phase; disagreeing ones make it
 * `contradictory`. Then the study-level doubt: when one phase is missing and the other is claimed
 * by several distinct acquisitions, those claims are `suspect`.
 */
import { firstMatch, phaseNamedBy, type CompiledPatterns } from './phasePatterns';
import type { Phase, PhaseEvidence } from './phaseTypes';
import type { SelectionRules } from './selectionRules';
import { distinctAcquisitions, type SeriesReview } from './seriesReview';
import type { SeriesSummary } from './seriesSummary';

function delaySeconds(summary: SeriesSummary): { seconds: number; from: string } | undefined {
  const start = summary.contrast.startSeconds;
  if (start === undefined) return undefined;
  const at = summary.acquisitionSeconds ?? summary.seriesSeconds;
  if (at === undefined) return undefined;
  let delay = at - start;
  // Past midnight between injection and scan.
  if (delay < -12 * 3600) delay += 24 * 3600;
  return { seconds: Math.round(delay * 10) / 10, from: summary.acquisitionSeconds !== undefined ? 'AcquisitionTime' : 'SeriesTime' };
}

function phaseFromTiming(summary: SeriesSummary, rules: SelectionRules): PhaseEvidence | undefined {
  const delay = delaySeconds(summary);
  if (delay === undefined) return undefined;
  const windows = rules.timing;
  const seconds = delay.seconds;
  const what = `${delay.from} is ${seconds} s after ContrastBolusStartTime`;
  if (seconds < 0 && seconds > -3600) return { source: 'timing', phase: 'non-contrast', detail: `${delay.from} is ${-seconds} s before ContrastBolusStartTime` };
  if (seconds >= windows.arterialSeconds[0] && seconds <= windows.arterialSeconds[1]) {
    return { source: 'timing', phase: 'arterial', detail: `${what}: arterial window ${windows.arterialSeconds[0]}-${windows.arterialSeconds[1]} s` };
  }
  if (seconds >= windows.venousSeconds[0] && seconds <= windows.venousSeconds[1]) {
    return { source: 'timing', phase: 'venous', detail: `${what}: portal-venous window ${windows.venousSeconds[0]}-${windows.venousSeconds[1]} s` };
  }
  if (seconds >= windows.delayedFromSeconds && seconds < 3600) return { source: 'timing', phase: 'delayed', detail: `${what}: delayed (>= ${windows.delayedFromSeconds} s)` };
  return { source: 'timing', phase: 'inconclusive', detail: `${what}: outside every window` };
}

/** The metadata votes (description, timing) of one series. */
export function metadataPhase(review: SeriesReview, rules: SelectionRules, patterns: CompiledPatterns): void {
  const { summary, candidate } = review;
  const named = phaseNamedBy(summary.seriesDescription, patterns);
  if (named.phase !== undefined) {
    review.descriptionVote = named.phase;
    if (named.phase !== 'contradictory') candidate.evidence.push({ source: 'description', phase: named.phase, detail: named.detail });
    else candidate.evidence.push({ source: 'description', phase: 'inconclusive', detail: named.detail });
  }
  review.pancreaticWording = firstMatch(patterns.pancreatic, summary.seriesDescription.normalize('NFKC')) !== undefined;
  const timing = phaseFromTiming(summary, rules);
  if (timing !== undefined) {
    candidate.evidence.push(timing);
    if (timing.phase !== 'inconclusive') review.timingVote = timing.phase;
    review.delay = delaySeconds(summary)?.seconds;
  }
  const votes = [review.descriptionVote, review.timingVote].filter((vote): vote is Phase | 'contradictory' => vote !== undefined);
  if (votes.length === 0) candidate.metadataPhase = 'unknown';
  else if (votes.includes('contradictory') || new Set(votes).size > 1) candidate.metadataPhase = 'contradictory';
  else candidate.metadataPhase = votes[0];
  candidate.phase = candidate.metadataPhase;
}

/**
 * Without ContrastBolusStartTime and descriptions, two contrast acquisitions a plausible gap apart
 * are ordered: earlier arterial, later venous. Only series that carry a contrast agent take part,
 * so that a plain scan before the injection cannot be taken for the arterial phase.
 */
export function relativeTiming(reviews: SeriesReview[], rules: SelectionRules): void {
  const open = reviews.filter(
    (review) =>
      review.gatesPassed &&
      review.candidate.metadataPhase === 'unknown' &&
      review.summary.acquisitionSeconds !== undefined &&
      (review.summary.contrast.agent !== undefined || review.summary.contrast.agentCodes.length > 0),
  );
  const decided = reviews.filter((review) => review.gatesPassed && (review.candidate.metadataPhase === 'arterial' || review.candidate.metadataPhase === 'venous'));
  if (open.length < 2 || decided.length > 0) return;
  const times = [...new Set(open.map((review) => review.summary.acquisitionSeconds!))].sort((a, b) => a - b);
  // Cluster times into acquisitions.
  const clusters: number[][] = [];
  for (const time of times) {
    const last = clusters[clusters.length - 1];
    if (last && time - last[last.length - 1] <= rules.timing.sameAcquisitionSeconds) last.push(time);
    else clusters.push([time]);
  }
  if (clusters.length !== 2) return;
  const gap = Math.round((clusters[1][0] - clusters[0][clusters[0].length - 1]) * 10) / 10;
  const [shortestGap, longestGap] = rules.timing.relativeGapSeconds;
  if (gap < shortestGap || gap > longestGap) return;
  for (const review of open) {
    const early = clusters[0].includes(review.summary.acquisitionSeconds!);
    const phase: Phase = early ? 'arterial' : 'venous';
    review.candidate.evidence.push({
      source: 'relative-timing',
      phase,
      detail: `no bolus start time or phase name; contrast acquisitions ${gap} s apart, this one is the ${early ? 'earlier' : 'later'}`,
    });
    review.candidate.metadataPhase = phase;
    review.candidate.phase = phase;
  }
}

/** Study-level doubt: one phase missing, the other claimed by several distinct acquisitions. */
export function markStudyLevelDoubt(open: SeriesReview[], rules: SelectionRules): void {
  const claiming = (phase: Phase): SeriesReview[] => open.filter((review) => review.candidate.metadataPhase === phase);
  for (const [phase, other] of [
    ['arterial', 'venous'],
    ['venous', 'arterial'],
  ] as const) {
    const claims = claiming(phase);
    if (claiming(other).length === 0 && distinctAcquisitions(claims, rules) > 1) for (const review of claims) review.candidate.suspect = true;
  }
}
