/**
 * Follows Orthanc's change log (GET /changes) and turns each StableStudy into a job.
 *
 * - Polls on a node-cron schedule (config feed.pollSchedule); a poll still running when the next
 *   tick comes is not overlapped.
 * - Pages with `since`/`limit` until `Done`. Orthanc 1.10 ignores `filter=`, so StableStudy is
 *   picked out here.
 * - Each page's enqueues and the cursor after it are committed in one transaction
 *   (JobStore.commitChangesPage): after a crash or restart, polling resumes right after the last
 *   committed page, and a page is never half applied. A page re-read after a crash enqueues
 *   nothing twice, because enqueueing is idempotent on the study's content.
 * - When Orthanc cannot be read (PACS down), the page is not committed and the next poll tries
 *   it again.
 * - If Orthanc's newest change is older than the cursor, Orthanc's database was replaced (a new
 *   install, a restore): the cursor starts again from 0, and content already analysed is
 *   recognised by its fingerprint.
 * - With a `lease` (always, in `tsr-node serve`), it polls only while this node holds the job
 *   store's feed lease (feedLease.ts): of several nodes sharing a store, one follows /changes, and
 *   another takes over from the persisted cursor when it dies. Every node still takes webhooks.
 * - With an `activity` observer (prepare-ahead, pipeline/prepareAhead.ts), it also reports which
 *   studies are still receiving instances, in the order of the log: a NewStudy change names its
 *   study; a NewInstance carries only the instance's id, so the study of the last NewInstance of
 *   each page is looked up (one GET per page, not per instance); a StableStudy ends the study's
 *   activity. Best effort: a failed lookup is logged and costs the page nothing.
 */
import cron, { type ScheduledTask } from 'node-cron';
import { silentLogger, type Logger } from '../logging/logger';
import type { EnqueueRequest, IntakeEvent, JobStore } from '../jobs/jobStore';
import { FeedLeaseKeeper } from './feedLease';
import type { StudyIntake } from './intake';
import type { OrthancChange, OrthancRestClient } from './orthancRest';

export interface ChangeFeedOptions {
  store: JobStore;
  orthanc: OrthancRestClient;
  intake: StudyIntake;
  /** node-cron expression, six fields with seconds (config feed.pollSchedule). */
  pollSchedule: string;
  /** Changes per /changes page (config feed.pageSize). */
  pageSize: number;
  logger?: Logger;
  /** Called with each new job's id after its page is committed (e.g. `worker.wake()`). */
  onEnqueued?: (jobId: number) => void;
  /** Told which Orthanc studies are receiving instances, and which became stable (prepare-ahead). */
  activity?: StudyActivityObserver;
  /** Poll only while holding the store's feed lease as `owner` (config feed.leaseMs). */
  lease?: { owner: string; leaseMs: number };
}

/** Who wants to know that studies are still arriving (pipeline/prepareAhead.ts). */
export interface StudyActivityObserver {
  /** New instances (or a new study) arrived for this Orthanc study; `seq` is the change's sequence number. */
  studyActive(orthancStudyId: string, seq: number): void;
  /** Orthanc called the study stable. */
  studyStable(orthancStudyId: string): void;
}

export interface PollSummary {
  pages: number;
  changes: number;
  stableStudies: number;
  enqueued: number;
  recognised: number;
  deleted: number;
  /** The cursor after the poll. */
  cursor: number;
}

export const STABLE_STUDY = 'StableStudy';
const NEW_STUDY = 'NewStudy';
const NEW_INSTANCE = 'NewInstance';

export class ChangeFeed {
  private readonly logger: Logger;
  private task: ScheduledTask | undefined;
  private inFlight: Promise<PollSummary> | undefined;
  private stopped = false;
  private readonly lease: FeedLeaseKeeper | undefined;

  constructor(private readonly options: ChangeFeedOptions) {
    if (!cron.validate(options.pollSchedule)) throw new RangeError(`feed.pollSchedule is not a valid cron expression: "${options.pollSchedule}"`);
    this.logger = (options.logger ?? silentLogger).child({ component: 'change-feed' });
    this.lease = options.lease
      ? new FeedLeaseKeeper({ store: options.store, ...options.lease, logger: this.logger, onAcquired: () => void this.pollInBackground() })
      : undefined;
  }

  /** Whether this node follows /changes now: started, and holding the feed lease when there is one. */
  get following(): boolean {
    return this.task !== undefined && (this.lease?.held ?? true);
  }

  /** Starts polling on the schedule. */
  start(): void {
    if (this.task) return;
    this.stopped = false;
    const logger = this.logger;
    this.task = cron.createTask(this.options.pollSchedule, () => this.pollInBackground(), {
      name: 'tsr-node change feed',
      noOverlap: true,
      // node-cron's own messages (e.g. a missed tick) go to the node's JSON log, not the console.
      logger: {
        info: (message) => logger.debug(`node-cron: ${message}`),
        warn: (message) => logger.debug(`node-cron: ${message}`),
        error: (message) => logger.warn(`node-cron: ${String(message)}`),
        debug: (message) => logger.debug(`node-cron: ${String(message)}`),
      },
    });
    void this.task.start();
    this.lease?.start();
    this.logger.info('change feed started', { schedule: this.options.pollSchedule, ...(this.lease ? { leaseMs: this.options.lease?.leaseMs } : {}) });
  }

  /** Stops the schedule and waits for a poll in progress (its current page commits or not at all). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.task) {
      await this.task.destroy();
      this.task = undefined;
    }
    await this.inFlight?.catch(() => undefined);
    await this.lease?.stop();
  }

  /** One scheduled tick: polls unless a poll is still running; never throws. */
  private pollInBackground(): Promise<void> {
    if (this.inFlight || this.stopped || (this.lease && !this.lease.held)) return Promise.resolve();
    return this.poll().then(
      () => undefined,
      (err: unknown) => this.logger.warn('change feed poll failed; the next poll resumes from the last committed page', { err }),
    );
  }

  /** Reads every change after the cursor, page by page, until Orthanc says Done. */
  poll(): Promise<PollSummary> {
    if (this.inFlight) return this.inFlight;
    this.inFlight = this.pollPages().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async pollPages(): Promise<PollSummary> {
    const { store, orthanc, intake, pageSize } = this.options;
    let cursor = await store.getChangeCursor();
    const summary: PollSummary = { pages: 0, changes: 0, stableStudies: 0, enqueued: 0, recognised: 0, deleted: 0, cursor };
    for (;;) {
      // Stopped, or another node follows the feed now: the pages committed so far stand.
      if (this.stopped || (this.lease && !this.lease.held)) break;
      const page = await orthanc.getChanges(cursor, pageSize);
      summary.pages++;
      if (page.changes.length === 0 && page.last < cursor) {
        this.logger.warn("Orthanc's change log is behind the cursor (a new or restored Orthanc database); starting again from 0", { cursor, orthancLast: page.last });
        cursor = 0;
        await store.commitChangesPage({ cursor, enqueues: [], events: [], restart: true });
        continue;
      }
      const enqueues: EnqueueRequest[] = [];
      const events: IntakeEvent[] = [];
      for (const change of page.changes) {
        summary.changes++;
        if (change.ChangeType !== STABLE_STUDY) continue;
        summary.stableStudies++;
        // A failure here (PACS trouble) abandons the page uncommitted: it is read again next time.
        const resolution = await intake.resolveOrthancStudy(change.ID, 'feed');
        if (resolution.kind === 'enqueue') enqueues.push(resolution.request);
        else events.push({ ...resolution.event, message: `${resolution.event.message ?? ''} (change ${change.Seq})`.trim() });
      }
      const next = Math.max(cursor, page.last);
      if (next !== cursor || enqueues.length > 0 || events.length > 0) {
        const results = await store.commitChangesPage({ cursor: next, enqueues, events });
        for (const r of results) {
          if (r.created) {
            summary.enqueued++;
            this.logger.info('study enqueued from the change feed', { jobId: r.job.id, studyInstanceUID: r.job.studyInstanceUID, fingerprint: r.job.fingerprint });
            this.options.onEnqueued?.(r.job.id);
          } else {
            summary.recognised++;
          }
        }
        summary.deleted += events.length;
        for (const e of events) this.logger.warn('StableStudy for a study Orthanc no longer has', { orthancStudyId: e.orthancStudyId });
      }
      await this.reportActivity(page.changes);
      cursor = next;
      summary.cursor = cursor;
      if (page.done || page.changes.length === 0) break;
    }
    return summary;
  }

  /** Tells the activity observer, in log order, which studies are arriving and which are stable. */
  private async reportActivity(changes: OrthancChange[]): Promise<void> {
    const observer = this.options.activity;
    if (!observer || changes.length === 0) return;
    let lastInstance = -1;
    for (let i = changes.length - 1; i >= 0; i--) {
      if (changes[i].ChangeType === NEW_INSTANCE) {
        lastInstance = i;
        break;
      }
    }
    let instanceStudy: string | undefined;
    if (lastInstance >= 0) {
      try {
        instanceStudy = await this.options.orthanc.getInstanceStudyId(changes[lastInstance].ID);
      } catch (err) {
        this.logger.debug('cannot tell which study a new instance belongs to', { err });
      }
    }
    changes.forEach((change, i) => {
      if (change.ChangeType === NEW_STUDY) observer.studyActive(change.ID, change.Seq);
      else if (i === lastInstance && instanceStudy) observer.studyActive(instanceStudy, change.Seq);
      else if (change.ChangeType === STABLE_STUDY) observer.studyStable(change.ID);
    });
  }
}
