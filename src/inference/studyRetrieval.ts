/**
 * From a StudyInstanceUID to the two HU volumes the analysis needs, through the node's own shells
 * (src/study): discovery (QIDO-RS + WADO-RS metadata), phase selection (with image evidence for
 * the series metadata cannot settle), retrieval (WADO-RS, streamed into the volume assembly).
 * Discovery and selection are src/study/studySelection.ts (what `tsr-node inspect` shows).
 * Used by the dataset builder's DICOMweb source, which needs the volumes without the rest of the
 * node's pipeline (src/pipeline/analyseStudy.ts runs the same shells for the worker and analyze).
 */
import { AnalysisRefusedError } from '../errors';
import type { DicomWebClient } from '../dicomweb/types';
import { silentLogger, type Logger } from '../logging/logger';
import type { PhaseSelection } from '../study/phaseSelection';
import { retrieveVolume } from '../study/retrieveVolume';
import type { SelectionRules } from '../study/selectionRules';
import type { SeriesSummary } from '../study/seriesSummary';
import { selectStudyPhases } from '../study/studySelection';
import type { HuVolume } from '../study/volume';
import type { Phase } from './manifest';

export interface StudyVolumes {
  selection: PhaseSelection;
  volumes: Record<Phase, HuVolume>;
  /** SOP Class UID of each chosen series' images. */
  sopClassUIDs: Record<Phase, string>;
  timingsMs: { discoverAndSelect: number; retrieve: number };
}

export interface LoadStudyOptions {
  rules: SelectionRules;
  logger?: Logger;
  signal?: AbortSignal;
}

/** Loads both phase volumes of a study; AnalysisRefusedError (selection's reason code) when the study cannot be analysed. */
export async function loadStudyVolumes(client: DicomWebClient, studyInstanceUID: string, options: LoadStudyOptions): Promise<StudyVolumes> {
  const logger = options.logger ?? silentLogger;
  const t = performance.now();
  const chosen = await selectStudyPhases(client, studyInstanceUID, options.rules, { logger });
  const selectMs = performance.now() - t;
  const { selection } = chosen;
  if (!selection.analyzable || !chosen.arterial || !chosen.venous) {
    throw new AnalysisRefusedError(selection.reasonCode ?? 'not-analyzable', selection.reason ?? 'no arterial and venous series pair was found', {
      reasonCode: selection.reasonCode,
    });
  }
  const summaries: Record<Phase, SeriesSummary> = { arterial: chosen.arterial, venous: chosen.venous };
  const summaryOf = (phase: Phase): SeriesSummary => summaries[phase];
  const t0 = performance.now();
  const retrieveOptions = { logger, ...(options.signal ? { signal: options.signal } : {}) };
  // One series after the other: the client already runs parallel requests within a series, and
  // peak memory stays at the two volumes plus the parts in flight.
  const arterial = await retrieveVolume(client, summaryOf('arterial'), retrieveOptions);
  const venous = await retrieveVolume(client, summaryOf('venous'), retrieveOptions);
  const sopClass = (phase: Phase): string => summaryOf(phase).sopClassUIDs[0] ?? '1.2.840.10008.5.1.4.1.1.2';
  return {
    selection,
    volumes: { arterial: arterial.volume, venous: venous.volume },
    sopClassUIDs: { arterial: sopClass('arterial'), venous: sopClass('venous') },
    timingsMs: { discoverAndSelect: selectMs, retrieve: performance.now() - t0 },
  };
}
