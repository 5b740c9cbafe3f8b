/**
 * Intake: the one way a study becomes a job, shared by the three doors in:
 * - the change feed (changeFeed.ts), for each StableStudy in Orthanc's /changes;
 * - the webhook that orthanc-config/tsr-node-webhook.lua calls on OnStableStudy
 *   (`onStableStudyNotification`);
 * - a manual trigger by StudyInstanceUID (`analyzeStudy`), via QIDO-RS, which also works for a
 *   PACS that is not Orthanc.
 *
 * Each resolves the study's content fingerprint (studyFingerprint.ts) and enqueues
 * idempotently on (StudyInstanceUID, fingerprint), so the three doors recognise each other's
 * work: a study announced by both the feed and the webhook is analysed once.
 */
import { TAG } from '../dicom/dictionary';
import { PermanentError } from '../errors';
import type { DicomWebClient } from '../dicomweb/types';
import { jsonString } from '../dicomweb/dicomJson';
import { assertUid } from '../dicomweb/qido';
import { silentLogger, type Logger } from '../logging/logger';
import type { EnqueueRequest, IntakeEvent, IntakeSource, Job, JobStore } from '../jobs/jobStore';
import { isOrthancId, type OrthancRestClient } from './orthancRest';
import { studyContentFingerprint } from './studyFingerprint';

export interface IntakeResult {
  /**
   * enqueued: new work. recognised: this content is already known (job returned as is).
   * requeued: known and finished, queued again on request (re-run). study-deleted / not-found:
   * the PACS no longer has (or never had) the study. ignored: the notification was malformed.
   */
  outcome: 'enqueued' | 'recognised' | 'requeued' | 'study-deleted' | 'not-found' | 'ignored';
  job?: Job;
  message?: string;
}

/** A StableStudy resolved against Orthanc: either work to enqueue or an event to record. */
export type OrthancStudyResolution = { kind: 'enqueue'; request: EnqueueRequest } | { kind: 'event'; event: IntakeEvent };

export interface StudyIntakeOptions {
  store: JobStore;
  orthanc: OrthancRestClient;
  dicomWeb: DicomWebClient;
  logger?: Logger;
  /** Called with every newly created job (e.g. `worker.wake()`). */
  onEnqueued?: (job: Job) => void;
}

export class StudyIntake {
  private readonly logger: Logger;

  constructor(private readonly options: StudyIntakeOptions) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'intake' });
  }

  /**
   * Reads what Orthanc has for one of its studies: StudyInstanceUID and content fingerprint.
   * A study deleted meanwhile (404) becomes an event, not an error. PACS trouble throws
   * (TransientError), so the caller can try again later.
   */
  async resolveOrthancStudy(orthancStudyId: string, source: IntakeSource): Promise<OrthancStudyResolution> {
    const study = await this.options.orthanc.getStudy(orthancStudyId);
    const sopInstanceUIDs = study ? await this.options.orthanc.getStudySopInstanceUIDs(orthancStudyId) : undefined;
    if (!study || !sopInstanceUIDs) {
      return { kind: 'event', event: { source, outcome: 'study-deleted', orthancStudyId, message: 'Orthanc no longer has this study (HTTP 404)' } };
    }
    return {
      kind: 'enqueue',
      request: { studyInstanceUID: study.studyInstanceUID, fingerprint: studyContentFingerprint(sopInstanceUIDs), orthancStudyId, source },
    };
  }

  /** For the webhook route: Orthanc's Lua script says a study became stable. */
  async onStableStudyNotification(notification: { orthancStudyId: string }): Promise<IntakeResult> {
    const { orthancStudyId } = notification;
    if (!isOrthancId(orthancStudyId)) {
      const message = 'the notification does not carry an Orthanc study id';
      await this.options.store.recordIntakeEvent({ source: 'webhook', outcome: 'ignored', message });
      return { outcome: 'ignored', message };
    }
    const resolution = await this.resolveOrthancStudy(orthancStudyId, 'webhook');
    if (resolution.kind === 'event') {
      await this.options.store.recordIntakeEvent(resolution.event);
      this.logger.warn('webhook for a study Orthanc no longer has', { orthancStudyId });
      return { outcome: 'study-deleted', message: resolution.event.message };
    }
    return this.enqueue(resolution.request);
  }

  /**
   * Manual trigger (HTTP API, CLI) by StudyInstanceUID, through QIDO-RS. With `rerun`, a known
   * study whose job has finished is queued again (results are deterministic, so a re-run
   * replaces rather than duplicates them in the PACS).
   */
  async analyzeStudy(studyInstanceUID: string, options: { rerun?: boolean } = {}): Promise<IntakeResult> {
    try {
      assertUid(studyInstanceUID, 'StudyInstanceUID');
    } catch (err) {
      if (err instanceof PermanentError) return { outcome: 'ignored', message: err.message };
      throw err;
    }
    const instances = await this.options.dicomWeb.searchInstances(studyInstanceUID, undefined, [TAG.sopInstanceUID]);
    const sopInstanceUIDs = instances.map((i) => jsonString(i, TAG.sopInstanceUID)).filter((u): u is string => u !== undefined);
    if (sopInstanceUIDs.length === 0) {
      const message = 'the PACS has no instances of this study';
      await this.options.store.recordIntakeEvent({ source: 'manual', outcome: 'not-found', studyInstanceUID, message });
      return { outcome: 'not-found', message };
    }
    const result = await this.enqueue({ studyInstanceUID, fingerprint: studyContentFingerprint(sopInstanceUIDs), source: 'manual' });
    if (result.outcome === 'recognised' && options.rerun && result.job) {
      const requeued = await this.options.store.requeue(result.job.id);
      if (requeued?.requeued) {
        this.logger.info('study queued again on request', { jobId: requeued.job.id, studyInstanceUID });
        this.options.onEnqueued?.(requeued.job);
        return { outcome: 'requeued', job: requeued.job };
      }
    }
    return result;
  }

  private async enqueue(request: EnqueueRequest): Promise<IntakeResult> {
    const { job, created } = await this.options.store.enqueue(request);
    this.logger.info(created ? 'study enqueued' : 'study content already known', {
      jobId: job.id,
      studyInstanceUID: job.studyInstanceUID,
      source: request.source,
      fingerprint: request.fingerprint,
    });
    if (created) this.options.onEnqueued?.(job);
    return { outcome: created ? 'enqueued' : 'recognised', job };
  }
}
