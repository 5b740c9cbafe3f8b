/**
 * One study through the whole node, the single composition of the pipeline (DESIGN.md "Data flow
 * for one study"), used by the worker (`tsr-node serve`), `tsr-node analyze` and the benchmarks:
 *
 *   1 discover      QIDO-RS series + WADO-RS metadata          (study/studySelection.ts: discovery.ts)
 *   2 select        explained phase selection, pure             (phaseSelection.ts)
 *     evidence      aorta vs portal vein HU, only when metadata cannot decide (imageEvidence.ts)
 *   3 retrieve      WADO-RS of both series, streamed into HU volumes, in parallel (study/retrieveVolume.ts)
 *   4-5 analyse     localise, crop, classify                    (inference/analyse.ts)
 *   6 build         TID 1500 SR + overlay SC + tumour SEG, pure (results/resultObjects.ts)
 *   7 store         QIDO-RS check, then one STOW-RS             (results/store.ts)
 *
 * Each stage is timed. A study that cannot be analysed ends in AnalysisRefusedError with the
 * selection's reason code (e.g. `single-phase`); PACS trouble propagates as TransientError or
 * PermanentError from the client.
 */
import type { DicomJson } from '../dicomweb/dicomJson';
import type { DicomWebClient } from '../dicomweb/types';
import { AnalysisRefusedError } from '../errors';
import { analyseStudy as analyseVolumes } from '../inference/analyse';
import type { ModelSet } from '../inference/modelSet';
import type { TsrAnalysis } from '../inference/result';
import { silentLogger, type Logger } from '../logging/logger';
import type { DeviceIdentity } from '../results/device';
import { buildTsrResults, resultObjectsOf, type TsrResults, type TsrResultsOptions } from '../results/resultObjects';
import { storeResults, type StoreOutcome } from '../results/store';
import type { PhaseSelection } from '../study/phaseSelection';
import { retrieveVolume, type RetrievedVolume } from '../study/retrieveVolume';
import type { SelectionRules } from '../study/selectionRules';
import type { SeriesSummary } from '../study/seriesSummary';
import type { VolumeBufferPool } from '../study/volumeBuffers';
import { selectStudyPhases } from '../study/studySelection';
import { SeriesMetadataCache } from './metadataCache';

/** Stage names, in pipeline order; the keys of `timingsMs` and of the stage histogram in /metrics. */
export const PIPELINE_STAGES = ['discover', 'select', 'imageEvidence', 'retrieve', 'localise', 'crop', 'classify', 'buildResults', 'store'] as const;
export type PipelineStage = (typeof PIPELINE_STAGES)[number];

export interface ResultOptions {
  /** Send the SR, SC and SEG to the PACS (config results.store). */
  store: boolean;
  srSeriesDescription: string;
  scSeriesDescription: string;
  device: DeviceIdentity;
}

export interface StudyPipeline {
  dicomWeb: DicomWebClient;
  /** Loaded once, at start (inference/models.ts). */
  models: ModelSet;
  rules: SelectionRules;
  results: ResultOptions;
  now?: () => Date;
  logger?: Logger;
  /** Memory for the HU volumes, reused from study to study (study/volumeBuffers.ts); default: new memory each time. */
  volumeBuffers?: VolumeBufferPool;
}

export interface PipelineHooks {
  signal?: AbortSignal;
  /** The selection explanation, as soon as it is known (the job records it, even for a skipped study). */
  onSelection?: (selection: PhaseSelection) => void | Promise<void>;
  /** Each stage's duration, as it ends. */
  onStage?: (stage: PipelineStage, ms: number) => void;
  /** Bytes received by WADO-RS for the two series. */
  onBytesRetrieved?: (bytes: number) => void;
  /** Override of ResultOptions.store for this call (`tsr-node analyze --no-store`). */
  store?: boolean;
  /** Called right before the results are stored; a rejection stores nothing (the job's lease check). */
  beforeStore?: () => Promise<void>;
  /** The node's earlier SR of the study that the new results supersede, picked by their identity (supersede.ts). */
  predecessorOf?: TsrResultsOptions['predecessor'];
}

export interface StudyPipelineResult {
  studyInstanceUID: string;
  selection: PhaseSelection;
  analysis: TsrAnalysis;
  results: TsrResults;
  /** Absent when storing was off. */
  stored?: StoreOutcome;
  /** Per stage, plus `total`, in ms. */
  timingsMs: Partial<Record<PipelineStage | 'total' | 'onnx', number>>;
  bytesRetrieved: number;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : Object.assign(new Error('aborted'), { name: 'AbortError' });
}

/**
 * Analyses one study end to end. Throws AnalysisRefusedError when the study cannot be analysed
 * (the selection's or the analysis's reason code).
 */
export async function analyseStudyPipeline(pipeline: StudyPipeline, studyInstanceUID: string, hooks: PipelineHooks = {}): Promise<StudyPipelineResult> {
  const logger = pipeline.logger ?? silentLogger;
  const started = performance.now();
  const timingsMs: StudyPipelineResult['timingsMs'] = {};
  const stage = (name: PipelineStage, ms: number): void => {
    timingsMs[name] = (timingsMs[name] ?? 0) + ms;
    hooks.onStage?.(name, ms);
  };
  const client = new SeriesMetadataCache(pipeline.dicomWeb);
  // Volumes retrieved whole: their memory goes back to the pool at the end, whatever happens.
  const retrieved: RetrievedVolume[] = [];
  try {
    // 1-2: discover and select (the study shell that `tsr-node inspect` uses too).
    const { selection, summaries } = await selectStudyPhases(client, studyInstanceUID, pipeline.rules, { logger, onStage: stage });
    await hooks.onSelection?.(selection);
    if (!selection.analyzable || !selection.arterial || !selection.venous) {
      throw new AnalysisRefusedError(selection.reasonCode ?? 'not-analyzable', selection.reason ?? 'the study cannot be analysed');
    }
    throwIfAborted(hooks.signal);

    // 3: retrieve both series at once (the client's semaphore bounds the requests).
    const summaryOf = (uid: string): SeriesSummary => {
      const s = summaries.find((x) => x.seriesInstanceUID === uid);
      if (!s) throw new Error(`selected series ${uid} is not among the discovered ones`);
      return s;
    };
    let t = performance.now();
    const retrieveOptions = { logger, ...(hooks.signal ? { signal: hooks.signal } : {}), ...(pipeline.volumeBuffers ? { volumeBuffers: pipeline.volumeBuffers } : {}) };
    const retrieveOne = async (uid: string): Promise<RetrievedVolume> => {
      const r = await retrieveVolume(client, summaryOf(uid), retrieveOptions);
      retrieved.push(r);
      return r;
    };
    const [arterial, venous] = await Promise.all([retrieveOne(selection.arterial.seriesInstanceUID), retrieveOne(selection.venous.seriesInstanceUID)]);
    stage('retrieve', performance.now() - t);
    const bytesRetrieved = arterial.retrieval.bytes + venous.retrieval.bytes;
    hooks.onBytesRetrieved?.(bytesRetrieved);
    throwIfAborted(hooks.signal);

    // 4-5: localise, crop, classify.
    const sopClassOf = (s: SeriesSummary): string | undefined => (s.sopClassUIDs.length === 1 ? s.sopClassUIDs[0] : undefined);
    const arterialClass = sopClassOf(summaryOf(selection.arterial.seriesInstanceUID));
    const venousClass = sopClassOf(summaryOf(selection.venous.seriesInstanceUID));
    const { analysis } = await analyseVolumes(pipeline.models, {
      arterial: arterial.volume,
      venous: venous.volume,
      sopClassUIDs: { ...(arterialClass ? { arterial: arterialClass } : {}), ...(venousClass ? { venous: venousClass } : {}) },
    });
    stage('localise', analysis.timingsMs.localise ?? 0);
    stage('crop', analysis.timingsMs.crop ?? 0);
    stage('classify', (analysis.timingsMs.classify ?? 0) + (analysis.timingsMs.keySlices ?? 0));
    timingsMs.onnx = analysis.timingsMs.onnx;
    logger.info('study analysed', {
      studyInstanceUID,
      label: analysis.label,
      probabilityHigh: Number(analysis.probabilityHigh.toFixed(4)),
      classifier: `${analysis.classifier.name}@${analysis.classifier.version}`,
    });
    throwIfAborted(hooks.signal);

    // 6: build the SR, the SC and the SEG.
    t = performance.now();
    const metadataOf = async (phase: 'arterial' | 'venous'): Promise<DicomJson> => {
      const finding = analysis[phase];
      const m = await client.instanceMetadata(studyInstanceUID, finding.seriesInstanceUID, finding.keySopInstanceUID);
      if (!m) throw new Error(`no WADO-RS metadata for series ${finding.seriesInstanceUID}`);
      return m;
    };
    const results = buildTsrResults({
      analysis,
      sourceMetadata: { arterial: await metadataOf('arterial'), venous: await metadataOf('venous') },
      device: pipeline.results.device,
      srSeriesDescription: pipeline.results.srSeriesDescription,
      scSeriesDescription: pipeline.results.scSeriesDescription,
      now: (pipeline.now ?? (() => new Date()))(),
      logger,
      ...(hooks.predecessorOf ? { predecessor: hooks.predecessorOf } : {}),
    });
    stage('buildResults', performance.now() - t);
    throwIfAborted(hooks.signal);

    // 7: store, idempotently.
    let stored: StoreOutcome | undefined;
    if (hooks.store ?? pipeline.results.store) {
      await hooks.beforeStore?.();
      t = performance.now();
      stored = await storeResults(client, studyInstanceUID, resultObjectsOf(results), logger);
      stage('store', performance.now() - t);
    }
    timingsMs.total = performance.now() - started;
    return { studyInstanceUID, selection, analysis, results, ...(stored ? { stored } : {}), timingsMs, bytesRetrieved };
  } finally {
    client.clear();
    // Nothing the pipeline returns refers to the volumes (the analysis copies its key slices).
    for (const r of retrieved) pipeline.volumeBuffers?.give(r.volume.data);
  }
}
