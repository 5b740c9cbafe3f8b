/**
 * Who follows Orthanc's change feed among the nodes that share a job store: Orthanc keeps no
 * cursor per reader (every reader of /changes sees every change), so one node at a time polls,
 * the one holding the store's feed lease (JobStore.acquireFeedLease).
 *
 * Every third of `leaseMs` the holder renews the lease and every other node asks for it; a node
 * gets it when nobody holds it, when its holder released it (a graceful stop), or when it ran out
 * (its holder died or lost the database). So a dead follower is replaced within about
 * `leaseMs` + `leaseMs` / 3, and the new follower goes on from the persisted cursor.
 *
 * The holder counts its lease from the moment it sent the last renewal that succeeded: when the
 * store does not answer, it stops polling before the lease can have run out in the store's clock
 * (after which another node may take it), and it tries to renew again on the next round.
 */
import type { JobStore } from '../jobs/jobStore';
import type { Logger } from '../logging/logger';

export interface FeedLeaseOptions {
  store: JobStore;
  /** The node's owner string, `<node id>/<boot id>`. */
  owner: string;
  /** config feed.leaseMs */
  leaseMs: number;
  logger: Logger;
  /** Called when this node has just become the follower (poll at once). */
  onAcquired: () => void;
}

export class FeedLeaseKeeper {
  private holding = false;
  /** performance.now() until which the lease is surely ours. */
  private validUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;
  private warnedUnreachable = false;

  constructor(private readonly options: FeedLeaseOptions) {}

  /** Whether this node follows the feed now. */
  get held(): boolean {
    return this.holding && performance.now() < this.validUntil;
  }

  start(): void {
    if (this.timer) return;
    this.stopped = false;
    const every = Math.max(100, Math.floor(this.options.leaseMs / 3));
    this.timer = setInterval(() => void this.runRound(), every);
    void this.runRound();
  }

  /** Stops asking; the holder gives the lease up so that another node takes it at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.round;
    if (!this.holding) return;
    this.holding = false;
    try {
      await this.options.store.releaseFeedLease(this.options.owner);
      this.options.logger.info('change feed lease released: another node may follow the feed now');
    } catch (err) {
      this.options.logger.warn('cannot release the change feed lease; another node takes it when it runs out', { err });
    }
  }

  private runRound(): Promise<void> {
    if (this.round || this.stopped) return this.round ?? Promise.resolve();
    this.round = this.renewOrAcquire().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  private async renewOrAcquire(): Promise<void> {
    const { store, owner, leaseMs, logger } = this.options;
    const sentAt = performance.now();
    const wasHeld = this.held;
    try {
      if (this.holding) {
        if (await store.renewFeedLease(owner, leaseMs)) {
          this.validUntil = sentAt + leaseMs;
          if (!wasHeld) logger.info('change feed lease renewed after the store answered again: this node follows the feed again');
        } else {
          this.holding = false;
          logger.warn('another node follows the change feed now; this node stops polling /changes');
        }
      }
      if (!this.holding && !this.stopped && (await store.acquireFeedLease(owner, leaseMs))) {
        this.holding = true;
        this.validUntil = sentAt + leaseMs;
        logger.info("this node follows Orthanc's change feed (it holds the feed lease)", { leaseMs });
        this.options.onAcquired();
      }
    } catch (err) {
      if (this.holding && !this.warnedUnreachable) {
        this.warnedUnreachable = true;
        logger.warn('the job store does not answer: this node stops polling /changes once its feed lease may have run out, until it can renew it', { err });
      } else logger.debug('cannot reach the job store for the change feed lease', { err });
      return;
    }
    this.warnedUnreachable = false;
  }
}
