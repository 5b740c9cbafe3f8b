/**
 * The worker loop: claims due jobs from the store, at most `concurrency` at once, runs a handler
 * on each, and records how each attempt ended (retryPolicy.ts decides). Generic: the analysis
 * pipeline is one handler among others, wired in by the caller.
 *
 * While a job runs, its lease is renewed every third of `leaseMs`. A worker that loses its lease
 * (it stalled longer than the lease and another worker took the job) aborts the handler's signal
 * and records nothing: the new holder owns the job now. So does a worker whose renewals fail (the
 * store does not answer) before the lease can have run out in the store's clock, counted from
 * the moment it sent the last renewal that succeeded: another node may claim the job after that,
 * and two holders must never store a study's results at once.
 *
 * `stop()` claims nothing more and lets running jobs finish. After its timeout, it aborts them
 * and puts them back in the queue (`release`: the interrupted attempt does not count).
 *
 * With a `dependency` (the PACS), an attempt that fails with a retryable error while the
 * dependency does not answer goes back to the queue uncounted, and the worker claims nothing until
 * the dependency answers again (dependencyWait.ts): an outage of any length fails no job.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { silentLogger, type Logger } from '../logging/logger';
import { DependencyWait, type Dependency, type DependencyWaitState } from './dependencyWait';
import type { Job, JobStore, JsonValue } from './jobStore';
import { isRetryable } from '../errors';
import { decideOnFailure, exhaustedBeforeStart, failureMessage, type RetryPolicyConfig } from './retryPolicy';

export interface JobOutcome {
  outcome?: JsonValue;
  resultUids?: string[];
  timingsMs?: Record<string, number>;
}

export interface JobContext {
  /** Aborted when the worker stops past its timeout or loses the job's lease. */
  signal: AbortSignal;
  /** Renews the lease now (it is also renewed automatically); false when the lease is lost. */
  heartbeat(): Promise<boolean>;
  /** Records the selection explanation and stage timings as they become known. */
  recordProgress(progress: { selection?: JsonValue; timingsMs?: Record<string, number> }): Promise<void>;
  /** Carries jobId and studyInstanceUID. */
  logger: Logger;
}

export type JobHandler = (job: Job, context: JobContext) => Promise<JobOutcome>;

/** How one attempt ended, for metrics and tests ('waiting': back in the queue uncounted, the dependency is down). */
export type AttemptResult = 'done' | 'skipped' | 'retry' | 'failed' | 'released' | 'lease-lost' | 'waiting';

export interface WorkerOptions extends RetryPolicyConfig {
  store: JobStore;
  handler: JobHandler;
  /** Jobs run at once (config worker.concurrency). */
  concurrency: number;
  /** Lease per claim, in ms (config worker.leaseMs). */
  leaseMs: number;
  /** Identity in leases; default host:pid:random. */
  owner?: string;
  /** How often an idle worker looks for due jobs, in ms. Default 1000. */
  pollIntervalMs?: number;
  logger?: Logger;
  now?: () => Date;
  /** Called after each attempt (metrics: jobs by outcome, durations). */
  onAttemptEnd?: (job: Job, result: AttemptResult, durationMs: number) => void;
  /** What every job needs (the PACS): its outage is waited out instead of counted. */
  dependency?: Dependency;
  /** Probe timing of the dependency wait (tests). */
  dependencyProbe?: { firstDelayMs?: number; maxDelayMs?: number; timeoutMs?: number };
}

interface Running {
  job: Job;
  controller: AbortController;
  /** Set when stop() timed out: the job goes back to the queue. */
  interrupted: boolean;
  leaseLost: boolean;
  /** performance.now() until which the lease is surely held: the last successful claim or renewal was sent leaseMs before. */
  leaseSureUntil: number;
  done: Promise<void>;
}

export class Worker {
  readonly owner: string;
  private readonly running = new Map<number, Running>();
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly pollIntervalMs: number;
  private started = false;
  private stopping = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private pumping = false;
  private pumpAgain = false;
  private claimFailing = false;
  private readonly dependencyWait: DependencyWait | undefined;

  constructor(private readonly options: WorkerOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new RangeError('worker concurrency must be a positive integer');
    this.owner = options.owner ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.logger = (options.logger ?? silentLogger).child({ worker: this.owner });
    this.now = options.now ?? (() => new Date());
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    const probe = options.dependencyProbe ?? {};
    this.dependencyWait = options.dependency
      ? new DependencyWait(options.dependency, {
          onRecovered: () => this.wake(),
          logger: this.logger,
          ...(probe.firstDelayMs !== undefined ? { firstProbeDelayMs: probe.firstDelayMs } : {}),
          ...(probe.maxDelayMs !== undefined ? { maxProbeDelayMs: probe.maxDelayMs } : {}),
          ...(probe.timeoutMs !== undefined ? { probeTimeoutMs: probe.timeoutMs } : {}),
          now: this.now,
        })
      : undefined;
  }

  /** What the worker waits for before it claims again (the PACS is down); undefined when it does not wait. */
  get waitingFor(): DependencyWaitState | undefined {
    return this.dependencyWait?.state;
  }

  /** Jobs running now. */
  get active(): number {
    return this.running.size;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.logger.info('worker started', { concurrency: this.options.concurrency });
    this.wake();
  }

  /** Look for due jobs now (e.g. right after an enqueue) instead of at the next poll. */
  wake(): void {
    if (!this.started || this.stopping) return;
    void this.pump();
  }

  /**
   * Claims nothing more, waits for running jobs up to `timeoutMs`, then aborts the rest and
   * returns them to the queue. Resolves when every job has been settled in the store.
   */
  async stop(options: { timeoutMs?: number } = {}): Promise<void> {
    this.stopping = true;
    clearTimeout(this.pollTimer);
    this.dependencyWait?.stop();
    const timeoutMs = options.timeoutMs ?? 30_000;
    const all = (): Promise<void[]> => Promise.all([...this.running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.logger.warn('stop: returning unfinished jobs to the queue', { jobs: [...this.running.keys()] });
      await Promise.all(
        [...this.running.values()].map(async (r) => {
          r.interrupted = true;
          r.controller.abort(Object.assign(new Error('the worker is stopping'), { name: 'AbortError' }));
          if (await this.options.store.release(r.job.id, this.owner)) this.options.onAttemptEnd?.(r.job, 'released', 0);
        }),
      );
      // Handlers that honour their signal end promptly; one that does not is left behind, and
      // can no longer write to the job (its lease is gone).
      await Promise.race([all(), new Promise((r) => setTimeout(r, 1000))]);
    }
    this.logger.info('worker stopped');
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        clearTimeout(this.pollTimer);
        while (!this.stopping && !this.dependencyWait?.waiting && this.running.size < this.options.concurrency) {
          let job: Job | undefined;
          const claimSentAt = performance.now();
          try {
            job = await this.options.store.claim({ owner: this.owner, leaseMs: this.options.leaseMs });
          } catch (err) {
            // Once per outage of the store, not once a poll; it is tried again at the next poll.
            if (!this.claimFailing) this.logger.error('cannot claim a job from the store; trying again at each poll', { err });
            this.claimFailing = true;
            break;
          }
          if (this.claimFailing) this.logger.info('the store answers claims again');
          this.claimFailing = false;
          if (!job) break;
          this.begin(job, claimSentAt + this.options.leaseMs);
        }
      } while (this.pumpAgain && !this.stopping);
    } finally {
      this.pumping = false;
    }
    if (!this.stopping) {
      clearTimeout(this.pollTimer);
      this.pollTimer = setTimeout(() => void this.pump(), this.pollIntervalMs);
    }
  }

  private begin(job: Job, leaseSureUntil: number): void {
    const entry: Running = { job, controller: new AbortController(), interrupted: false, leaseLost: false, leaseSureUntil, done: Promise.resolve() };
    this.running.set(job.id, entry);
    entry.done = this.runAttempt(entry).finally(() => {
      this.running.delete(job.id);
      this.wake();
    });
  }

  private async runAttempt(entry: Running): Promise<void> {
    const { job, controller } = entry;
    const { store } = this.options;
    const logger = this.logger.child({ jobId: job.id, studyInstanceUID: job.studyInstanceUID });
    const started = Date.now();
    const end = (result: AttemptResult): void => {
      logger.info('job attempt ended', { result, attempt: job.attempts, durationMs: Date.now() - started });
      this.options.onAttemptEnd?.(job, result, Date.now() - started);
    };

    try {
      const exhausted = exhaustedBeforeStart(job.attempts, this.options);
      if (exhausted) {
        if (await store.deadLetter(job.id, this.owner, exhausted)) end('failed');
        return;
      }

      const abandon = (why: string): void => {
        if (entry.leaseLost || entry.interrupted) return;
        entry.leaseLost = true;
        logger.warn(why);
        controller.abort(Object.assign(new Error('lease lost'), { name: 'AbortError' }));
      };
      const heartbeat = async (): Promise<boolean> => {
        if (entry.leaseLost || entry.interrupted) return false;
        const sentAt = performance.now();
        const held = await store.heartbeat(job.id, this.owner, this.options.leaseMs);
        if (held) entry.leaseSureUntil = Math.max(entry.leaseSureUntil, sentAt + this.options.leaseMs);
        else abandon('lease lost; abandoning the job to its new holder');
        return held;
      };
      const beatMs = Math.max(10, Math.floor(this.options.leaseMs / 3));
      const beat = setInterval(
        () =>
          void heartbeat().catch((err: unknown) => {
            logger.warn('heartbeat failed', { err });
            // The next renewal would come too late: the lease may run out before it, and another node take the job.
            if (performance.now() + beatMs >= entry.leaseSureUntil) abandon('the job store does not answer and the lease may run out before the next renewal; abandoning the job (it comes back when the lease has run out)');
          }),
        beatMs,
      );
      logger.info('job attempt started', { attempt: job.attempts });
      let outcome: JobOutcome | undefined;
      let failure: unknown;
      let threw = false;
      try {
        outcome = await this.options.handler(job, {
          signal: controller.signal,
          heartbeat,
          logger,
          recordProgress: async (progress) => {
            await store.recordProgress(job.id, this.owner, progress);
          },
        });
      } catch (err) {
        threw = true;
        failure = err;
      } finally {
        clearInterval(beat);
      }

      if (entry.interrupted) return; // stop() has released it
      if (entry.leaseLost) {
        end('lease-lost');
        return;
      }
      if (!threw) {
        if (await store.complete(job.id, this.owner, outcome ?? {})) end('done');
        else end('lease-lost');
        return;
      }
      if (isRetryable(failure) && this.dependencyWait && (await this.dependencyWait.isDown(failureMessage(failure)))) {
        // Not the job's fault: back in the queue without counting the attempt.
        logger.warn(`job attempt failed while ${this.dependencyWait.state?.name ?? 'a dependency'} does not answer; back in the queue, attempt not counted`);
        end((await store.release(job.id, this.owner)) ? 'waiting' : 'lease-lost');
        return;
      }
      const decision = decideOnFailure(failure, job.attempts, this.options, this.now());
      logger.warn('job attempt failed', { decision: decision.action, code: decision.reason.code, reason: decision.reason.message });
      let recorded: boolean;
      if (decision.action === 'skip') recorded = await store.skip(job.id, this.owner, decision.reason);
      else if (decision.action === 'retry') recorded = await store.retry(job.id, this.owner, decision.reason, decision.notBefore);
      else recorded = await store.deadLetter(job.id, this.owner, decision.reason);
      end(!recorded ? 'lease-lost' : decision.action === 'skip' ? 'skipped' : decision.action === 'retry' ? 'retry' : 'failed');
    } catch (err) {
      // The store itself failed; the lease will expire and the job come back.
      logger.error('cannot record the end of a job attempt', { err });
    }
  }
}
