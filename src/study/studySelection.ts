/**
 * Discovery + phase selection for one study, with image evidence when metadata cannot decide:
 * what the worker runs before retrieval and what `tsr-node inspect` prints. A shell: the decisions
 * are made by the pure selectPhases (phaseSelection.ts).
 */
import type { DicomWebClient } from '../dicomweb/types';
import { silentLogger, type Logger } from '../logging/logger';
import { discoverStudy } from './discovery';
import { gatherImageEvidence } from './imageEvidence';
import { selectPhases, type ImageEvidence, type PhaseSelection } from './phaseSelection';
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
  let stageStart = performance.now();
  const summaries = await discoverStudy(client, studyInstanceUID, { logger });
  options.onStage?.('discover', performance.now() - stageStart);
  stageStart = performance.now();
  let selection = selectPhases(summaries, rules);
  options.onStage?.('select', performance.now() - stageStart);
  const imageEvidence: ImageEvidence[] = [];
  // Two rounds at most: the first may settle a phase and reveal a thinner candidate to compare.
  for (let round = 0; round < 2 && rules.imageEvidence.enabled && selection.needsImageEvidence.length > 0; round++) {
    stageStart = performance.now();
    for (const uid of selection.needsImageEvidence) {
      const summary = summaries.find((series) => series.seriesInstanceUID === uid);
      if (summary && !imageEvidence.some((measured) => measured.seriesInstanceUID === uid)) imageEvidence.push(await gatherImageEvidence(client, summary, rules, { logger }));
    }
    selection = selectPhases(summaries, rules, imageEvidence);
    options.onStage?.('imageEvidence', performance.now() - stageStart);
  }
  const result: StudySelection = { studyInstanceUID, selection, summaries, imageEvidence };
  if (selection.analyzable) {
    result.arterial = summaries.find((summary) => summary.seriesInstanceUID === selection.arterial?.seriesInstanceUID);
    result.venous = summaries.find((summary) => summary.seriesInstanceUID === selection.venous?.seriesInstanceUID);
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

/**
 * The JSON `tsr-node inspect` prints (docs/phase-selection.md describes every field): the verdict
 * and choice of the phase selection, with the study and the image evidence gathered for it.
 */
export interface InspectReport extends Pick<PhaseSelection, 'analyzable' | 'reasonCode' | 'reason' | 'arterial' | 'venous' | 'candidates'> {
  studyInstanceUID: string;
  imageEvidence: ImageEvidence[];
}

export function inspectReport(study: StudySelection): InspectReport {
  const selection = study.selection;
  // Key order is the reading order: verdict first, then the choice, then the evidence.
  return {
    studyInstanceUID: study.studyInstanceUID,
    analyzable: selection.analyzable,
    ...(selection.analyzable ? {} : { reasonCode: selection.reasonCode, reason: selection.reason }),
    arterial: selection.arterial,
    venous: selection.venous,
    candidates: selection.candidates,
    imageEvidence: study.imageEvidence,
  };
}
