/**
 * Our own results come back as new work: storing the SR and SC adds instances to the study, so
 * Orthanc announces it stable once more, with a new content fingerprint. These helpers recognise
 * that case: the study's content is that of an earlier done job plus exactly that job's results,
 * made by the model set loaded now, and still in the PACS. The job handler then completes the job
 * with the earlier outcome, and prepare-ahead does not prepare such content.
 */
import { TAG } from '../dicom/dictionary';
import { jsonString } from '../dicomweb/dicomJson';
import type { DicomWebClient } from '../dicomweb/types';
import type { StageIdentity } from '../inference/result';
import type { Job, JobStore } from '../jobs/jobStore';
import { studyContentFingerprint } from '../orthanc/studyFingerprint';
import { outcomeResultsOf } from './supersede';

/**
 * Whether a done job's results were made by these models: its outcome names each stage by role
 * (`outcome.localizer`, `outcome.classifier`, ...) with the sha256 of the model that ran.
 */
export function madeByModels(job: Job, models: readonly StageIdentity[]): boolean {
  const outcome = job.outcome as Record<string, { sha256?: unknown } | undefined> | undefined;
  return models.every((model) => outcome?.[model.role]?.sha256 === model.sha256);
}

/**
 * The study's content before `job` stored its results, as `present` tells it: without the job's
 * results, with the earlier results it deleted when it superseded them (supersede.ts).
 */
function contentBefore(job: Job, present: ReadonlySet<string>): string {
  const own = new Set(job.resultUids ?? []);
  const deleted = outcomeResultsOf(job)?.supersedes?.deleted;
  return studyContentFingerprint([...[...present].filter((uid) => !own.has(uid)), ...(Array.isArray(deleted) ? deleted.filter((uid): uid is string => typeof uid === 'string') : [])]);
}

/**
 * Among a study's jobs, the earlier done one whose content plus its own results is `present` (the
 * study's SOP Instance UIDs now), when its results were made by `models` and are all still there;
 * undefined otherwise. Its content may hold earlier results of the node (a result that superseded
 * them), or have lost them (deleted when superseded). Pure.
 */
export function findEarlierJobWithOwnResults(jobs: Job[], present: ReadonlySet<string>, models: readonly StageIdentity[], exceptJobId?: number): Job | undefined {
  const previous = jobs.filter((job) => job.id !== exceptJobId && job.state === 'done' && (job.resultUids?.length ?? 0) > 0);
  if (previous.length === 0) return undefined;
  const ownResults = new Set(previous.flatMap((job) => job.resultUids ?? []));
  const withoutOwn = studyContentFingerprint([...present].filter((uid) => !ownResults.has(uid)));
  return previous.find(
    (job) => madeByModels(job, models) && (job.resultUids ?? []).every((uid) => present.has(uid)) && (job.fingerprint === withoutOwn || job.fingerprint === contentBefore(job, present)),
  );
}

/** What the node knows of a study's own results before analysing it again. */
export interface StudyOwnResults {
  /** The earlier done job whose content plus its results is the study's content now (then nothing is analysed). */
  earlier?: Job;
  /** The study's jobs (newest first, at most 100). */
  jobs: Job[];
  /** The study's SOP Instance UIDs now; empty when no other done job has results (then nothing was asked). */
  present: Set<string>;
}

/**
 * The study's jobs and instances, and the earlier done job whose content plus its own results is
 * the study's content now, when its results were made by `models`. Asks the PACS (QIDO-RS) only
 * when another done job of the study has results.
 */
export async function studyOwnResults(store: JobStore, dicomWeb: DicomWebClient, job: Job, models: readonly StageIdentity[]): Promise<StudyOwnResults> {
  const { jobs } = await store.list({ studyInstanceUID: job.studyInstanceUID, limit: 100 });
  if (!jobs.some((other) => other.id !== job.id && other.state === 'done' && (other.resultUids?.length ?? 0) > 0)) return { jobs, present: new Set() };
  const instances = await dicomWeb.searchInstances(job.studyInstanceUID, undefined, [TAG.sopInstanceUID]);
  const present = new Set(instances.map((instance) => jsonString(instance, TAG.sopInstanceUID)).filter((uid): uid is string => uid !== undefined));
  const earlier = findEarlierJobWithOwnResults(jobs, present, models, job.id);
  return { ...(earlier ? { earlier } : {}), jobs, present };
}

/**
 * The earlier done job whose content plus its own results is the study's content now, when its
 * results were made by `models`; undefined otherwise.
 */
export async function earlierJobWithOwnResults(store: JobStore, dicomWeb: DicomWebClient, job: Job, models: readonly StageIdentity[]): Promise<Job | undefined> {
  return (await studyOwnResults(store, dicomWeb, job, models)).earlier;
}
