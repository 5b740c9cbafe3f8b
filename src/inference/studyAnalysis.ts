/**
 * One study end to end in the node: discover -> select -> retrieve -> localise, crop, classify ->
 * (build the SR and SC and store them, unless told not to). The composition that
 * `tsr-node analyze` runs, and that the job worker's handler can call: every stage is a function
 * of src/study, src/inference or src/results; this file only wires them and times them.
 */
import type { Config } from '../config';
import type { DicomJson } from '../dicomweb/dicomJson';
import { jsonString } from '../dicomweb/dicomJson';
import type { DicomWebClient } from '../dicomweb/types';
import { silentLogger, type Logger } from '../logging/logger';
import { buildTsrResults, nodeDevice, storeResults, type StoreOutcome, type TsrResults } from '../results';
import type { PhaseSelection } from '../study/phaseSelection';
import { analyseStudy } from './analyse';
import type { Phase } from './manifest';
import type { NodeModels } from './models';
import type { TsrAnalysis } from './result';
import { loadStudyVolumes } from './studyRetrieval';

export interface StudyAnalysisOptions {
  /** Write the SR and SC back to the PACS (false: analyse only, nothing is written). */
  store: boolean;
  logger?: Logger;
  signal?: AbortSignal;
  now?: () => Date;
}

export interface StudyAnalysisOutcome {
  analysis: TsrAnalysis;
  selection: PhaseSelection;
  results?: TsrResults;
  stored?: StoreOutcome;
  /** discover, select, retrieve, analyse (with its own stages in analysis.timingsMs), results, store. */
  timingsMs: Record<string, number>;
}

const SOP_INSTANCE_UID = '00080018';

/** WADO-RS metadata of the key slice of each phase (the SR and SC copy patient and study attributes from it). */
async function keySliceMetadata(client: DicomWebClient, analysis: TsrAnalysis): Promise<Record<Phase, DicomJson>> {
  const one = async (phase: Phase): Promise<DicomJson> => {
    const finding = analysis[phase];
    const all = await client.retrieveSeriesMetadata(analysis.studyInstanceUID, finding.seriesInstanceUID);
    const key = all.find((ds) => jsonString(ds, SOP_INSTANCE_UID) === finding.keySopInstanceUID) ?? all[0];
    if (!key) throw new Error(`no metadata for series ${finding.seriesInstanceUID}`);
    return key;
  };
  return { arterial: await one('arterial'), venous: await one('venous') };
}

export async function runStudyAnalysis(
  client: DicomWebClient,
  models: NodeModels,
  config: Pick<Config, 'selection' | 'results'>,
  studyInstanceUID: string,
  options: StudyAnalysisOptions,
): Promise<StudyAnalysisOutcome> {
  const logger = options.logger ?? silentLogger;
  const loaded = await loadStudyVolumes(client, studyInstanceUID, { rules: config.selection, logger, ...(options.signal ? { signal: options.signal } : {}) });
  const t0 = performance.now();
  const { analysis } = await analyseStudy(models, { arterial: loaded.volumes.arterial, venous: loaded.volumes.venous, sopClassUIDs: loaded.sopClassUIDs });
  const timingsMs: Record<string, number> = { ...loaded.timingsMs, analyse: performance.now() - t0 };
  logger.info('study analysed', {
    studyInstanceUID,
    probabilityHigh: analysis.probabilityHigh,
    label: analysis.label,
    confidence: analysis.tumour.confidence,
    timingsMs: analysis.timingsMs,
  });
  const outcome: StudyAnalysisOutcome = { analysis, selection: loaded.selection, timingsMs };
  if (!options.store) return outcome;
  const t1 = performance.now();
  const results = buildTsrResults({
    analysis,
    sourceMetadata: await keySliceMetadata(client, analysis),
    device: nodeDevice(config.results.deviceName, config.results.institutionName),
    srSeriesDescription: config.results.srSeriesDescription,
    scSeriesDescription: config.results.scSeriesDescription,
    now: (options.now ?? (() => new Date()))(),
  });
  const t2 = performance.now();
  outcome.results = results;
  outcome.stored = await storeResults(client, studyInstanceUID, [results.sr, results.sc], logger);
  timingsMs.results = t2 - t1;
  timingsMs.store = performance.now() - t2;
  return outcome;
}
