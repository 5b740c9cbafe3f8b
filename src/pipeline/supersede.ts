/**
 * Results that say when they are superseded (docs/dicom-conformance.md 3.4.1). When a study that
 * already has results of this node gets new ones (new input, or a new model: new UIDs), the new
 * SR names the standing earlier SR in its Predecessor Documents Sequence, the earlier jobs are
 * marked `outcome.results.supersededBy`, the new job's outcome says `results.supersedes`, and, when
 * the administrator chose `results.superseded: delete`, the earlier SR, SC and SEG are deleted
 * from Orthanc.
 *
 * The standing earlier result is read from the node's records, as ownResults.ts does: the newest
 * done job of the study whose results are in the PACS and whose SR is not the one about to be
 * written. The same input and models give the same UIDs, so a re-run finds its own SR there and
 * stores nothing, and supersedes nothing new.
 */
import { SOP_CLASS } from '../dicom/dictionary';
import type { Job, JobStore, JsonValue } from '../jobs/jobStore';
import { silentLogger, type Logger } from '../logging/logger';
import type { PredecessorDocument } from '../results/sr/tsrStructuredReport';

/** config results.superseded: keep the earlier results and record them superseded, or delete them from the PACS. */
export type SupersededMode = 'keep' | 'delete';

/** What a done job's outcome says of its results (studyJobHandler.ts jobOutcomeOf). */
interface OutcomeResults {
  srSeriesInstanceUID?: string;
  srSopInstanceUID?: string;
  storedToPacs?: boolean;
  supersededBy?: JsonValue;
  /** What this job's result superseded (supersedePrevious's answer). */
  supersedes?: { deleted?: unknown };
}

/** The standing earlier result of a study: its job and its SR. */
export interface PreviousResult {
  job: Job;
  sr: PredecessorDocument;
}

/** Deletes one instance from the PACS by SOP Instance UID (OrthancRestClient.deleteInstance); false when it was not there. */
export interface InstanceDeleter {
  deleteInstance(sopInstanceUID: string): Promise<boolean>;
}

export function outcomeResultsOf(job: Job): OutcomeResults | undefined {
  const outcome = job.outcome;
  if (!outcome || typeof outcome !== 'object' || Array.isArray(outcome)) return undefined;
  const results = outcome.results;
  return results && typeof results === 'object' && !Array.isArray(results) ? results : undefined;
}

/**
 * The standing earlier result of the study beside the SR `srSopInstanceUID` about to be written:
 * the newest done job (other than `exceptJobId`) whose results are in the PACS (`resultUids`),
 * whose SR is in `present` (the study's SOP Instance UIDs now) and is not that SR; when that job
 * repeated an earlier job's outcome (`sameAsJobId`), the earlier job, which made the result. Pure.
 */
export function previousResultOf(jobs: readonly Job[], present: ReadonlySet<string>, srSopInstanceUID: string, exceptJobId?: number): PreviousResult | undefined {
  const candidates = jobs
    .filter((job) => job.id !== exceptJobId && job.state === 'done')
    .map((job) => ({ job, results: outcomeResultsOf(job) }))
    .filter(({ job, results }) => {
      const sr = results?.srSopInstanceUID;
      return sr !== undefined && sr !== srSopInstanceUID && results?.srSeriesInstanceUID !== undefined && (job.resultUids ?? []).includes(sr) && present.has(sr);
    })
    .sort((a, b) => b.job.id - a.job.id);
  const latest = candidates[0];
  if (!latest) return undefined;
  // A job that repeated an earlier job's outcome (our own results came back) points at the job that made the result.
  const madeBy = (latest.job.outcome as { sameAsJobId?: unknown }).sameAsJobId;
  const newest = candidates.find(({ job, results }) => job.id === madeBy && results?.srSopInstanceUID === latest.results?.srSopInstanceUID) ?? latest;
  return {
    job: newest.job,
    sr: {
      studyInstanceUID: newest.job.studyInstanceUID,
      seriesInstanceUID: newest.results!.srSeriesInstanceUID!,
      sopClassUID: SOP_CLASS.comprehensive3dSrStorage,
      sopInstanceUID: newest.results!.srSopInstanceUID!,
    },
  };
}

/**
 * What a re-run of a result that superseded another keeps saying (its SR is the same, and the
 * earlier result may be gone from the PACS): the earlier job marked superseded by this SR. Pure.
 */
export function recordedSupersedes(jobs: readonly Job[], srSopInstanceUID: string): Record<string, JsonValue> | undefined {
  const earlier = jobs
    .map((job) => ({ job, results: outcomeResultsOf(job) }))
    .filter(({ results }) => {
      const by = results?.supersededBy;
      return by !== null && typeof by === 'object' && !Array.isArray(by) && by.srSopInstanceUID === srSopInstanceUID;
    })
    .sort((a, b) => b.job.id - a.job.id)[0];
  if (!earlier?.results?.srSopInstanceUID) return undefined;
  const by = earlier.results.supersededBy as Record<string, JsonValue>;
  const instances = earlier.job.resultUids ?? [];
  return {
    jobId: earlier.job.id,
    srSopInstanceUID: earlier.results.srSopInstanceUID,
    instances,
    action: by.action ?? 'kept',
    // Deleted when the result was first stored (the instances the earlier job had stored).
    ...(by.action === 'deleted' ? { deleted: instances } : {}),
    recordedAt: by.at ?? null,
  };
}

export interface SupersedeOptions {
  store: JobStore;
  mode: SupersededMode;
  /** Needed for mode `delete`. */
  deleter?: InstanceDeleter;
  /** The job that wrote the new results. */
  jobId: number;
  /** The new SR (in the PACS now). */
  srSopInstanceUID: string;
  previous: PreviousResult;
  /** The study's jobs, as read before the analysis: every done job with the earlier SR is marked. */
  jobs: readonly Job[];
  now?: () => Date;
  logger?: Logger;
}

/**
 * Applies the superseding once the new results are in the PACS: deletes the earlier results
 * (mode `delete`; the SOP Instance UIDs the earlier job stored, and only those), marks each
 * done job of the study that holds the earlier SR, and returns what the new job's outcome keeps
 * as `results.supersedes`.
 */
export async function supersedePrevious(o: SupersedeOptions): Promise<Record<string, JsonValue>> {
  const logger = o.logger ?? silentLogger;
  const earlierSr = o.previous.sr.sopInstanceUID;
  // The SR last: should a deletion fail, the earlier SR is still there, so the job's next attempt finds the earlier result again.
  const instances = [...(o.previous.job.resultUids ?? [])].sort((a, b) => Number(a === earlierSr) - Number(b === earlierSr));
  const deleted: string[] = [];
  if (o.mode === 'delete') {
    if (!o.deleter) throw new Error('results.superseded is "delete" but no PACS client can delete');
    for (const uid of instances) if (await o.deleter.deleteInstance(uid)) deleted.push(uid);
  }
  const at = (o.now ?? (() => new Date()))().toISOString();
  const by: JsonValue = { jobId: o.jobId, srSopInstanceUID: o.srSopInstanceUID, at, action: o.mode === 'delete' ? 'deleted' : 'kept' };
  const holders = o.jobs.filter((job) => job.id !== o.jobId && job.state === 'done' && outcomeResultsOf(job)?.srSopInstanceUID === earlierSr);
  const marked: number[] = [];
  for (const job of holders) if (await o.store.markSuperseded(job.id, by)) marked.push(job.id);
  logger.info('earlier results of the study superseded', { supersededJobId: o.previous.job.id, earlierSr, action: by.action, deleted, markedJobIds: marked });
  return {
    jobId: o.previous.job.id,
    srSopInstanceUID: earlierSr,
    instances,
    action: o.mode === 'delete' ? 'deleted' : 'kept',
    ...(o.mode === 'delete' ? { deleted } : {}),
  };
}
