/**
 * The worker's handler for a study job: runs the pipeline (analyseStudy.ts) and turns its result
 * into what the job store keeps (selection explanation, stage timings, outcome, result UIDs).
 *
 * Our own results come back as new work: storing the SR and SC adds two instances to the study,
 * so Orthanc announces it stable once more, with a new content fingerprint. Such a job (the
 * study's content is that of an earlier done job plus exactly that job's results, made by the
 * models loaded now, and still in the PACS) is completed at once with the earlier job's outcome:
 * analysing it again would give the same UIDs and store nothing.
 */
import { jsonString } from '../dicomweb/dicomJson';
import type { DicomWebClient } from '../dicomweb/types';
import type { Job, JobStore, JsonValue } from '../jobs/jobStore';
import type { JobHandler, JobOutcome } from '../jobs/worker';
import { studyContentFingerprint } from '../orthanc/studyFingerprint';
import { analyseStudyPipeline, type PipelineStage, type StudyPipeline, type StudyPipelineResult } from './analyseStudy';

const SOP_INSTANCE_UID = '00080018';

/** Where the handler reports what it measured (the metrics registry). */
export interface PipelineObserver {
  stage?(stage: PipelineStage, ms: number): void;
  bytesRetrieved?(bytes: number): void;
}

export interface StudyJobHandlerOptions {
  pipeline: StudyPipeline;
  store: JobStore;
  observer?: PipelineObserver;
}

function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** What the job keeps of a finished analysis: everything a person reads, no pixels. */
export function jobOutcomeOf(result: StudyPipelineResult): Record<string, JsonValue> {
  const a = result.analysis;
  const phase = (p: 'arterial' | 'venous'): JsonValue => ({
    seriesInstanceUID: a[p].seriesInstanceUID,
    keySopInstanceUID: a[p].keySopInstanceUID,
    tumourCentreMm: a[p].tumourCentreMm.map((x) => Number(x.toFixed(2))),
  });
  const identity = result.results.identity;
  return {
    label: a.label,
    probabilityHigh: Number(a.probabilityHigh.toFixed(6)),
    threshold: a.threshold,
    classifier: toJson(a.classifier),
    localizer: toJson(a.localizer),
    tumour: { diameterMm: Number(a.tumour.diameterMm.toFixed(2)), confidence: Number(a.tumour.confidence.toFixed(4)), centreMm: a.tumour.centreMm.map((x) => Number(x.toFixed(2))) },
    arterial: phase('arterial'),
    venous: phase('venous'),
    results: {
      srSeriesInstanceUID: identity.srSeriesInstanceUID,
      srSopInstanceUID: identity.srSopInstanceUID,
      scSeriesInstanceUID: identity.scSeriesInstanceUID,
      scSopInstanceUID: identity.scSopInstanceUID,
      storedToPacs: result.stored !== undefined,
      stored: result.stored?.stored ?? [],
      alreadyPresent: result.stored?.alreadyPresent ?? [],
    },
    bytesRetrieved: result.bytesRetrieved,
  };
}

/**
 * The earlier done job whose content plus its own results is the study's content now, when its
 * results were made by the models loaded now; undefined otherwise.
 */
export async function earlierJobWithOwnResults(store: JobStore, dicomWeb: DicomWebClient, job: Job, modelSha256s: string[]): Promise<Job | undefined> {
  const { jobs } = await store.list({ studyInstanceUID: job.studyInstanceUID, limit: 100 });
  const previous = jobs.filter((j) => j.id !== job.id && j.state === 'done' && (j.resultUids?.length ?? 0) > 0);
  if (previous.length === 0) return undefined;
  const instances = await dicomWeb.searchInstances(job.studyInstanceUID, undefined, [SOP_INSTANCE_UID]);
  const present = new Set(instances.map((i) => jsonString(i, SOP_INSTANCE_UID)).filter((u): u is string => u !== undefined));
  const ownResults = new Set(previous.flatMap((j) => j.resultUids ?? []));
  const withoutOwn = studyContentFingerprint([...present].filter((u) => !ownResults.has(u)));
  return previous.find((p) => {
    const outcome = p.outcome as { classifier?: { sha256?: string }; localizer?: { sha256?: string } } | undefined;
    const sameModels = modelSha256s.includes(outcome?.classifier?.sha256 ?? '') && modelSha256s.includes(outcome?.localizer?.sha256 ?? '');
    return sameModels && p.fingerprint === withoutOwn && (p.resultUids ?? []).every((u) => present.has(u));
  });
}

export function createStudyJobHandler(options: StudyJobHandlerOptions): JobHandler {
  const { pipeline, store, observer } = options;
  const modelShas = [pipeline.models.classifier.identity.sha256, pipeline.models.localizer.identity.sha256];
  return async (job, context): Promise<JobOutcome> => {
    const earlier = await earlierJobWithOwnResults(store, pipeline.dicomWeb, job, modelShas);
    if (earlier) {
      context.logger.info('the study changed only by our own results; nothing to analyse', { sameAsJobId: earlier.id });
      return {
        outcome: { ...(earlier.outcome as Record<string, JsonValue>), sameAsJobId: earlier.id, note: `the study's content is that of job ${earlier.id} plus its results` },
        resultUids: earlier.resultUids ?? [],
        timingsMs: {},
      };
    }
    const timings: Record<string, number> = {};
    const started = performance.now();
    let selectionRecorded: Promise<void> = Promise.resolve();
    try {
      const result = await analyseStudyPipeline({ ...pipeline, logger: context.logger }, job.studyInstanceUID, {
        signal: context.signal,
        onSelection: (selection) => {
          selectionRecorded = context.recordProgress({ selection: toJson(selection) });
          return selectionRecorded;
        },
        onStage: (stage, ms) => {
          timings[stage] = round((timings[stage] ?? 0) + ms);
          observer?.stage?.(stage, ms);
        },
        onBytesRetrieved: (bytes) => observer?.bytesRetrieved?.(bytes),
      });
      timings.total = round(result.timingsMs.total ?? 0);
      if (result.timingsMs.onnx !== undefined) timings.onnx = round(result.timingsMs.onnx);
      return {
        outcome: jobOutcomeOf(result),
        // Only what is in the PACS (results.store off: nothing; the outcome still names the UIDs).
        resultUids: result.stored ? [result.results.sr.sopInstanceUID, result.results.sc.sopInstanceUID] : [],
        timingsMs: timings,
      };
    } catch (err) {
      // Keep what was measured before the failure: it tells where the time went.
      await selectionRecorded.catch(() => undefined);
      if (Object.keys(timings).length > 0) {
        timings.total = round(performance.now() - started);
        await context.recordProgress({ timingsMs: timings }).catch(() => undefined);
      }
      throw err;
    }
  };
}
