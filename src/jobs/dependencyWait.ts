/**
 * Waiting out an outage of what every job needs (for the node: the PACS), instead of spending the
 * jobs' attempts on it.
 *
 * When an attempt fails with a retryable error, the worker asks: does the dependency answer at
 * all? If it does, the failure belongs to this job and the retry policy counts it as usual (a
 * study whose WADO-RS always fails must not loop for ever). If it does not, the job goes back to
 * the queue without counting the attempt, the worker claims nothing more, and the dependency is
 * probed with a growing pause (2 s doubling to 30 s by default) until it answers; then the worker
 * resumes by itself. An outage of any length costs no job and needs no operator; the status page
 * and the metrics say what the node is waiting for, and since when.
 */
import { silentLogger, type Logger } from '../logging/logger';

export interface Dependency {
  /** What the jobs wait for, in words: e.g. "the PACS". */
  name: string;
  /** Resolves when the dependency answers; rejects when it does not. */
  check(): Promise<void>;
}

export interface DependencyWaitState {
  name: string;
  /** ISO time of the failure that started the wait. */
  since: string;
  /** Why: the failed job's error, then the latest probe's. */
  message: string;
}

export interface DependencyWaitOptions {
  /** Called once the dependency answers again. */
  onRecovered: () => void;
  logger?: Logger;
  /** A probe that takes longer counts as no answer (a hung server), in ms. Default 5000. */
  probeTimeoutMs?: number;
  /** First pause between probes, in ms; doubles up to maxProbeDelayMs. Default 2000. */
  firstProbeDelayMs?: number;
  maxProbeDelayMs?: number;
  now?: () => Date;
}

export class DependencyWait {
  private current: DependencyWaitState | undefined;
  private timer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private stopped = false;
  private readonly logger: Logger;

  constructor(
    private readonly dependency: Dependency,
    private readonly options: DependencyWaitOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.delayMs = options.firstProbeDelayMs ?? 2000;
  }

  /** What the worker waits for now; undefined when it does not wait. */
  get state(): DependencyWaitState | undefined {
    return this.current ? { ...this.current } : undefined;
  }

  get waiting(): boolean {
    return this.current !== undefined;
  }

  /**
   * After a retryable failure: true (and the wait begins, if it had not) when the dependency does
   * not answer; false when it does, so the failure is the job's own.
   */
  async isDown(failureMessage: string): Promise<boolean> {
    if (this.current) return true;
    const problem = await this.probe();
    if (problem === undefined) return false;
    if (this.current || this.stopped) return true;
    this.current = { name: this.dependency.name, since: (this.options.now ?? (() => new Date()))().toISOString(), message: `${failureMessage} (${problem})` };
    this.logger.warn(`waiting for ${this.dependency.name}: jobs stay queued and no attempt is counted until it answers`, { reason: this.current.message });
    this.delayMs = this.options.firstProbeDelayMs ?? 2000;
    this.schedule();
    return true;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** undefined when the dependency answered; else what went wrong. */
  private async probe(): Promise<string | undefined> {
    const timeoutMs = this.options.probeTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.dependency.check(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    } finally {
      clearTimeout(timer);
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.probeAgain(), this.delayMs);
    this.timer.unref();
    this.delayMs = Math.min(this.delayMs * 2, this.options.maxProbeDelayMs ?? 30_000);
  }

  private async probeAgain(): Promise<void> {
    const problem = await this.probe();
    if (this.stopped || !this.current) return;
    if (problem !== undefined) {
      this.current.message = `${this.current.message.replace(/ \(latest probe: .*\)$/, '')} (latest probe: ${problem})`;
      this.schedule();
      return;
    }
    const waitedMs = Date.now() - Date.parse(this.current.since);
    this.logger.info(`${this.dependency.name} answers again; the worker resumes`, { waitedMs });
    this.current = undefined;
    this.options.onRecovered();
  }
}
