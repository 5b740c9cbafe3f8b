/**
 * Prepare-ahead: analyse a study while Orthanc still waits for it to become stable, and let the
 * job at StableStudy store the prepared results instead of analysing again.
 *
 * Orthanc calls a study stable StableAge seconds after its last instance; the node learns of new
 * instances from the change feed (orthanc/changeFeed.ts, `activity`). A study that has been quiet
 * for `quietMs` while this node's worker is idle is prepared: the whole pipeline
 * (analyseStudy.ts) with storing off. The content fingerprint (orthanc/studyFingerprint.ts) is
 * read before discovery starts and again after the results are built; only when both are equal is
 * the result kept (preparedResults.ts). The job (studyJobHandler.ts) uses it only for the same
 * StudyInstanceUID, the same fingerprint as its own (the content Orthanc called stable) and the same
 * models and settings; anything else is discarded and the job runs the full pipeline.
 *
 * A preparation never creates or changes a job, never stores anything in the PACS, and never
 * throws out of this module: a refusal or an error only means there is nothing prepared (the
 * job then records the proper outcome). Real work comes first: a preparation starts only when no
 * job runs or waits, and a job that starts while one runs aborts it, unless it is the same study
 * with the same content, which the job then waits for (that is never slower than starting over).
 * At most one preparation runs at a time.
 */
import { AnalysisRefusedError } from '../errors';
import { modelSetIdentities } from '../inference/modelSet';
import type { StageIdentity } from '../inference/result';
import type { Job, JobStore } from '../jobs/jobStore';
import { silentLogger, type Logger } from '../logging/logger';
import type { OrthancRestClient } from '../orthanc/orthancRest';
import { studyContentFingerprint } from '../orthanc/studyFingerprint';
import { analyseStudyPipeline, type StudyPipeline } from './analyseStudy';
import { DISCARD_REASONS, preparationKey, type Discarded, type PreparedResult, type PreparedResultCache } from './preparedResults';
import { findEarlierJobWithOwnResults } from './ownResults';
import { previousResultOf } from './supersede';

/** How prepared work ended, for tsr_prepared_ahead_total{outcome}. */
export type PreparedOutcome = 'used' | 'discarded' | 'failed';

export interface PrepareAheadOptions {
  pipeline: StudyPipeline;
  orthanc: OrthancRestClient;
  store: JobStore;
  cache: PreparedResultCache;
  /** A study is prepared once no new instance has been seen for this long (config feed.prepareAhead.quietSeconds). */
  quietMs: number;
  /** True when this node's worker runs nothing and no job waits. */
  isIdle: () => boolean | Promise<boolean>;
  logger?: Logger;
  /** Each prepared (or failed) preparation's end: used by a job, discarded, or failed. */
  onOutcome?: (outcome: PreparedOutcome) => void;
  /** Clock in ms (tests). */
  now?: () => number;
  /**
   * Studies remembered at most, in each of the two maps kept per Orthanc study (default 1000):
   * a study deleted while it arrived never becomes stable, and is not tried while the worker is
   * busy (a backlog), so without a bound these would grow with the studies seen.
   */
  maxTrackedStudies?: number;
}

interface Preparation {
  orthancStudyId: string;
  /** When the study was last seen active (to track it again if the preparation is aborted). */
  activeAt: number;
  studyInstanceUID?: string;
  /** The fingerprint read before discovery; resolves undefined when the preparation ends without one. */
  fingerprint: Promise<string | undefined>;
  setFingerprint: (fingerprint: string | undefined) => void;
  controller: AbortController;
  done: Promise<void>;
}

/** What the job learns from claim(). */
export interface PreparedClaim {
  entry?: PreparedResult;
  /** Why a prepared result of this study was not used (for the job's outcome). */
  discardedBecause?: string;
  /** How long the job waited for a preparation of its own study that was still running, in ms. */
  waitedMs?: number;
}

export class PrepareAhead {
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly maxTracked: number;
  readonly key: string;
  private readonly models: StageIdentity[];
  /** Orthanc study id -> when it was last seen receiving instances. */
  private readonly active = new Map<string, number>();
  /**
   * Orthanc study id -> Orthanc's newest change sequence number read just before the study's last
   * preparation read its fingerprint: changes up to it were in that content already. The feed
   * may report them only after the preparation began (the instances came between two polls), and
   * they must not set off another preparation of the same content.
   */
  private readonly preparedUpTo = new Map<string, number>();
  private current: Preparation | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly sweep: NodeJS.Timeout;
  private checking = false;
  private stopped = false;

  constructor(private readonly options: PrepareAheadOptions) {
    if (!(options.quietMs >= 0)) throw new RangeError('quietMs must not be negative');
    this.logger = (options.logger ?? silentLogger).child({ component: 'prepare-ahead' });
    this.now = options.now ?? Date.now;
    this.maxTracked = options.maxTrackedStudies ?? 1000;
    if (!Number.isInteger(this.maxTracked) || this.maxTracked < 1) throw new RangeError('maxTrackedStudies must be a positive integer');
    this.key = preparationKey(options.pipeline);
    this.models = modelSetIdentities(options.pipeline.models);
    // Prepared results that no job claims are let go after the cache's TTL.
    this.sweep = setInterval(() => this.report(this.options.cache.expire()), 60_000);
    this.sweep.unref();
  }

  /** Studies seen receiving instances and not yet prepared or stable. */
  get tracked(): number {
    return this.active.size;
  }

  /** The change feed saw new instances of this study (its newest change: `seq`). */
  studyActive(orthancStudyId: string, seq: number): void {
    if (this.stopped) return;
    if (seq <= (this.preparedUpTo.get(orthancStudyId) ?? -1)) return;
    this.track(orthancStudyId, this.now());
    this.schedule(this.options.quietMs);
  }

  /** Orthanc called the study stable, or its job was enqueued: its job takes over. */
  studyStable(orthancStudyId: string): void {
    this.active.delete(orthancStudyId);
    this.preparedUpTo.delete(orthancStudyId);
  }

  /** The worker became idle: look for a quiet study now. */
  wake(): void {
    if (this.active.size > 0) this.schedule(0);
  }

  /**
   * For a job about to run: stops a preparation of another study (or of other content) and waits
   * for it to let go, waits for one of this very content, then takes the study's prepared result
   * when it matches the job (same StudyInstanceUID, fingerprint, models and settings).
   */
  async claim(job: Job): Promise<PreparedClaim> {
    const claim: PreparedClaim = {};
    const running = this.current;
    if (running) {
      const sameStudy = running.studyInstanceUID === job.studyInstanceUID || (job.orthancStudyId !== undefined && running.orthancStudyId === job.orthancStudyId);
      const started = performance.now();
      // Its fingerprint is known a few ms after it starts (two REST requests).
      if (sameStudy && (await running.fingerprint) === job.fingerprint) {
        this.logger.info('waiting for the preparation of this study', { jobId: job.id, studyInstanceUID: job.studyInstanceUID });
        await running.done;
        claim.waitedMs = performance.now() - started;
      } else {
        running.controller.abort(Object.assign(new Error('a job needs the worker'), { name: 'AbortError' }));
        await running.done;
        this.logger.debug('preparation aborted for a job', { jobId: job.id, studyInstanceUID: job.studyInstanceUID, abortWaitMs: Math.round(performance.now() - started) });
      }
    }
    const { entry, discarded } = this.options.cache.take(job.studyInstanceUID, job.fingerprint, this.key);
    if (discarded) {
      this.report([discarded], job.id);
      claim.discardedBecause = DISCARD_REASONS[discarded.reason];
    }
    if (entry) {
      this.options.onOutcome?.('used');
      claim.entry = entry;
    }
    return claim;
  }

  /** Aborts a preparation in progress and prepares nothing more. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.sweep);
    this.active.clear();
    const running = this.current;
    running?.controller.abort(Object.assign(new Error('the node is stopping'), { name: 'AbortError' }));
    await running?.done;
    this.options.cache.clear();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(), Math.max(0, delayMs));
    this.timer.unref();
  }

  /** Starts the preparation of the study quiet the longest, if any is quiet and the worker idle. */
  private async check(): Promise<void> {
    if (this.stopped || this.current || this.checking) return;
    this.checking = true;
    try {
      this.report(this.options.cache.expire());
      const now = this.now();
      let pick: [string, number] | undefined;
      let nextDue = Infinity;
      for (const [id, at] of this.active) {
        if (now - at >= this.options.quietMs) {
          if (!pick || at < pick[1]) pick = [id, at];
        } else nextDue = Math.min(nextDue, at + this.options.quietMs - now);
      }
      if (!pick) {
        if (nextDue < Infinity) this.schedule(nextDue);
        return;
      }
      // Real jobs first; the worker's end of an attempt wakes us again.
      if (!(await this.options.isIdle())) return;
      if (this.stopped || this.current) return;
      const orthancStudyId = pick[0];
      this.active.delete(orthancStudyId);
      let setFingerprint: (fingerprint: string | undefined) => void = () => undefined;
      const fingerprint = new Promise<string | undefined>((resolve) => (setFingerprint = resolve));
      const preparation: Preparation = { orthancStudyId, activeAt: pick[1], fingerprint, setFingerprint, controller: new AbortController(), done: Promise.resolve() };
      this.current = preparation;
      preparation.done = this.prepare(preparation).finally(() => {
        preparation.setFingerprint(undefined);
        this.current = undefined;
        if (this.active.size > 0) this.schedule(0);
      });
    } catch (err) {
      this.logger.warn('prepare-ahead check failed', { err });
    } finally {
      this.checking = false;
    }
  }

  /** One preparation; never throws. */
  private async prepare(p: Preparation): Promise<void> {
    const { orthanc, store, cache, pipeline } = this.options;
    const started = performance.now();
    let logger = this.logger.child({ orthancStudyId: p.orthancStudyId });
    try {
      const study = await orthanc.getStudy(p.orthancStudyId);
      // Gone, or stable already: its StableStudy is in the log and its job will come.
      if (!study || study.isStable) return;
      p.studyInstanceUID = study.studyInstanceUID;
      logger = logger.child({ studyInstanceUID: study.studyInstanceUID, prepareAhead: true });
      // Read before the fingerprint: every change up to it is in the content read next.
      this.rememberPreparedUpTo(p.orthancStudyId, await orthanc.getLastChangeSeq());
      const before = await orthanc.getStudySopInstanceUIDs(p.orthancStudyId);
      if (!before) return;
      p.controller.signal.throwIfAborted();
      const fingerprint = studyContentFingerprint(before);
      p.setFingerprint(fingerprint);
      if (cache.has(study.studyInstanceUID, fingerprint, this.key)) return;
      // Content a job already has (or our own results added to it): nothing to prepare.
      const { jobs } = await store.list({ studyInstanceUID: study.studyInstanceUID, limit: 100 });
      if (jobs.some((j) => j.fingerprint === fingerprint)) return;
      if (findEarlierJobWithOwnResults(jobs, new Set(before), this.models)) return;
      p.controller.signal.throwIfAborted();

      logger.info('preparing a study ahead of StableStudy', { fingerprint, instances: before.length });
      const stagesMs: Record<string, number> = {};
      const result = await analyseStudyPipeline({ ...pipeline, logger }, study.studyInstanceUID, {
        signal: p.controller.signal,
        store: false,
        // The SR names the study's standing earlier result, as the job's would (the job checks it is still the one).
        predecessorOf: (identity) => previousResultOf(jobs, new Set(before), identity.srSopInstanceUID)?.sr,
        onStage: (stage, ms) => {
          stagesMs[stage] = Math.round(((stagesMs[stage] ?? 0) + ms) * 10) / 10;
        },
      });
      const after = await orthanc.getStudySopInstanceUIDs(p.orthancStudyId);
      const preparedMs = performance.now() - started;
      if (!after || studyContentFingerprint(after) !== fingerprint) {
        // Instances came (or went) while it ran: the result may mix two contents. Keep nothing;
        // the feed reports the new activity and the study is prepared again once quiet.
        logger.info('study changed during its preparation; result discarded', { preparedMs: Math.round(preparedMs) });
        this.options.onOutcome?.('discarded');
        return;
      }
      const entry: PreparedResult = { studyInstanceUID: study.studyInstanceUID, fingerprint, preparationKey: this.key, result, preparedAt: this.now(), preparedMs, stagesMs };
      this.report(cache.put(entry));
      logger.info('study prepared ahead; its job will only store the results', { fingerprint, preparedMs: Math.round(preparedMs), stagesMs });
    } catch (err) {
      if (p.controller.signal.aborted) {
        logger.info('preparation aborted', { reason: (p.controller.signal.reason as Error | undefined)?.message });
        this.options.onOutcome?.('discarded');
        // Prepared again when the worker is idle (if it is not stable by then).
        if (!this.stopped && !this.active.has(p.orthancStudyId)) this.track(p.orthancStudyId, p.activeAt);
      } else if (err instanceof AnalysisRefusedError) {
        // The job at StableStudy records the refusal properly.
        logger.info('preparation refused; the job will record why', { code: err.code });
        this.options.onOutcome?.('failed');
      } else {
        logger.warn('preparation failed; the job will analyse the study in full', { err });
        this.options.onOutcome?.('failed');
      }
    }
  }

  /** Tracks a study as arriving; newest last, so the one dropped beyond the bound is the one seen the longest ago. */
  private track(orthancStudyId: string, activeAt: number): void {
    this.active.delete(orthancStudyId);
    this.active.set(orthancStudyId, activeAt);
    if (this.active.size > this.maxTracked) this.active.delete(this.active.keys().next().value!);
  }

  private rememberPreparedUpTo(orthancStudyId: string, seq: number): void {
    this.preparedUpTo.delete(orthancStudyId);
    this.preparedUpTo.set(orthancStudyId, seq);
    // Bounded: studies that never become stable (deleted, or announced only by the webhook) age out.
    if (this.preparedUpTo.size > this.maxTracked) this.preparedUpTo.delete(this.preparedUpTo.keys().next().value!);
  }

  private report(discarded: Discarded[], jobId?: number): void {
    for (const d of discarded) {
      this.logger.info('prepared result discarded', {
        studyInstanceUID: d.entry.studyInstanceUID,
        reason: d.reason,
        ...(jobId !== undefined ? { jobId } : {}),
      });
      this.options.onOutcome?.('discarded');
    }
  }
}
