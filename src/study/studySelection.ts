/**
 * Discovery + phase selection for one study, with image evidence when metadata cannot decide:
 * what the worker runs before retrieval and what `tsr-node inspect` prints. A shell: the decisions
 * are made by the pure selectPhases (phaseSelection.ts).
 */
import type { ReasonCode } from '../errors';
import type { DicomWebClient } from '../dicomweb/types';
import { silentLogger, type Logger } from '../logging/logger';
import { discoverStudy } from './discovery';
import { gatherImageEvidence } from './imageEvidence';
import { selectPhases, type Candidate, type ChosenSeries, type ImageEvidence, type PhaseSelection } from './phaseSelection';
import type { SelectionRules } from './selectionRules';
import type { SeriesSummary } from './seriesSummary';

export interface StudySelection {
  studyInstanceUID: string;
  selection: PhaseSelection;
  summaries: SeriesSummary[];
  imageEvidence: ImageEvidence[];
  /** Summaries of the chosen series, ready for retrieveVolume (undefined when not analyzable). */
  arterial?: SeriesSummary;
  venous?: SeriesSummary;
}

export async function selectStudyPhases(
  client: DicomWebClient,
  studyInstanceUID: string,
  rules: SelectionRules,
  options: { logger?: Logger; onStage?: (stage: 'discover' | 'select' | 'imageEvidence', ms: number) => void } = {},
): Promise<StudySelection> {
  const logger = options.logger ?? silentLogger;
  let t = performance.now();
  const summaries = await discoverStudy(client, studyInstanceUID, { logger });
  options.onStage?.('discover', performance.now() - t);
  t = performance.now();
  let selection = selectPhases(summaries, rules);
  options.onStage?.('select', performance.now() - t);
  const imageEvidence: ImageEvidence[] = [];
  // Two rounds at most: the first may settle a phase and reveal a thinner candidate to compare.
  for (let round = 0; round < 2 && rules.imageEvidence.enabled && selection.needsImageEvidence.length > 0; round++) {
    t = performance.now();
    for (const uid of selection.needsImageEvidence) {
      const summary = summaries.find((s) => s.seriesInstanceUID === uid);
      if (summary && !imageEvidence.some((e) => e.seriesInstanceUID === uid)) imageEvidence.push(await gatherImageEvidence(client, summary, rules, { logger }));
    }
    selection = selectPhases(summaries, rules, imageEvidence);
    options.onStage?.('imageEvidence', performance.now() - t);
  }
  const result: StudySelection = { studyInstanceUID, selection, summaries, imageEvidence };
  if (selection.analyzable) {
    result.arterial = summaries.find((s) => s.seriesInstanceUID === selection.arterial?.seriesInstanceUID);
    result.venous = summaries.find((s) => s.seriesInstanceUID === selection.venous?.seriesInstanceUID);
  }
  logger.info('phases selected', {
    studyInstanceUID,
    analyzable: selection.analyzable,
    reasonCode: selection.reasonCode,
    arterial: selection.arterial?.seriesInstanceUID,
    venous: selection.venous?.seriesInstanceUID,
    imageEvidence: imageEvidence.length,
  });
  return result;
}

/** The JSON `tsr-node inspect` prints (docs/phase-selection.md describes every field). */
export interface InspectReport {
  studyInstanceUID: string;
  analyzable: boolean;
  reasonCode?: ReasonCode;
  reason?: string;
  arterial: ChosenSeries | null;
  venous: ChosenSeries | null;
  candidates: Candidate[];
  imageEvidence: ImageEvidence[];
}

export function inspectReport(s: StudySelection): InspectReport {
  const sel = s.selection;
  // Key order is the reading order: verdict first, then the choice, then the evidence.
  return {
    studyInstanceUID: s.studyInstanceUID,
    analyzable: sel.analyzable,
    ...(sel.analyzable ? {} : { reasonCode: sel.reasonCode, reason: sel.reason }),
    arterial: sel.arterial,
    venous: sel.venous,
    candidates: sel.candidates,
    imageEvidence: s.imageEvidence,
  };
}
