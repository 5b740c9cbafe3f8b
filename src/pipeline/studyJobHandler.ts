/**
 * The worker's handler for a study job: runs the pipeline (analyseStudy.ts) and turns its result
 * into what the job store keeps (selection explanation, stage timings, outcome, result UIDs).
 *
 * Our own results come back as new work (ownResults.ts): a job whose study's content is that of an
 * earlier done job plus exactly that job's results, made by the model set loaded now and still in
 * the PACS, is completed at once with the earlier job's outcome: analysing it again would give the
 * same UIDs and store nothing.
 *
 * With prepare-ahead (prepareAhead.ts), a study analysed while Orthanc still waited for it to be
 * stable needs only the store: when the prepared result is for this job's StudyInstanceUID, its
 * content fingerprint and the models and settings loaded now, the job records the prepared
 * selection and stores the prepared SR, SC and SEG (the same QIDO-RS check and one STOW-RS). Its
 * timings say so: `preparedAheadMs` and the prepared stages as `preparedAhead.<stage>`, done
 * before StableStudy; the outcome carries `preparedAhead`. Otherwise the full pipeline runs.
 *
 * Superseding (supersede.ts): when the study has a standing earlier result of this node with
 * another SR, the new SR names it as its predecessor, and once the new results are in the PACS
 * the earlier jobs are marked superseded (and, with results.superseded "delete", the earlier
 * objects deleted from Orthanc); the outcome's `results.supersedes` says which. A prepared result
 * whose SR names another predecessor than the one standing now is not used.
 *
 * Several nodes: right before the QIDO-RS check and the STOW-RS, either way, the job renews its
 * lease (`storeFence`); a node that lost it (its lease ran out and another node claimed the job)
 * stores nothing. With the store's one job per content, one lease holder at a time, the QIDO-RS
 * check and the deterministic UIDs, a study's content gets one SR and one SC.
 */
import type { Job, JobStore, JsonValue } from '../jobs/jobStore';
import type { JobHandler, JobOutcome } from '../jobs/worker';
import { modelSetIdentities } from '../inference/modelSet';
import type { ResultIdentity } from '../results/uids';
import { resultObjectsOf, type TsrResults } from '../results/resultObjects';
import { storeResults } from '../results/store';
import { analyseStudyPipeline, type PipelineStage, type StudyPipeline, type StudyPipelineResult } from './analyseStudy';
import { studyOwnResults, type StudyOwnResults } from './ownResults';
import { previousResultOf, recordedSupersedes, supersedePrevious, type InstanceDeleter, type SupersededMode } from './supersede';
import type { PrepareAhead } from './prepareAhead';
import type { PreparedResult } from './preparedResults';

/** Where the handler reports what it measured (the metrics registry). */
export interface PipelineObserver {
  stage?(stage: PipelineStage, ms: number): void;
  bytesRetrieved?(bytes: number): void;
}

export interface StudyJobHandlerOptions {
  pipeline: StudyPipeline;
  store: JobStore;
  observer?: PipelineObserver;
  /** Results prepared before StableStudy (config feed.prepareAhead). */
  prepareAhead?: PrepareAhead;
  /** What happens to the results a new result supersedes (config results.superseded); default keep. */
  superseded?: { mode: SupersededMode; deleter?: InstanceDeleter };
}

function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

/** Renews the job's lease right before storing; a node that no longer holds it must not store. */
async function storeFence(context: Parameters<JobHandler>[1]): Promise<void> {
  if (!(await context.heartbeat())) throw Object.assign(new Error('lease lost before storing the results; the job belongs to another node now'), { name: 'AbortError' });
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
    // One entry per stage of the model set, by role: { name, version, sha256 }.
    ...Object.fromEntries(a.models.map(({ role, ...identity }) => [role, toJson(identity)])),
    tumour: { diameterMm: Number(a.tumour.diameterMm.toFixed(2)), confidence: Number(a.tumour.confidence.toFixed(4)), centreMm: a.tumour.centreMm.map((x) => Number(x.toFixed(2))) },
    arterial: phase('arterial'),
    venous: phase('venous'),
    results: {
      srSeriesInstanceUID: identity.srSeriesInstanceUID,
      srSopInstanceUID: identity.srSopInstanceUID,
      scSeriesInstanceUID: identity.scSeriesInstanceUID,
      scSopInstanceUID: identity.scSopInstanceUID,
      segSeriesInstanceUID: identity.segSeriesInstanceUID,
      segSopInstanceUID: identity.segSopInstanceUID,
      storedToPacs: result.stored !== undefined,
      stored: result.stored?.stored ?? [],
      alreadyPresent: result.stored?.alreadyPresent ?? [],
    },
    bytesRetrieved: result.bytesRetrieved,
  };
}

/** An earlier job's outcome, for a job that repeats it: its results' superseded mark is its own. */
function repeatedOutcome(earlier: Job): Record<string, JsonValue> {
  const outcome = { ...(earlier.outcome as Record<string, JsonValue>) };
  const results = outcome.results;
  if (results && typeof results === 'object' && !Array.isArray(results) && 'supersededBy' in results) {
    const { supersededBy: _supersededBy, ...rest } = results;
    outcome.results = rest;
  }
  return { ...outcome, sameAsJobId: earlier.id, note: `the study's content is that of job ${earlier.id} plus its results` };
}

/** The new results are in the PACS: the earlier result their SR names is superseded now (supersede.ts). */
async function supersede(options: StudyJobHandlerOptions, job: Job, own: StudyOwnResults, results: TsrResults, outcome: Record<string, JsonValue>, logger: Parameters<JobHandler>[1]['logger']): Promise<void> {
  const previous = results.predecessor ? previousResultOf(own.jobs, own.present, results.identity.srSopInstanceUID, job.id) : undefined;
  if (!previous || previous.sr.sopInstanceUID !== results.predecessor?.sopInstanceUID) {
    // A re-run of a result that superseded another (the same SR, already in the PACS): it still does.
    const recorded = recordedSupersedes(own.jobs, results.identity.srSopInstanceUID);
    if (recorded) outcome.results = { ...(outcome.results as Record<string, JsonValue>), supersedes: recorded };
    return;
  }
  const supersedes = await supersedePrevious({
    store: options.store,
    mode: options.superseded?.mode ?? 'keep',
    ...(options.superseded?.deleter ? { deleter: options.superseded.deleter } : {}),
    jobId: job.id,
    srSopInstanceUID: results.identity.srSopInstanceUID,
    previous,
    jobs: own.jobs,
    ...(options.pipeline.now ? { now: options.pipeline.now } : {}),
    logger,
  });
  outcome.results = { ...(outcome.results as Record<string, JsonValue>), supersedes };
}

export function createStudyJobHandler(options: StudyJobHandlerOptions): JobHandler {
  const { pipeline, store, observer, prepareAhead } = options;
  const models = modelSetIdentities(pipeline.models);
  return async (job, context): Promise<JobOutcome> => {
    const own = await studyOwnResults(store, pipeline.dicomWeb, job, models);
    const earlier = own.earlier;
    if (earlier) {
      context.logger.info('the study changed only by our own results; nothing to analyse', { sameAsJobId: earlier.id });
      return { outcome: repeatedOutcome(earlier), resultUids: earlier.resultUids ?? [], timingsMs: {} };
    }
    const predecessorOf = (identity: ResultIdentity): ReturnType<typeof previousResultOf> => previousResultOf(own.jobs, own.present, identity.srSopInstanceUID, job.id);
    const started = performance.now();
    const prepared = prepareAhead ? await prepareAhead.claim(job) : {};
    if (prepared.entry) {
      const results = prepared.entry.result.results;
      if (predecessorOf(results.identity)?.sr.sopInstanceUID === results.predecessor?.sopInstanceUID) return storePrepared(job, context, prepared.entry, started, own, prepared.waitedMs);
      prepared.discardedBecause = 'the standing earlier result of the study changed after the preparation (its SR would name another predecessor)';
    }
    const timings: Record<string, number> = {};
    let selectionRecorded: Promise<void> = Promise.resolve();
    try {
      const result = await analyseStudyPipeline({ ...pipeline, logger: context.logger }, job.studyInstanceUID, {
        signal: context.signal,
        beforeStore: () => storeFence(context),
        predecessorOf: (identity) => predecessorOf(identity)?.sr,
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
      timings.total = round(performance.now() - started);
      if (result.timingsMs.onnx !== undefined) timings.onnx = round(result.timingsMs.onnx);
      const outcome = jobOutcomeOf(result);
      if (result.stored) await supersede(options, job, own, result.results, outcome, context.logger);
      if (prepared.discardedBecause) outcome.preparedAhead = { used: false, reason: prepared.discardedBecause };
      return {
        outcome,
        // Only what is in the PACS (results.store off: nothing; the outcome still names the UIDs).
        resultUids: result.stored ? resultObjectsOf(result.results).map((object) => object.sopInstanceUID) : [],
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

  /** The job's content was prepared ahead: record its selection and store its results. */
  async function storePrepared(job: Job, context: Parameters<JobHandler>[1], entry: PreparedResult, started: number, own: StudyOwnResults, waitedMs: number | undefined): Promise<JobOutcome> {
    const logger = context.logger;
    const prepared = entry.result;
    await context.recordProgress({ selection: toJson(prepared.selection) });
    const timings: Record<string, number> = {};
    let stored = prepared.stored;
    if (pipeline.results.store) {
      await storeFence(context);
      const t = performance.now();
      stored = await storeResults(pipeline.dicomWeb, job.studyInstanceUID, resultObjectsOf(prepared.results), logger);
      timings.store = round(performance.now() - t);
      observer?.stage?.('store', performance.now() - t);
    }
    timings.total = round(performance.now() - started);
    timings.preparedAheadMs = round(entry.preparedMs);
    for (const [stage, ms] of Object.entries(entry.stagesMs)) timings[`preparedAhead.${stage}`] = ms;
    if (prepared.timingsMs.onnx !== undefined) timings['preparedAhead.onnx'] = round(prepared.timingsMs.onnx);
    const preparedAt = new Date(entry.preparedAt).toISOString();
    logger.info('results prepared ahead of StableStudy used', { preparedAt, preparedAheadMs: timings.preparedAheadMs, fingerprint: entry.fingerprint });
    const outcome = jobOutcomeOf({ ...prepared, ...(stored ? { stored } : {}) });
    if (stored) await supersede(options, job, own, prepared.results, outcome, logger);
    outcome.preparedAhead = {
      used: true,
      preparedAt,
      ...(waitedMs !== undefined ? { waitedForPreparationMs: round(waitedMs) } : {}),
      note: 'analysed while Orthanc waited for the study to be stable; the content fingerprint was the same before and after that analysis and equals this job\'s',
    };
    return {
      outcome,
      resultUids: stored ? resultObjectsOf(prepared.results).map((object) => object.sopInstanceUID) : [],
      timingsMs: timings,
    };
  }
}
